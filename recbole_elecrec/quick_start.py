"""One pipeline (config -> data -> model -> trainer) behind every entry point.

RecBole's own ``recbole.quick_start`` cannot find models outside RecBole (and imports ray);
these functions mirror its API for ELECRec and every built-in model.
"""

import logging
import os
import resource
import time
from pathlib import Path

import torch
import torch.distributed as dist
import torch.multiprocessing as mp
import yaml
from recbole.data import create_dataset as recbole_create_dataset
from recbole.data import data_preparation
from recbole.utils import init_logger, init_seed, set_color

import recbole
from recbole_elecrec.checkpoint import load_state, read_checkpoint
from recbole_elecrec.config import Config
from recbole_elecrec.data import ELECRecDataset, HistorySequentialDataset
from recbole_elecrec.data.prepare import PAPER_DATASETS, ensure_prepared
from recbole_elecrec.model import ELECRec
from recbole_elecrec.reference import convert_reference_state, read_reference_state
from recbole_elecrec.trainer import HISTORY_MASKS
from recbole_elecrec.utils import get_model, get_trainer, uses_history_dataset

RECBOLE_URLS = Path(recbole.__file__).parent / "properties" / "dataset" / "url.yaml"


def check_settings(config):
    """Reject bad settings before anything is loaded or written."""
    if config["history_mask"] not in HISTORY_MASKS:
        raise ValueError(
            f"history_mask must be one of {list(HISTORY_MASKS)}, got '{config['history_mask']}'"
        )
    check = getattr(get_model(config["model"]), "check_config", None)
    if check is not None:
        check(config)


def create_dataset(config):
    """The model's dataset; a missing paper dataset is prepared first."""
    name, data_dir = config["dataset"], Path(config["data_path"])
    ensure_prepared(name, data_dir)
    if not (data_dir / f"{name}.inter").is_file():
        known = yaml.safe_load(RECBOLE_URLS.read_text()) or {}
        if name not in known:
            raise ValueError(
                f"unknown dataset '{name}': {data_dir / (name + '.inter')} does not exist "
                f"(paper datasets: {', '.join(PAPER_DATASETS)}; or RecBole's ml-100k)"
            )
    if issubclass(get_model(config["model"]), ELECRec):
        return ELECRecDataset(config)
    if uses_history_dataset(config):
        return HistorySequentialDataset(config)
    return recbole_create_dataset(config)


def build(model=None, dataset=None, config_file_list=None, config_dict=None):
    """Config, data loaders, model and trainer, ready to fit or evaluate."""
    config = Config(model=model, dataset=dataset, config_file_list=config_file_list,
                    config_dict=config_dict)
    check_settings(config)
    init_seed(config["seed"], config["reproducibility"])
    data = create_dataset(config)
    train_data, valid_data, test_data = data_preparation(config, data)
    # the log file is opened only once the input has proven readable
    init_logger(config)
    logger = logging.getLogger()
    logger.info(config)
    logger.info(data)

    init_seed(config["seed"] + config["local_rank"], config["reproducibility"])
    model = get_model(config["model"])(config, train_data._dataset).to(config["device"])
    logger.info(model)
    trainer = get_trainer(config["MODEL_TYPE"], config["model"])(config, model)
    return config, trainer, (train_data, valid_data, test_data)


def log_file():
    """This process's RecBole log file, relative to the working directory (None before
    ``init_logger``): a run's full result is written beside it."""
    handlers = [h for h in logging.getLogger().handlers if isinstance(h, logging.FileHandler)]
    return os.path.relpath(handlers[0].baseFilename) if handlers else None


def run(model=None, dataset=None, config_file_list=None, config_dict=None, saved=True, nproc=1,
        world_size=-1, ip="localhost", port="5678", group_offset=0):
    """Train with early stopping on ``valid_metric``, then evaluate the best model on test.

    With ``nproc`` > 1 (or ``world_size`` > 0) this runs distributed: ``nproc`` processes here,
    ``world_size`` in all (several nodes: one call per node, with ``group_offset`` = the number
    of processes on the nodes before it); rank 0 returns the result.
    """
    if nproc == 1 and world_size <= 0:
        return _train_and_test(model, dataset, config_file_list, config_dict, saved)
    # settle bad settings here, once, rather than in every process
    check_settings(Config(model=model, dataset=dataset, config_file_list=config_file_list,
                          config_dict=config_dict))
    shared = {**(config_dict or {}), "world_size": nproc if world_size == -1 else world_size,
              "ip": ip, "port": port, "nproc": nproc, "offset": group_offset}
    queue = mp.get_context("spawn").SimpleQueue()
    mp.spawn(_run_rank, args=(model, dataset, config_file_list, shared, saved, queue),
             nprocs=nproc, join=True)
    return None if queue.empty() else queue.get()


