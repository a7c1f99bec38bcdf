"""ELECRec (Chen, Li, Xiong, SIGIR 2022) for RecBole."""

import importlib

__version__ = "0.1.0"

__all__ = ["ELECRec", "ELECRecTrainer", "__version__"]

# imported on first use: commands that need no torch (data prepare) start without it
_LAZY = {"ELECRec": "recbole_elecrec.model", "ELECRecTrainer": "recbole_elecrec.trainer"}


def __getattr__(name):
    if name in _LAZY:
        return getattr(importlib.import_module(_LAZY[name]), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
