"""A checkpoint's settings in a later run: which of them that run may change, and the config
it runs with (evaluating a checkpoint, continuing a training state, loading a model)."""

import logging
import os

import torch
import yaml

from recbole_elecrec.checkpoint.format import restore_config
from recbole_elecrec.rules import check_model
from recbole_elecrec.settings_file import model_property_files

# settings that do not change what a run computes (where and how its processes run, what they
# show, where they write): always the running process's own
RUN_SETTINGS = frozenset({
    "device", "use_gpu", "gpu_id", "single_spec", "local_rank", "world_size", "nproc", "ip",
    "port", "offset", "ddp_backend", "worker", "threads", "show_progress", "state",
    "loss_decimal_place", "log_wandb", "wandb_project", "checkpoint_dir", "training_state",
})
# settings given for an evaluation that replace the checkpoint's: what is measured, how much is
# evaluated at once, and where the data is (check_fit and check_tokens refuse data that is not
# the checkpoint's). The model's settings and how its data is read and split belong to the
# weights: they come from the checkpoint
EVALUATION_SETTINGS = frozenset({
    "metrics", "topk", "valid_metric", "valid_metric_bigger", "metric_decimal_place",
    "eval_batch_size", "history_mask", "dataset", "data_path",
})
# what a continued run may change besides RUN_SETTINGS, as it cannot make the run differ from an
# uninterrupted one with the new values: how long training goes on (the epochs so far are the
# same under any epochs and stopping_step), how much is evaluated at once, how figures are
# rounded, where the data lies (check_tokens checks it is the same data). Not checkpoint_dir:
# the run goes on writing its best model there, under the name its state holds
RESUMABLE_CHANGES = (RUN_SETTINGS - {"checkpoint_dir"}) | frozenset({
    "epochs", "stopping_step", "eval_batch_size", "metric_decimal_place", "data_path",
})


def changed_settings(saved, current):
    """``{key: (saved value, current value)}`` for the settings a continued run may not change
    that differ (a setting newer than the saved run counts at its default)."""
    saved, current = {**model_defaults(saved), **saved.final_config_dict}, current.final_config_dict
    missing = "(unset)"
    return {
        key: (saved.get(key, missing), current.get(key, missing))
        for key in sorted((set(saved) | set(current)) - RESUMABLE_CHANGES)
        if saved.get(key, missing) != current.get(key, missing)
    }


def saved_config(checkpoint, path):
    """The ``Config`` a checkpoint was trained with, or one clear error (a bare state_dict has
    none: nothing says which model, dataset and settings its weights belong to)."""
    return restore_config(checkpoint.get("config"), path)


def restored_config(checkpoint, path):
    """The config ``checkpoint`` was trained with, ready to build its data and model here."""
    config = saved_config(checkpoint, path)
    # a checkpoint saved before a setting existed runs with that setting's default
    for key, value in model_defaults(config).items():
        if key not in config.final_config_dict:
            config[key] = value
    if not config["single_spec"]:  # saved by a distributed run: load it into this one process
        config["single_spec"], config["local_rank"] = True, 0
    # this machine's device, not the saving one's (trained on a GPU, used on a CPU)
    config["device"] = torch.device(
        "cuda" if config["use_gpu"] and torch.cuda.is_available() else "cpu")
    config["use_gpu"] = config["device"].type == "cuda"
    try:
        check_model(config)
    except ValueError as error:
        raise ValueError(f"{path}: {error}") from None
    return config


def model_defaults(config):
    """The settings of this package's YAML files for ``config``'s model ({} for RecBole's)."""
    defaults = {}
    for path in model_property_files(config.model_class):
        if path.is_file():
            text = path.read_text(encoding="utf-8")
            defaults.update(yaml.load(text, Loader=config.yaml_loader) or {})
    return defaults


def checkpoint_config(saved, given, explicit, path):
    """The config evaluating a checkpoint: its ``saved`` one, with this run's RUN_SETTINGS
    and the EVALUATION_SETTINGS of the ``explicit`` keys (those given) taken from ``given`` (a
    Config of the settings given, which checked them). Returns it and
    ``{key: (saved value, given value)}`` of the settings given that differ from the saved."""
    if given["model"] != saved["model"]:
        raise ValueError(f"{path} holds model {saved['model']}, not {given['model']}")
    given["data_path"] = os.path.abspath(given["data_path"])  # as checkpoints save it
    differ = {key: (saved[key], given[key]) for key in sorted(explicit - RUN_SETTINGS)
              if given[key] != saved[key]}
    for key in RUN_SETTINGS | (EVALUATION_SETTINGS & differ.keys()):
        saved[key] = given[key]
    if "dataset" in differ and "data_path" not in explicit:
        # RecBole joined data_path and the dataset: the other dataset's folder lies beside
        saved["data_path"] = os.path.join(os.path.dirname(saved["data_path"]), saved["dataset"])
    return saved, differ


def log_given_settings(path, differ):
    """One log line naming the settings given that differ from the checkpoint's, and which of
    them the evaluation of ``path`` applies."""
    if not differ:
        return
    described = {
        applied: "; ".join(f"{key} {now!r} (the checkpoint's: {before!r})"
                           for key, (before, now) in differ.items()
                           if (key in EVALUATION_SETTINGS) == applied)
        for applied in (True, False)}
    logging.getLogger().warning(
        f"settings given that differ from those {path} was trained with: applied (evaluation "
        f"settings): {described[True] or 'none'}; ignored (model and data settings come from "
        f"the checkpoint): {described[False] or 'none'}")
