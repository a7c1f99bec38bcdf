"""Data: history-aware sequential datasets and the paper datasets' prepare command."""

import importlib

from recbole_elecrec.data.prepare import PAPER_DATASETS, PrepareError, prepare

__all__ = [
    "ELECRecDataset",
    "HistorySequentialDataset",
    "PAPER_DATASETS",
    "PrepareError",
    "prepare",
]

# imported on first use: the prepare command needs neither torch nor RecBole
_LAZY = {"ELECRecDataset", "HistorySequentialDataset"}


def __getattr__(name):
    if name in _LAZY:
        return getattr(importlib.import_module("recbole_elecrec.data.dataset"), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
