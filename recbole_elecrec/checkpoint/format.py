"""What checkpoints and training states hold: plain data, and nothing that can be called.

A file holds dicts, lists, tuples, strings, numbers, booleans, None and tensors, which torch's
weights-only unpickler reads with nothing else allowed. The config is its settings
(``config_settings``): a Config is rebuilt from them here (``restore_config``) without calling
anything a file names and without reading any file its settings name.
"""

import collections
import enum
import os

import numpy as np
import torch
from recbole.utils.enum_type import EvaluatorType, InputType, ModelType

from recbole_elecrec.config import Config
from recbole_elecrec.rules import check_saved_settings
from recbole_elecrec.settings_file import SettingsLoader
from recbole_elecrec.utils import get_model

# the settings RecBole keeps as enums: saved by member name
ENUM_SETTINGS = {"MODEL_TYPE": ModelType, "MODEL_INPUT_TYPE": InputType,
                 "eval_type": EvaluatorType}
# the machine's own: set where a config is restored, never taken from a file
LOCAL_SETTINGS = frozenset({"device"})


class NotPlain(TypeError):
    """A value a checkpoint cannot hold as plain data."""


def plain(value):
    """``value`` as plain data: numpy numbers and arrays as Python numbers and lists, enums by
    member name, a device by name; NotPlain for anything else that is not plain already."""
    if isinstance(value, np.generic) and value.dtype.kind in "biuf":  # np.float64 is a float
        return value.item()
    if value is None or isinstance(value, (bool, int, float, str, torch.Tensor)):
        return value
    if isinstance(value, enum.Enum):
        return value.name
    if isinstance(value, np.ndarray) and value.dtype.kind in "biuf":
        return value.tolist()
    if isinstance(value, torch.device):
        return str(value)
    if isinstance(value, dict):
        kind = collections.OrderedDict if isinstance(value, collections.OrderedDict) else dict
        return kind((plain(key), plain(item)) for key, item in value.items())
    if isinstance(value, (list, tuple)):
        return type(value)(plain(item) for item in value)
    as_plain = getattr(type(value), "as_plain", None)  # the legacy reader's stand-ins
    if as_plain is not None:
        return as_plain(value)
    raise NotPlain(f"{type(value).__module__}.{type(value).__qualname__}")


def other_parameter(model):
    """What a checkpoint keeps of RecBole's ``model.other_parameter()``, as plain data (NotPlain
    for ItemKNN's scipy matrices and the like): its modules (DIN's embedding layer) are left out,
    as the state_dict holds their weights."""
    kept = {key: value for key, value in (model.other_parameter() or {}).items()
            if not isinstance(value, torch.nn.Module)}
    return plain(kept)


def contents(trainer, epoch):
    """What a RecBole checkpoint of ``trainer`` after ``epoch`` holds, as plain data (the config
    as its settings, with an absolute ``data_path``: a relative one would resolve where the file
    is read), and the fingerprint of the data it trained on."""
    config = trainer.config
    return plain({
        "config": config_settings(config, data_path=os.path.abspath(config["data_path"])),
        "token_fingerprint": trainer.token_fingerprint,
        "epoch": epoch,
        "cur_step": trainer.cur_step,
        "best_valid_score": trainer.best_valid_score,
        "state_dict": trainer.model.state_dict(),
        "other_parameter": other_parameter(trainer.model),
        "optimizer": trainer.optimizer.state_dict(),
    })


def config_settings(config, **replaced):
    """A Config's settings as plain data (``replaced`` overriding some), without this
    machine's own (``LOCAL_SETTINGS``)."""
    settings = {**config.final_config_dict, **replaced}
    return {key: plain(value) for key, value in settings.items() if key not in LOCAL_SETTINGS}


def restore_config(settings, source):
    """The Config of saved ``settings``, checked as a Config built here is (names, ranges, no
    pickled files); one clear error naming ``source`` otherwise. Only the model's class is
    looked up, by name, among the models this package and RecBole ship."""
    model, dataset = (settings.get(key) if isinstance(settings, dict) else None
                      for key in ("model", "dataset"))
    if not isinstance(model, str) or not isinstance(dataset, str):
        raise ValueError(f"{source} holds no saved config (its 'config' is "
                         f"{type(settings).__name__}): not a checkpoint of this package or RecBole")
    final = {key: value for key, value in settings.items() if key not in LOCAL_SETTINGS}
    for key, kind in ENUM_SETTINGS.items():
        if key in final:
            name = final[key]
            if not isinstance(name, str) or name not in kind.__members__:
                raise ValueError(f"{source}: its setting {key} is {name!r}, not one of "
                                 f"{', '.join(kind.__members__)}")
            final[key] = kind[name]
    config = Config.__new__(Config)  # its __init__ would read property and config files
    config.model, config.model_class, config.dataset = model, get_model(model), dataset
    config.yaml_loader = SettingsLoader
    config._init_parameters_category()
    config.external_config_dict, config.internal_config_dict = {}, {}
    config.final_config_dict = final
    config.compatibility_settings()  # what __init__ sets up for RecBole's metrics
    try:
        check_saved_settings(config)
    except ValueError as error:
        raise ValueError(f"{source}: {error}") from None
    return config
