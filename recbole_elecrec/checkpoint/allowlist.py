"""Loading RecBole checkpoints without running what a file may carry.

A RecBole checkpoint pickles the whole ``Config`` (and through it the model class) next to the
weights, and a pickle can call any function it names. So every checkpoint and training state is
read with torch's ``weights_only`` unpickler, allowing only the classes this package and RecBole
save. Files RecBole itself saved (pickle protocol 4, which that unpickler cannot read) go through
a ``pickle.Unpickler`` held to the same allowlist. The numpy / pandas / setuptools
incompatibilities of RecBole 1.2.1 are handled by version pins in ``setup.py`` instead.
"""

import collections
import pickle
import types
import zipfile

import numpy as np
import torch
import yaml
from recbole.config import Config as RecBoleConfig
from recbole.utils.enum_type import EvaluatorType, InputType, ModelType

from recbole_elecrec.config import Config, SettingsLoader
from recbole_elecrec.utils import get_model

# where the model classes a Config names live
_MODEL_PACKAGES = ("recbole.model.", "recbole_elecrec.model.")


class UnsafeCheckpoint(ValueError):
    """A file naming something no checkpoint of this package or RecBole holds."""

    def __init__(self, name):
        super().__init__(f"it names {name}, which no checkpoint of this package or RecBole "
                         "holds; loading it could run code")


def load_checkpoint(path, map_location="cpu"):
    """A checkpoint or training state of this package or RecBole; UnsafeCheckpoint for a file
    that names anything else, before anything in it is called."""
    if _pickle_protocol(path) > 2:
        # weights_only cannot read protocol 4 (RecBole's own saves); torch's unpickler wrapper
        # resolves every global through _AllowlistUnpickler.find_class, the same allowlist
        return torch.load(path, map_location=map_location, weights_only=False,
                          pickle_module=_ALLOWLISTED_PICKLE)
    allowed = [(allowed_global(name), name)
               for name in torch.serialization.get_unsafe_globals_in_checkpoint(path)]
    with torch.serialization.safe_globals(allowed + _NUMBER_DTYPES):
        return torch.load(path, map_location=map_location, weights_only=True)


def allowed_global(name):
    """What ``name`` (``module.qualname``) stands for in a checkpoint: a class this package or
    RecBole pickles, or the model class of a model they know; UnsafeCheckpoint for anything else."""
    known = _known_globals()
    if name in known:
        return known[name]
    module, _, short = name.rpartition(".")
    if module.startswith(_MODEL_PACKAGES) and short.isidentifier():
        try:
            model = get_model(short)  # looks in RecBole's model packages only
        except ValueError:
            model = None
        if model is not None and f"{model.__module__}.{model.__qualname__}" == name:
            return model
    raise UnsafeCheckpoint(name)


def _known_globals():
    objects = [
        Config, RecBoleConfig, SettingsLoader, yaml.FullLoader,  # the Config and its YAML loader
        ModelType, InputType, EvaluatorType,  # its settings
        np.core.multiarray._reconstruct, np.core.multiarray.scalar, np.ndarray, np.dtype,
        # torch's own, which weights_only allows anyway: for RecBole's protocol-4 files
        collections.OrderedDict, torch._utils._rebuild_tensor_v2, torch.device,
    ]
    return {f"{obj.__module__}.{obj.__qualname__}": obj for obj in objects}


# the types of the numpy dtypes a pickle builds (random states, numpy scalars): named by no
# pickle (it names numpy.dtype), but weights_only builds only instances of allowlisted types
_NUMBER_DTYPES = list({type(np.dtype(code))
                       for code in np.typecodes["AllInteger"] + np.typecodes["AllFloat"] + "?"})


def _pickle_protocol(path):
    """The pickle protocol of a file ``torch.save`` wrote (0 for anything else: torch.load, with
    weights_only, then judges it)."""
    try:
        with zipfile.ZipFile(path) as archive:
            name = next(n for n in archive.namelist() if n.endswith("/data.pkl"))
            with archive.open(name) as data:
                head = data.read(2)
    except (zipfile.BadZipFile, OSError, StopIteration):
        return 0
    return head[1] if head[:1] == pickle.PROTO else 0


class _AllowlistUnpickler(pickle.Unpickler):
    """pickle's Unpickler resolving only allowlisted names (the Python docs' "restricting
    globals"): nothing else can be called."""

    def find_class(self, module, name):
        return allowed_global(f"{module}.{name}")


# what torch.load takes as its pickle_module
_ALLOWLISTED_PICKLE = types.SimpleNamespace(__name__="allowlisted_pickle",
                                            Unpickler=_AllowlistUnpickler)
