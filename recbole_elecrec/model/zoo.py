"""RecBole's sequential models, imported once, without the side effect of one of them."""

import importlib

import torch


def import_sequential_models():
    """Import RecBole's sequential models without the side effect of one of them.

    Its ``sine.py`` turns autograd anomaly detection on for the whole process at import, a
    debugging aid that doubles the training time of every model trained after it (measured on
    Beauty: SASRec 0.87 -> 0.41 s and GRU4Rec 0.41 -> 0.18 s per batch). Done once, here, so that
    no model lookup (nor a benchmark's concurrent cells) can turn it on later.
    """
    enabled = torch.is_anomaly_enabled()
    importlib.import_module("recbole.model.sequential_recommender")
    torch.autograd.set_detect_anomaly(enabled)


import_sequential_models()
