"""Compatibility of RecBole 1.2.1 with current PyTorch.

RecBole checkpoints pickle the whole ``Config`` next to the weights. Since torch 2.6 ``torch.load``
defaults to ``weights_only=True`` and refuses them, which breaks RecBole's own
``Trainer.evaluate(load_best_model=True)`` and ``Trainer.resume_checkpoint``. The numpy / pandas /
setuptools incompatibilities of RecBole 1.2.1 are handled by version pins in ``setup.py`` instead.
"""

import contextlib
import os
import warnings

import torch


def load_checkpoint(path, map_location="cpu"):
    """Load a RecBole checkpoint (a pickled dict holding the Config). Only load files you trust."""
    return torch.load(path, map_location=map_location, weights_only=False)


@contextlib.contextmanager
def pickled_checkpoints():
    """Let RecBole's own ``torch.load`` calls inside this block read its pickled checkpoints.

    Uses torch's documented ``TORCH_FORCE_NO_WEIGHTS_ONLY_LOAD`` switch, restored on exit.
    """
    previous = os.environ.get("TORCH_FORCE_NO_WEIGHTS_ONLY_LOAD")
    os.environ["TORCH_FORCE_NO_WEIGHTS_ONLY_LOAD"] = "1"
    try:
        with warnings.catch_warnings():
            warnings.filterwarnings("ignore", message=".*TORCH_FORCE_NO_WEIGHTS_ONLY_LOAD.*")
            yield
    finally:
        if previous is None:
            os.environ.pop("TORCH_FORCE_NO_WEIGHTS_ONLY_LOAD")
        else:
            os.environ["TORCH_FORCE_NO_WEIGHTS_ONLY_LOAD"] = previous
