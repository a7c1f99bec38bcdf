"""Checkpoints: the one home of their format, writing, reading and training states.

Here: reading a checkpoint into a model, with one clear error when it does not fit
(``read_checkpoint``, ``load_model``), and the data it was trained on (``token_fingerprint``).
Beside it: ``format`` (what a checkpoint holds: plain data), ``save`` (writing it), ``settings``
(which of its settings a later run takes as its own), ``state`` (training states),
``allowlist`` (loading a file without calling anything it names) and ``reference`` (the ELECRec
authors' released state_dicts).
"""

import hashlib
import logging
from pathlib import Path

import pandas as pd

from recbole_elecrec.checkpoint.allowlist import UnsafeCheckpoint, load_checkpoint


def load_model(model, checkpoint, source):
    """A checkpoint's weights and other parameters into ``model``, with one clear error when
    the weights do not fit."""
    check_fit(model, checkpoint["state_dict"], source)
    model.load_state_dict(checkpoint["state_dict"])
    model.load_other_parameter(checkpoint.get("other_parameter"))


def check_fit(model, state_dict, source):
    """One clear error when ``state_dict`` does not fit ``model`` (torch's lists every key)."""
    own = model.state_dict()
    check_shapes(own, state_dict, source)
    missing = sorted(set(own) - set(state_dict))
    unexpected = sorted(set(state_dict) - set(own))
    if missing or unexpected:
        raise ValueError(
            f"{source} does not fit this model: missing {missing[:3]}, unexpected {unexpected[:3]}"
        )


def check_shapes(own, state_dict, source):
    """One clear error for the first weight of ``state_dict`` whose shape is not ``own``'s."""
    for key, value in state_dict.items():
        if key in own and own[key].shape != value.shape:
            raise ValueError(
                f"{source} does not fit this model and dataset: {key} has shape "
                f"{tuple(value.shape)}, expected {tuple(own[key].shape)} (other dataset or sizes?)"
            )


def read_checkpoint(path):
    """A RecBole checkpoint dict, or one clear error."""
    if not Path(path).is_file():
        raise ValueError(f"checkpoint not found: {path}")
    try:
        checkpoint = load_checkpoint(path)
    except UnsafeCheckpoint as error:
        raise ValueError(f"{path} is refused: {error}") from None
    except Exception as error:  # torch raises many types for a file that is not a checkpoint
        raise ValueError(f"{path} is not a readable PyTorch checkpoint ({error})") from None
    if not isinstance(checkpoint, dict) or "state_dict" not in checkpoint:
        raise ValueError(f"{path} is not a RecBole checkpoint (no 'state_dict' entry)")
    return checkpoint


def token_fingerprint(dataset):
    """sha256 of the dataset's user and of its item tokens in id order (a model's rows, item
    embeddings and user ids, mean those tokens only under the same token-to-id mapping, which
    RecBole rebuilds from the data file on every load), and of its interactions as loaded
    (``interactions_fingerprint``, where the dataset class computes it)."""
    fields = {"item": dataset.iid_field, "user": dataset.uid_field}
    fingerprint = {
        field: hashlib.sha256("\n".join(map(str, dataset.field2id_token[name])).encode())
        .hexdigest() for field, name in fields.items() if name}
    interactions = getattr(dataset, "interactions_fingerprint", None)
    if interactions:
        fingerprint["interactions"] = interactions
    return fingerprint


def interactions_fingerprint(dataset):
    """sha256 of a dataset's interactions as loaded (its ids and times, row by row), or None
    once they are no longer a table (after the split)."""
    frame = dataset.inter_feat
    if not isinstance(frame, pd.DataFrame):
        return None
    columns = [name for name in (dataset.uid_field, dataset.iid_field, dataset.time_field,
                                 dataset.label_field) if name and name in frame]
    hashed = pd.util.hash_pandas_object(frame[columns], index=False).to_numpy()
    return hashlib.sha256(hashed.tobytes()).hexdigest()


def check_tokens(checkpoint, dataset, path, changed_data="warn"):
    """Refuse a dataset whose token-to-id mapping is not the one ``checkpoint`` was trained
    with (its file edited or reordered since); interactions that changed under the same tokens
    (rows appended, times edited) are refused too with ``changed_data="refuse"`` (continuing a
    run), else warned about (evaluating a model). A checkpoint saved before fingerprints is
    loaded with a warning."""
    saved = checkpoint.get("token_fingerprint")
    if not isinstance(saved, dict):
        logging.getLogger().warning(
            f"{path} has no token fingerprint (saved by an older version): not checked that "
            f"dataset {dataset.dataset_name}'s ids are those the model was trained with")
        return
    now = token_fingerprint(dataset)
    differ = [field for field in ("item", "user") if field in now
              and saved.get(field) != now[field]]
    if differ:
        raise ValueError(
            f"{path}: dataset {dataset.dataset_name}'s {' and '.join(differ)} ids differ from "
            "those the model was trained with (its data file changed or was reordered since)")
    if "interactions" in saved and saved["interactions"] != now.get("interactions"):
        message = (f"{path}: dataset {dataset.dataset_name}'s interactions differ from those the "
                   "model was trained with (same users and items; rows added, removed or edited "
                   "since)")
        if changed_data == "refuse":
            raise ValueError(message)
        logging.getLogger().warning(message + ": its figures are not the trained run's")
