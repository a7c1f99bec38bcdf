"""Reading RecBole checkpoints into models, with one clear error when they do not fit."""

from pathlib import Path

from recbole_elecrec.compat import load_checkpoint


def load_state(model, state_dict, source):
    """``model.load_state_dict`` with one clear error when the weights do not fit."""
    check_fit(model, state_dict, source)
    model.load_state_dict(state_dict)


def check_fit(model, state_dict, source):
    """One clear error when ``state_dict`` does not fit ``model`` (torch's lists every key)."""
    own = model.state_dict()
    for key, value in state_dict.items():
        if key in own and own[key].shape != value.shape:
            raise ValueError(
                f"{source} does not fit this model and dataset: {key} has shape "
                f"{tuple(value.shape)}, expected {tuple(own[key].shape)} (other dataset or sizes?)"
            )
    missing = sorted(set(own) - set(state_dict))
    unexpected = sorted(set(state_dict) - set(own))
    if missing or unexpected:
        raise ValueError(
            f"{source} does not fit this model: missing {missing[:3]}, unexpected {unexpected[:3]}"
        )


def read_checkpoint(path):
    """A RecBole checkpoint dict, or one clear error."""
    if not Path(path).is_file():
        raise ValueError(f"checkpoint not found: {path}")
    try:
        checkpoint = load_checkpoint(path)
    except Exception as error:  # torch raises many types for a file that is not a checkpoint
        raise ValueError(f"{path} is not a readable PyTorch checkpoint ({error})") from None
    if not isinstance(checkpoint, dict) or "state_dict" not in checkpoint:
        raise ValueError(f"{path} is not a RecBole checkpoint (no 'state_dict' entry)")
    return checkpoint
