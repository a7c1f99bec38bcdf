"""One pipeline (config -> data -> model -> trainer) behind every entry point.

RecBole's own ``recbole.quick_start`` cannot find models outside RecBole (and imports ray);
these functions mirror its API for ELECRec and every built-in model.
"""

import contextlib
import copy
import functools
import logging
import os
import resource
import time
from pathlib import Path

import torch
import torch.multiprocessing as mp
from torch.utils.flop_counter import FlopCounterMode
from recbole.data import create_dataset as recbole_create_dataset
from recbole.data import data_preparation
from recbole.data.transform import construct_transform
from recbole.utils import init_logger, init_seed, set_color

from recbole_elecrec.checkpoint import (check_tokens, interactions_fingerprint, load_model,
                                        read_checkpoint, token_fingerprint)
from recbole_elecrec.checkpoint.format import NotPlain, other_parameter
from recbole_elecrec.checkpoint.reference import convert_reference_state, read_reference_state
from recbole_elecrec.checkpoint.settings import (checkpoint_config, log_given_settings,
                                                 restored_config)
from recbole_elecrec.checkpoint.state import read_training_state
from recbole_elecrec.config import Config
from recbole_elecrec.data import ELECRecDataset, HistorySequentialDataset
from recbole_elecrec.data.download import ensure_dataset
from recbole_elecrec.data.inter_file import check_inter_file
from recbole_elecrec.distributed import finish, init_process_group, spawn
from recbole_elecrec.files import check_writable_dir
from recbole_elecrec.model import SASRecPlus
from recbole_elecrec.protocols import history_first_warning
from recbole_elecrec.rules import check_data_fits
from recbole_elecrec.trainer import evaluation_trainer, get_trainer
from recbole_elecrec.utils import get_model, uses_history_dataset


def own_dataset_class(config):
    """This package's dataset class for the model, or None where RecBole's serves it."""
    if issubclass(get_model(config["model"]), SASRecPlus):
        return ELECRecDataset
    if uses_history_dataset(config):
        return HistorySequentialDataset
    return None


def check_dataset(config):
    """Make the dataset's .inter file exist and hold the columns the settings name; settles
    ``load_col`` (``check_inter_file``). Bad data is refused here, before loading."""
    ensure_dataset(config)
    check_inter_file(config, file_order=own_dataset_class(config) is not None)


def create_dataset(config):
    """The model's dataset; a missing one is prepared or downloaded first."""
    check_dataset(config)
    dataset_class = own_dataset_class(config)
    return dataset_class(config) if dataset_class else recbole_create_dataset(config)


def build(model=None, dataset=None, config_file_list=None, config_dict=None, load_weights=None):
    """Config, data loaders, model and trainer, ready to fit or evaluate.

    Every input is checked before the log, tensorboard and checkpoint folders are created: the
    settings (by ``Config``), the data, a training_state to continue, and the weights that
    ``load_weights(model, train_dataset)`` puts into the model.
    """
    config = Config(model=model, dataset=dataset, config_file_list=config_file_list,
                    config_dict=config_dict)
    return build_from_config(config, load_weights)


