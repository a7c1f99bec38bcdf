"""Data: history-aware sequential datasets and the paper datasets' prepare command."""

from recbole_elecrec.data.dataset import ELECRecDataset, HistorySequentialDataset
from recbole_elecrec.data.prepare import PAPER_DATASETS, PrepareError, prepare

__all__ = [
    "ELECRecDataset",
    "HistorySequentialDataset",
    "PAPER_DATASETS",
    "PrepareError",
    "prepare",
]
