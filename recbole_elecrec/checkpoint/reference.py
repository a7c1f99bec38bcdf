"""Import the ELECRec authors' released checkpoints (plain discriminator state_dicts)."""

import re
from pathlib import Path

import torch

from recbole_elecrec.checkpoint import check_shapes

# reference key -> this model's key (the discriminator network and its head)
_KEY_MAP = [
    (r"^item_embeddings\.", "discriminator.item_embedding."),
    (r"^position_embeddings\.", "discriminator.position_embedding."),
    (r"^LayerNorm\.", "discriminator.LayerNorm."),
    (r"^item_encoder\.layer\.(\d+)\.attention\.",
     r"discriminator.trm_encoder.layer.\1.multi_head_attention."),
    (r"^item_encoder\.layer\.(\d+)\.intermediate\.",
     r"discriminator.trm_encoder.layer.\1.feed_forward."),
    (r"^dis_projection\.", "dis_projection."),
]
_UNUSED = re.compile(r"^intermediate\.")  # a layer the reference model defines but never calls


def read_reference_state(path):
    """The authors' state_dict on CPU, or one clear error."""
    if not Path(path).is_file():
        raise ValueError(f"reference checkpoint not found: {path}")
    try:
        state = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as error:  # torch raises many types for a file that is not a state_dict
        raise ValueError(f"{path} is not a readable PyTorch state_dict ({error})") from None
    if not isinstance(state, dict) or not all(torch.is_tensor(v) for v in state.values()):
        raise ValueError(f"{path} is not a state_dict of tensors")
    return state


def convert_reference_state(state, model, dataset, source="reference checkpoint"):
    """Map the authors' discriminator weights onto ``model`` (an ELECRec) for ``dataset``.

    Item rows are reordered from raw item ids (row i = raw id i, plus an unused last mask row) to
    RecBole's internal ids through the dataset's token map. Returns the state to load with
    ``strict=False``: the generator's own, unshared parts are not in the authors' file.
    """
    if model.backbone != "SASRec":
        raise ValueError(f"{source} holds an ELECRec with the SASRec backbone, "
                         f"not {model.backbone}")
    converted = {}
    for key, value in state.items():
        if _UNUSED.match(key):
            continue
        for pattern, replacement in _KEY_MAP:
            if re.match(pattern, key):
                converted[re.sub(pattern, replacement, key)] = value
                break
        else:
            raise ValueError(f"{source} has a key ELECRec does not know: {key}")

    tokens = dataset.field2id_token[dataset.iid_field][1:]
    table = converted.get("discriminator.item_embedding.weight")
    if table is None:
        raise ValueError(f"{source} has no item_embeddings.weight")
    try:
        raw_ids = [int(token) for token in tokens]
    except ValueError:
        raise ValueError(f"{source}: the dataset's item tokens are not the integer ids it was "
                         "trained on") from None
    if len(table) != max(raw_ids) + 2:
        raise ValueError(
            f"{source} has {len(table)} item rows; dataset {dataset.dataset_name} needs "
            f"{max(raw_ids) + 2} (its largest item id + padding + mask row)"
        )
    converted["discriminator.item_embedding.weight"] = table[[0] + raw_ids]

    own = model.state_dict()
    unknown = [key for key in converted if key not in own]
    if unknown:
        raise ValueError(f"{source} does not fit this model: it has {unknown[0]} (more layers, "
                         "or project_type 'affine' vs 'sum'?)")
    check_shapes(own, converted, source)
    missing = [k for k in own
               if k.startswith(("discriminator.", "dis_projection.")) and k not in converted]
    if missing:
        raise ValueError(f"{source} does not fit this model: it lacks {missing[0]} "
                         "(fewer layers?)")
    return converted
