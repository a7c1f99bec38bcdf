"""ELECRec (Chen, Li, Xiong, SIGIR 2022) for RecBole."""

import importlib
import importlib.metadata

__version__ = "0.1.0"

# RecBole is installed without its dependency list (its ray pin has no wheels past Python 3.11),
# so pip cannot bring it: say in one line what to run
try:
    _RECBOLE = importlib.metadata.version("recbole")
except importlib.metadata.PackageNotFoundError:
    _RECBOLE = None
if _RECBOLE != "1.2.1":
    _FOUND = f"found {_RECBOLE}" if _RECBOLE else "not installed"
    raise ImportError(f"recbole_elecrec needs recbole 1.2.1 ({_FOUND}): "
                      "pip install --no-deps recbole==1.2.1")

__all__ = ["ELECRec", "ELECRecTrainer", "__version__"]

# imported on first use: commands that need no torch (data prepare) start without it
_LAZY = {"ELECRec": "recbole_elecrec.model", "ELECRecTrainer": "recbole_elecrec.trainer"}


def __getattr__(name):
    if name in _LAZY:
        return getattr(importlib.import_module(_LAZY[name]), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