def _run_rank(local_rank, model, dataset, config_file_list, config_dict, saved, queue):
    result = _train_and_test(model, dataset, config_file_list,
                             {**config_dict, "local_rank": local_rank}, saved)
    if local_rank == 0:
        queue.put(result)


def _train_and_test(model, dataset, config_file_list, config_dict, saved):
    config, trainer, (train_data, valid_data, test_data) = build(
        model, dataset, config_file_list, config_dict
    )
    start = time.time()
    best_valid_score, best_valid = trainer.fit(
        train_data, valid_data, saved=saved, show_progress=config["show_progress"]
    )
    train_seconds = time.time() - start + trainer.resumed_seconds
    test = trainer.evaluate(test_data, load_best_model=saved,
                            show_progress=config["show_progress"])
    logger = logging.getLogger()
    logger.info(set_color("best valid ", "yellow") + f": {best_valid}")
    logger.info(set_color("test result", "yellow") + f": {test}")
    if not config["single_spec"]:
        dist.destroy_process_group()
    return {
        "model": config["model"],
        "dataset": config["dataset"],
        "best_valid": dict(best_valid or {}),
        "test": dict(test),
        "train_seconds": round(train_seconds, 2),
        # the part of train_seconds that the runs a training_state continues took
        "resumed_seconds": round(trainer.resumed_seconds, 2),
        "checkpoint": trainer.saved_model_file if saved else None,
        "peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024),
        "device": str(config["device"]),
        "log_file": log_file(),
        "history": trainer.history,
        "config": dict(config.final_config_dict),
    }


def evaluate_checkpoint(path, model=None, dataset=None, config_file_list=None,
                        config_dict=None, reference=False, save_as=None):
    """Evaluate saved weights on the validation and test splits.

    ``path`` is a RecBole checkpoint, or with ``reference=True`` one of the ELECRec authors'
    released state_dicts. ``save_as`` also writes the loaded model as a RecBole checkpoint.
    """
    if reference:
        state = read_reference_state(path)
        model = model or "ELECRec"
        if model != "ELECRec":
            raise ValueError(f"a reference checkpoint holds an ELECRec model, not {model}")
    else:
        checkpoint = read_checkpoint(path)
        saved_config = checkpoint.get("config")
        if saved_config is not None:
            model = model or saved_config["model"]
            dataset = dataset or saved_config["dataset"]
            if saved_config["model"] != model:
                raise ValueError(f"{path} holds a {saved_config['model']} model, not {model}")
    config, trainer, (train_data, valid_data, test_data) = build(
        model, dataset, config_file_list, config_dict
    )
    if reference:
        state = convert_reference_state(state, trainer.model, train_data._dataset, path)
        trainer.model.load_state_dict(state, strict=False)
    else:
        load_state(trainer.model, checkpoint["state_dict"], path)
        trainer.model.load_other_parameter(checkpoint.get("other_parameter"))
    if save_as:
        trainer._save_checkpoint(-1, saved_model_file=str(save_as))
    return {
        "model": config["model"],
        "dataset": config["dataset"],
        "best_valid": dict(trainer.evaluate(valid_data, load_best_model=False)),
        "test": dict(trainer.evaluate(test_data, load_best_model=False)),
        "checkpoint": str(save_as or path),
        "log_file": log_file(),
        "config": dict(config.final_config_dict),
    }


def load_data_and_model(model_file):
    """Like RecBole's ``load_data_and_model``: the checkpoint's config, data and trained model.

    Returns ``(config, model, dataset, train_data, valid_data, test_data)``.
    """
    checkpoint = read_checkpoint(model_file)
    config = checkpoint["config"]
    # an unpickled Config skips __init__, which sets the numpy aliases RecBole's metrics use
    config.compatibility_settings()
    if not config["single_spec"]:  # saved by a distributed run: load it into this one process
        config["single_spec"], config["local_rank"] = True, 0
        config["device"] = torch.device(
            "cuda" if config["use_gpu"] and torch.cuda.is_available() else "cpu")
    init_seed(config["seed"], config["reproducibility"])
    data = create_dataset(config)
    train_data, valid_data, test_data = data_preparation(config, data)
    init_seed(config["seed"], config["reproducibility"])
    model = get_model(config["model"])(config, train_data._dataset).to(config["device"])
    load_state(model, checkpoint["state_dict"], model_file)
    model.load_other_parameter(checkpoint.get("other_parameter"))
    return config, model, data, train_data, valid_data, test_data