def choose_threads(cores, load, processes=1):
    """Threads for each of ``processes`` on ``cores`` with ``load`` (1-minute load average) of
    other work: the free cores, shared, at least 1. torch's default, every core, oversubscribes a
    busy machine and slows each step many times over."""
    return max(1, (cores - round(load)) // processes)


# torch's own thread count (its physical cores, or OMP_NUM_THREADS), before a run sets another
TORCH_THREADS = torch.get_num_threads()


@functools.cache
def free_threads(processes):
    """``choose_threads`` for this machine, read once per process: later, the load average
    counts this process's own runs."""
    usable = os.sched_getaffinity(0) if hasattr(os, "sched_getaffinity") else range(TORCH_THREADS)
    cores = min(TORCH_THREADS, len(usable))
    load = os.getloadavg()[0]
    threads = choose_threads(cores, load, processes)
    return threads, f"{cores} cores, load {load:.1f}, {processes} process(es) of the run"


def set_threads(config):
    """Set torch's CPU threads from ``threads``, else OMP_NUM_THREADS (torch read it), else
    ``free_threads``; returns the line that says so."""
    if config["threads"]:
        torch.set_num_threads(config["threads"])
        return f"torch threads: {config['threads']} (the threads setting)"
    if os.environ.get("OMP_NUM_THREADS"):
        return f"torch threads: {torch.get_num_threads()} (OMP_NUM_THREADS)"
    threads, why = free_threads(config["nproc"] or 1)
    torch.set_num_threads(threads)
    return f"torch threads: {threads} ({why}; set threads or OMP_NUM_THREADS to choose)"


def build_from_config(config, load_weights=None, evaluate_only=False):
    """``build`` for a settled ``config``; ``evaluate_only``: a trainer that creates no
    checkpoint or tensorboard folder (``evaluation_trainer``)."""
    threads = set_threads(config)
    determinism = deterministic(config["reproducibility"])
    if not config["single_spec"]:
        init_process_group(config)
    data, loaded, (train_data, valid_data, test_data), model = data_and_model(config)
    flops = None
    if not evaluate_only and type(model).__module__.startswith("recbole.model."):
        # the CPR models' predict asserts, which ends RecBole's own run there and the count here
        with contextlib.suppress(AssertionError):
            flops = count_flops(model, data, config)
    if not evaluate_only:
        check_saveable(model)
    if load_weights is not None:
        load_weights(model, train_data._dataset)
    state = config["training_state"]
    if state and Path(state).is_file():
        read_training_state(state, config, model, train_data._dataset)

    # the folder RecBole's init_logger makes with exists-then-makedirs, which the processes of a
    # distributed run race through ("File exists")
    os.makedirs(os.path.join("log", config["model"]), exist_ok=True)
    init_logger(config)
    logger = logging.getLogger()
    logger.info(config)
    logger.info(loaded)
    logger.info(threads)
    if determinism:
        logger.info(determinism)
    if getattr(data, "order_note", None):  # once, now that the run's log exists
        logger.warning(data.order_note)
    if getattr(data, "duplicate_note", None):
        logger.warning(f"{config['dataset']}.inter: {data.duplicate_note}")
    for note in ("read_note", "column_note"):
        if getattr(data, note, None):
            logger.info(getattr(data, note))
    logger.info(model)
    if flops is not None:
        logger.info(set_color("FLOPs", "blue") + f": {flops}")
    trainer = (evaluation_trainer(config, model) if evaluate_only
               else get_trainer(config["MODEL_TYPE"], config["model"])(config, model))
    return config, trainer, (train_data, valid_data, test_data)


def count_flops(model, data, config):
    """The FLOPs of one row's ``predict``, counted as RecBole's ``run_recbole`` does before training
    (a copy of the model, in eval mode, on row 1 through the config's transform), so that training
    then follows the same draws of Python's ``random`` (BERT4Rec's masking transform). Counted by
    torch's ``FlopCounterMode`` (matrix products, 2 per multiply-add): RecBole's ``get_flops`` needs
    thop, which imports ``distutils``, gone from Python 3.12."""
    model = copy.deepcopy(model).eval()
    row = construct_transform(config)(data, data[torch.tensor([1])].to(config["device"]))
    with torch.no_grad(), FlopCounterMode(display=False) as counter:
        model.predict(row)
    return counter.get_total_flops()


def data_and_model(config):
    """The pipeline every run and every reader of a checkpoint shares: the dataset, the figures
    of its file as loaded (a sequential split then replaces its rows by one per user and
    prefix, each user's first interaction counted no more), its loaders and a fresh model,
    seeded as RecBole seeds them."""
    init_seed(config["seed"], config["reproducibility"])
    data = create_dataset(config)
    check_data_fits(config, data)
    loaded = str(data)
    # the splits are copies of it, and keep the fingerprint a checkpoint saves
    data.interactions_fingerprint = interactions_fingerprint(data)
    loaders = data_preparation(config, data)
    init_seed(config["seed"] + config["local_rank"], config["reproducibility"])
    model = get_model(config["model"])(config, loaders[0]._dataset).to(config["device"])
    return data, loaded, loaders, model


def check_saveable(model):
    """Refuse, before training, a model whose checkpoint could not be read back: checkpoints
    hold plain data and tensors (``checkpoint.format``), and some of RecBole's models keep
    their fitted state in other objects (ItemKNN a scipy matrix)."""
    try:
        other_parameter(model)
    except NotPlain as kind:
        raise ValueError(f"{type(model).__name__} keeps its fitted state as {kind}, which this "
                         "package's checkpoints do not hold (plain data and tensors only): "
                         "not supported here") from None


def deterministic(reproducibility):
    """Where ``reproducibility`` asks for it, torch's deterministic algorithms too (RecBole sets
    only cuDNN's flags): on a GPU, reruns and resumed runs then repeat their float sums; an op
    without a deterministic form warns rather than stops the run. Only ever turned on (a
    caller's own choice of them stays); returns the log line that says so, or None."""
    if not reproducibility:
        return None
    if torch.are_deterministic_algorithms_enabled():
        return "torch deterministic algorithms: on (already)"
    # cuBLAS reads this when CUDA starts: deterministic matrix products need its workspace
    os.environ.setdefault("CUBLAS_WORKSPACE_CONFIG", ":4096:8")
    torch.use_deterministic_algorithms(True, warn_only=True)
    return "torch deterministic algorithms: turned on (reproducibility; set it False to leave them)"


def warn_history_first(trainer):
    """Log the history-first warning of the trainer's last evaluation, if any; returns its
    check (``protocols``)."""
    warning = history_first_warning(trainer.history_check)
    if warning:
        logging.getLogger().warning(warning)
    return trainer.history_check


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
    check_processes(nproc, world_size, group_offset, port)
    if nproc == 1 and world_size <= 0:
        return _train_and_test(model, dataset, config_file_list, config_dict, saved)
    shared = {**(config_dict or {}), "world_size": nproc if world_size == -1 else world_size,
              "ip": ip, "port": port, "nproc": nproc, "offset": group_offset}
    # settle bad input here, once, rather than in every process
    check_dataset(Config(model=model, dataset=dataset, config_file_list=config_file_list,
                         config_dict=shared))
    queue = mp.get_context("spawn").SimpleQueue()
    spawn(_run_rank, nproc, args=(model, dataset, config_file_list, shared, saved, queue))
    return None if queue.empty() else queue.get()


def gpu_figures(device):
    """The GPU a run used and its peak memory (torch's allocations), on a GPU only."""
    if device.type != "cuda":
        return {}
    return {"gpu": torch.cuda.get_device_name(device),
            "peak_gpu_mb": round(torch.cuda.max_memory_allocated(device) / 2 ** 20)}


def check_processes(nproc, world_size, group_offset, port):
    """The process layout of a run, refused before any process starts."""
    if nproc < 1:
        raise ValueError(f"nproc must be >= 1, got {nproc}")
    if group_offset < 0:
        raise ValueError(f"group_offset must be >= 0, got {group_offset}")
    if world_size != -1 and world_size < nproc + group_offset:
        raise ValueError(f"world_size must be -1 (= nproc) or >= nproc + group_offset "
                         f"({nproc + group_offset}), got {world_size}")
    if not str(port).isdigit() or not 0 < int(port) < 65536:
        raise ValueError(f"port must be a TCP port number, got '{port}'")


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
    warn_history_first(trainer)
    if not config["single_spec"]:
        finish(trainer)
    return {
        "model": config["model"],
        "dataset": config["dataset"],
        "best_valid": dict(best_valid or {}),
        "test": dict(test),
        "test_by_protocol": trainer.by_protocol,
        "history_check": trainer.history_check,
        "train_seconds": round(train_seconds, 2),
        # the part of train_seconds that the runs a training_state continues took
        "resumed_seconds": round(trainer.resumed_seconds, 2),
        "checkpoint": trainer.saved_model_file if saved else None,
        "peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024),
        "device": str(config["device"]),
        **gpu_figures(config["device"]),
        "log_file": log_file(),
        "history": trainer.history,
        "config": dict(config.final_config_dict),
    }


def evaluate_checkpoint(path, model=None, dataset=None, config_file_list=None,
                        config_dict=None, reference=False, save_as=None):
    """Evaluate saved weights on the validation and test splits.

    ``path`` is a RecBole checkpoint, evaluated with the settings it was trained with (of the
    settings given, only ``checkpoint.settings.EVALUATION_SETTINGS`` apply, and a log line
    names those that differ: ``checkpoint_config``), or with ``reference=True`` one of the
    ELECRec authors' released state_dicts, evaluated with the settings given. ``save_as`` also
    writes the loaded model as a RecBole checkpoint (a new file).
    """
    if save_as:
        if Path(save_as).exists():
            raise ValueError(f"save_checkpoint: {save_as} exists; not replacing it")
        check_writable_dir(Path(save_as).parent, "save_checkpoint")
    settings = (model, dataset, config_file_list, config_dict)
    config, load_weights, differ = (reference_weights(path, *settings) if reference
                                    else checkpoint_weights(path, *settings))
    config, trainer, (train_data, valid_data, test_data) = build_from_config(
        config, load_weights, evaluate_only=True)
    log_given_settings(path, differ)
    if save_as:
        trainer.token_fingerprint = token_fingerprint(train_data._dataset)
        trainer._save_checkpoint(-1, saved_model_file=str(save_as))
    return {
        "model": config["model"],
        "dataset": config["dataset"],
        "best_valid": dict(trainer.evaluate(valid_data, load_best_model=False)),
        "valid_by_protocol": trainer.by_protocol,
        "test": dict(trainer.evaluate(test_data, load_best_model=False)),
        "test_by_protocol": trainer.by_protocol,
        "history_check": warn_history_first(trainer),
        "checkpoint": str(save_as or path),
        "log_file": log_file(),
        "config": dict(config.final_config_dict),
    }


def reference_weights(path, model, dataset, config_file_list, config_dict):
    """For evaluating the authors' state_dict ``path``: the config of the settings given, what
    loads the weights (``build``'s ``load_weights``), and no differing settings."""
    state = read_reference_state(path)
    model = model or "ELECRec"
    if model != "ELECRec":
        raise ValueError(f"a reference checkpoint holds an ELECRec model, not {model}")
    config = Config(model=model, dataset=dataset, config_file_list=config_file_list,
                    config_dict=config_dict)

    def load_weights(net, train_dataset):
        net.load_state_dict(convert_reference_state(state, net, train_dataset, path),
                            strict=False)

    return config, load_weights, {}


def checkpoint_weights(path, model, dataset, config_file_list, config_dict):
    """For evaluating the checkpoint ``path``: its config (``checkpoint_config``), what loads
    its weights into a model of the dataset it was trained with, and the settings given that
    differ from its own."""
    checkpoint = read_checkpoint(path)
    saved = restored_config(checkpoint, path)
    given = Config(model=model or saved["model"], dataset=dataset or saved["dataset"],
                   config_file_list=config_file_list, config_dict=config_dict)
    explicit = set(given.external_config_dict) | ({"dataset"} if dataset else set())
    config, differ = checkpoint_config(saved, given, explicit, path)

    def load_weights(net, train_dataset):
        load_model(net, checkpoint, path)
        check_tokens(checkpoint, train_dataset, path)

    return config, load_weights, differ


def load_data_and_model(model_file):
    """Like RecBole's ``load_data_and_model``: the checkpoint's config, data and trained model.

    Returns ``(config, model, dataset, train_data, valid_data, test_data)``. Refused where the
    dataset's token-to-id mapping is not the one the model was trained with.
    """
    checkpoint = read_checkpoint(model_file)
    config = restored_config(checkpoint, model_file)
    deterministic(config["reproducibility"])
    data, _, (train_data, valid_data, test_data), model = data_and_model(config)
    load_model(model, checkpoint, model_file)
    check_tokens(checkpoint, data, model_file)
    return config, model, data, train_data, valid_data, test_data
