"""Loading checkpoints without calling anything a file names.

This package writes plain data (``format``), which torch's weights-only unpickler reads with
nothing allowed beyond torch's own tensors and containers. Files written before, and RecBole's
own (pickle protocol 4, which that unpickler cannot read), pickle the whole Config with its enums
and numpy numbers. Those are read by an unpickler that resolves every name it allows to a
stand-in holding only data (a Config's state, an enum's value, a number's bytes), never to the
class or function named, and turned into plain data; any other name is refused before anything
is built.
"""

import collections
import pickle
import types
import zipfile

import numpy as np
import torch
from recbole.utils.enum_type import EvaluatorType, InputType, ModelType

from recbole_elecrec.checkpoint.format import plain

# where the model classes an old Config names live
_MODEL_PACKAGES = ("recbole.model.", "recbole_elecrec.model.")


class UnsafeCheckpoint(ValueError):
    """A file naming something no checkpoint of this package or RecBole holds."""

    def __init__(self, name):
        super().__init__(f"it names {name}, which no checkpoint of this package or RecBole "
                         "holds; loading it could run code")


def load_checkpoint(path, map_location="cpu"):
    """A checkpoint or training state of this package or RecBole as plain data;
    UnsafeCheckpoint for a file that names anything else, before anything in it is built."""
    if (_pickle_protocol(path) <= 2
            and not torch.serialization.get_unsafe_globals_in_checkpoint(path)):
        return torch.load(path, map_location=map_location, weights_only=True)
    # not weights_only, which cannot read protocol 4: torch's unpickler wrapper resolves every
    # global through _StandInUnpickler.find_class, so nothing but a stand-in is ever called
    return plain(torch.load(path, map_location=map_location, weights_only=False,
                            pickle_module=_STAND_IN_PICKLE))


class _ConfigState:
    """An old checkpoint's Config: only its state (the attributes unpickling sets). Never the
    Config itself: RecBole's eval()s strings of its config_dict, this package's reads the files
    config_file_list names."""

    final = None  # its final_config_dict, once its state is set

    def __new__(cls, *args):
        if args:  # a Config is pickled by its state; a call with arguments would run its code
            raise UnsafeCheckpoint("a Config built with arguments")
        return super().__new__(cls)

    def __setstate__(self, state):
        if not isinstance(state, dict):
            raise UnsafeCheckpoint("a Config with a state that is not a dict")
        self.final = state.get("final_config_dict")

    def as_plain(self):
        return plain(self.final) if isinstance(self.final, dict) else None


def _enum_stand_in(kind):
    """An old checkpoint's member of enum ``kind``: its value, as the member's name."""

    class Member:
        def __new__(cls, value):
            member = super().__new__(cls)
            member.value = value
            return member

        def as_plain(self):
            return kind(self.value).name

    return Member


def _name_only(name):
    """A class an old Config names but never calls (its model class, its YAML loader)."""

    class Named:
        def __new__(cls, *args, **kwargs):
            raise UnsafeCheckpoint(f"{name} called")

    return Named


class _DType:
    """A numpy dtype: only the numeric ones (random states, metric values)."""

    def __new__(cls, code, align=False, copy=True):
        try:
            numeric = isinstance(code, str) and len(code) <= 3 and np.dtype(code).kind in "biuf"
        except TypeError:
            numeric = False
        if not numeric:
            raise UnsafeCheckpoint(f"numpy dtype {code!r}")
        dtype = super().__new__(cls)
        dtype.code, dtype.order = code, "="
        return dtype

    def __setstate__(self, state):
        if isinstance(state, tuple) and len(state) > 1 and state[1] in ("<", ">", "|", "="):
            self.order = state[1]

    def numpy(self):
        return np.dtype(self.code).newbyteorder("=" if self.order == "|" else self.order)


def _scalar(dtype, raw):
    """A numpy number as the Python number it holds."""
    if not isinstance(dtype, _DType) or not isinstance(raw, bytes):
        raise UnsafeCheckpoint("a numpy scalar that is not a number")
    return np.frombuffer(raw, dtype=dtype.numpy(), count=1)[0].item()


class _Array:
    """A numeric numpy array, as the nested list it holds."""

    def __setstate__(self, state):
        _, shape, dtype, _, raw = state
        if not isinstance(dtype, _DType) or not isinstance(raw, bytes):
            raise UnsafeCheckpoint("a numpy array that is not numeric")
        self.values = np.frombuffer(raw, dtype=dtype.numpy()).reshape(shape).tolist()

    def as_plain(self):
        return self.values


def _reconstruct(subtype, shape, code):
    if subtype is not _Array:
        raise UnsafeCheckpoint("a numpy array of another type")
    return _Array()


def _latin1(text, encoding):
    """How pickle protocol 2 writes bytes (a numpy number's, an array's): a latin-1 string."""
    if not isinstance(text, str) or encoding != "latin1":
        raise UnsafeCheckpoint(f"_codecs.encode with {encoding!r}")
    return text.encode("latin1")


def _stand_ins():
    names = {
        "recbole.config.configurator.Config": _ConfigState,
        "recbole_elecrec.config.Config": _ConfigState,
        "numpy.dtype": _DType,
        "numpy.ndarray": _Array,
        "_codecs.encode": _latin1,
        # torch's own, which weights_only allows too
        "collections.OrderedDict": collections.OrderedDict,
        "torch._utils._rebuild_tensor_v2": torch._utils._rebuild_tensor_v2,
        "torch.device": torch.device,
    }
    for core in ("numpy.core.multiarray", "numpy._core.multiarray"):
        names.update({f"{core}.scalar": _scalar, f"{core}._reconstruct": _reconstruct})
    for kind in (ModelType, InputType, EvaluatorType):
        names[f"{kind.__module__}.{kind.__qualname__}"] = _enum_stand_in(kind)
    for loader in ("yaml.loader.FullLoader", "recbole_elecrec.config.SettingsLoader",
                   "recbole_elecrec.settings_file.SettingsLoader"):
        names[loader] = _name_only(loader)
    return names


_STAND_INS = _stand_ins()


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


class _StandInUnpickler(pickle.Unpickler):
    """pickle's Unpickler resolving names to stand-ins only (the Python docs' "restricting
    globals"): nothing a file names is called."""

    def find_class(self, module, name):
        full = f"{module}.{name}"
        if full in _STAND_INS:
            return _STAND_INS[full]
        if module.startswith(_MODEL_PACKAGES) and name.isidentifier():
            return _name_only(full)  # an old Config's model class, never called
        raise UnsafeCheckpoint(full)


# what torch.load takes as its pickle_module
_STAND_IN_PICKLE = types.SimpleNamespace(__name__="stand_in_pickle",
                                         Unpickler=_StandInUnpickler)
