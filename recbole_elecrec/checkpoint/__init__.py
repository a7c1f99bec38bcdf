"""Reading checkpoints into models, with one clear error when they do not fit.

Here: RecBole checkpoints and training states (``read_checkpoint``, ``load_model``,
``read_training_state``) and the data they were trained on (``token_fingerprint``). Beside it:
``format`` (what a checkpoint holds: plain data), ``allowlist`` (loading a file without calling
anything it names) and ``reference`` (the ELECRec authors' released state_dicts).
"""

import hashlib
import logging
import os
import re
from pathlib import Path

import pandas as pd

from recbole_elecrec.checkpoint.allowlist import UnsafeCheckpoint, load_checkpoint
from recbole_elecrec.checkpoint.format import restore_config


def load_model(model, checkpoint, source):
    """A checkpoint's weights and other parameters into ``model``, with one clear error when
    the weights do not fit."""
    check_fit(model, checkpoint["state_dict"], source)
    model.load_state_dict(checkpoint["state_dict"])
    model.load_other_parameter(checkpoint.get("other_parameter"))


def check_fit(model, state_dict, source):
    """One clear error when ``state_dict`` does not fit ``model`` (torch's lists every key)."""
    own = model.state_dict()
    check_shapes(own, state_dict, source)
    missing = sorted(set(own) - set(state_dict))
    unexpected = sorted(set(state_dict) - set(own))
    if missing or unexpected:
        raise ValueError(
            f"{source} does not fit this model: missing {missing[:3]}, unexpected {unexpected[:3]}"
        )


def check_shapes(own, state_dict, source):
    """One clear error for the first weight of ``state_dict`` whose shape is not ``own``'s."""
    for key, value in state_dict.items():
        if key in own and own[key].shape != value.shape:
            raise ValueError(
                f"{source} does not fit this model and dataset: {key} has shape "
                f"{tuple(value.shape)}, expected {tuple(own[key].shape)} (other dataset or sizes?)"
            )


def read_checkpoint(path):
    """A RecBole checkpoint dict, or one clear error."""
    if not Path(path).is_file():
        raise ValueError(f"checkpoint not found: {path}")
    try:
        checkpoint = load_checkpoint(path)
    except UnsafeCheckpoint as error:
        raise ValueError(f"{path} is refused: {error}") from None
    except Exception as error:  # torch raises many types for a file that is not a checkpoint
        raise ValueError(f"{path} is not a readable PyTorch checkpoint ({error})") from None
    if not isinstance(checkpoint, dict) or "state_dict" not in checkpoint:
        raise ValueError(f"{path} is not a RecBole checkpoint (no 'state_dict' entry)")
    return checkpoint


def saved_config(checkpoint, path):
    """The ``Config`` a checkpoint was trained with, or one clear error (a bare state_dict has
    none: nothing says which model, dataset and settings its weights belong to)."""
    return restore_config(checkpoint.get("config"), path)


def token_fingerprint(dataset):
    """sha256 of the dataset's user and of its item tokens in id order (a model's rows, item
    embeddings and user ids, mean those tokens only under the same token-to-id mapping, which
    RecBole rebuilds from the data file on every load), and of its interactions as loaded
    (``interactions_fingerprint``, where the dataset class computes it)."""
    fields = {"item": dataset.iid_field, "user": dataset.uid_field}
    fingerprint = {
        field: hashlib.sha256("\n".join(map(str, dataset.field2id_token[name])).encode())
        .hexdigest() for field, name in fields.items() if name}
    interactions = getattr(dataset, "interactions_fingerprint", None)
    if interactions:
        fingerprint["interactions"] = interactions
    return fingerprint


def interactions_fingerprint(dataset):
    """sha256 of a dataset's interactions as loaded (its ids and times, row by row), or None
    once they are no longer a table (after the split)."""
    frame = dataset.inter_feat
    if not isinstance(frame, pd.DataFrame):
        return None
    columns = [name for name in (dataset.uid_field, dataset.iid_field, dataset.time_field,
                                 dataset.label_field) if name and name in frame]
    hashed = pd.util.hash_pandas_object(frame[columns], index=False).to_numpy()
    return hashlib.sha256(hashed.tobytes()).hexdigest()


def check_tokens(checkpoint, dataset, path, changed_data="warn"):
    """Refuse a dataset whose token-to-id mapping is not the one ``checkpoint`` was trained
    with (its file edited or reordered since); interactions that changed under the same tokens
    (rows appended, times edited) are refused too with ``changed_data="refuse"`` (continuing a
    run), else warned about (evaluating a model). A checkpoint saved before fingerprints is
    loaded with a warning."""
    saved = checkpoint.get("token_fingerprint")
    if not isinstance(saved, dict):
        logging.getLogger().warning(
            f"{path} has no token fingerprint (saved by an older version): not checked that "
            f"dataset {dataset.dataset_name}'s ids are those the model was trained with")
        return
    now = token_fingerprint(dataset)
    differ = [field for field in ("item", "user") if field in now
              and saved.get(field) != now[field]]
    if differ:
        raise ValueError(
            f"{path}: dataset {dataset.dataset_name}'s {' and '.join(differ)} ids differ from "
            "those the model was trained with (its data file changed or was reordered since)")
    if "interactions" in saved and saved["interactions"] != now.get("interactions"):
        message = (f"{path}: dataset {dataset.dataset_name}'s interactions differ from those the "
                   "model was trained with (same users and items; rows added, removed or edited "
                   "since)")
        if changed_data == "refuse":
            raise ValueError(message)
        logging.getLogger().warning(message + ": its figures are not the trained run's")


# settings a continued run may change, as they cannot make it differ from an uninterrupted run
# with the new values: what is shown, where it runs, and how long training goes on (the epochs so
# far are the same under any epochs and stopping_step). Not checkpoint_dir: the run goes on
# writing its best model there, under the name its state holds (``best_model_file``)
RESUMABLE_CHANGES = frozenset({
    "training_state", "show_progress", "state", "loss_decimal_place",
    "metric_decimal_place", "log_wandb", "wandb_project", "save_dataset", "dataset_save_path",
    "save_dataloaders", "dataloaders_save_path", "gpu_id", "use_gpu", "device", "worker",
    "eval_batch_size", "single_spec", "local_rank", "nproc", "world_size", "ip", "port", "offset",
    "ddp_backend", "epochs", "stopping_step", "threads",
    "data_path",  # where the data lies: check_tokens checks it is the same data
})


def changed_settings(saved, current):
    """``{key: (saved value, current value)}`` for the training-relevant settings that differ."""
    saved, current = saved.final_config_dict, current.final_config_dict
    missing = "(unset)"
    return {
        key: (saved.get(key, missing), current.get(key, missing))
        for key in sorted((set(saved) | set(current)) - RESUMABLE_CHANGES)
        if saved.get(key, missing) != current.get(key, missing)
    }


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
