"""Training states: a file with all that training needs to go on (weights, optimizer,
early-stopping counters, history, random states), rewritten after every validation, so that a
run started again with it continues with the results an uninterrupted run gives."""

import os
import random
import re
from pathlib import Path

import numpy as np
import torch

from recbole_elecrec.checkpoint import check_fit, check_tokens, load_model, read_checkpoint
from recbole_elecrec.checkpoint.format import contents, plain
from recbole_elecrec.checkpoint.settings import changed_settings, saved_config
from recbole_elecrec.files import atomic_path, remove_partials


def save_training_state(path, trainer, epoch_idx, train_data, seconds):
    """Write ``trainer``'s state after ``epoch_idx`` (``seconds`` of training in this run) to
    ``path``, whole or not at all."""
    state = plain({
        **contents(trainer, epoch_idx),
        "best_valid_result": trainer.best_valid_result,
        # its name: the run continuing it keeps it in its own checkpoint_dir
        "best_model_file": os.path.basename(trainer.saved_model_file),
        "history": trainer.history,
        "train_seconds": trainer.resumed_seconds + seconds,
        "random": {
            "python": random.getstate(),
            "numpy": np.random.get_state(),
            "torch": torch.get_rng_state(),
            "cuda": torch.cuda.get_rng_state_all() if torch.cuda.is_available() else [],
            "loader": train_data.generator.get_state(),
        },
    })
    Path(path).parent.mkdir(parents=True, exist_ok=True)
    with atomic_path(path) as partial:
        torch.save(state, partial)


def restore_training_state(path, trainer, train_data):
    """Put the training state in ``path`` (``read_training_state``) into ``trainer`` and the
    process's random generators."""
    state = read_training_state(path, trainer.config, trainer.model, train_data._dataset)
    resume(trainer, state, path)
    trainer.best_valid_result = state["best_valid_result"]
    trainer.saved_model_file = state["best_model_file"]  # the run it continues wrote it there
    remove_partials(trainer.saved_model_file)  # that run is gone: its state is held here
    trainer.checkpoint_files.adopt(trainer.saved_model_file)
    trainer.history = state["history"]
    trainer.resumed_seconds = state["train_seconds"]
    rng = state["random"]
    random.setstate(rng["python"])
    np.random.set_state(tuple(rng["numpy"]))
    torch.set_rng_state(rng["torch"])
    if rng["cuda"] and torch.cuda.is_available():
        torch.cuda.set_rng_state_all(rng["cuda"])
    train_data.generator.set_state(rng["loader"])


def resume(trainer, checkpoint, source):
    """What RecBole's ``resume_checkpoint`` restores (weights, optimizer, epoch and
    early-stopping counters), from a checkpoint read through the allowlist."""
    trainer.start_epoch = checkpoint["epoch"] + 1
    trainer.cur_step = checkpoint["cur_step"]
    trainer.best_valid_score = checkpoint["best_valid_score"]
    load_model(trainer.model, checkpoint, source)
    trainer.optimizer.load_state_dict(checkpoint["optimizer"])
    trainer.logger.info(f"Checkpoint loaded. Resume training from epoch {trainer.start_epoch}")


def read_training_state(path, config, model, dataset):
    """The training state in ``path``, refused unless it continues this very run.

    It must hold the same model, dataset (token-to-id mapping included) and training-relevant
    settings (a resumed optimizer would silently keep the old learning rate), fit ``model``, and
    its best model must still exist.
    """
    state = read_checkpoint(path)
    if "best_model_file" not in state:
        raise ValueError(f"{path} is not a training_state file (a plain RecBole checkpoint?)")
    saved = saved_config(state, path)
    if (saved["model"], saved["dataset"]) != (config["model"], config["dataset"]):
        raise ValueError(f"{path} continues {saved['model']} on {saved['dataset']}, not "
                         f"{config['model']} on {config['dataset']}")
    changed = changed_settings(saved, config)
    if changed:
        raise ValueError(f"{path} continues a run with other settings: " + "; ".join(
            f"{key} {before!r} there, {now!r} now" for key, (before, now) in changed.items()))
    check_fit(model, state["state_dict"], path)
    check_tokens(state, dataset, path, changed_data="refuse")
    state["best_model_file"] = best_model_file(state["best_model_file"], config, path)
    if state["best_valid_result"] is not None and not Path(state["best_model_file"]).is_file():
        raise ValueError(f"{path} continues a run whose best model "
                         f"{state['best_model_file']} is gone")
    return state


def best_model_file(saved, config, path):
    """Where the run a training state continues keeps its best model: the file of the name the
    state holds, in this run's ``checkpoint_dir``. A file a run writes is named by its own
    settings, never by a file it reads (older states held the whole path: its name is kept)."""
    name = os.path.basename(saved) if isinstance(saved, str) else ""
    if not re.fullmatch(rf"{re.escape(config['model'])}-[\w.-]+\.pth", name):
        raise ValueError(f"{path} names its best model {saved!r}, not a checkpoint name of "
                         f"this package ({config['model']}-....pth)")
    return os.path.join(config["checkpoint_dir"], name)
