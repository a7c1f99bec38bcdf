"""Name lookup: this package's models first, then RecBole's."""

import importlib
from pathlib import Path

import recbole.model
from recbole.utils import ModelType
from recbole.utils import get_model as recbole_get_model

import recbole_elecrec.model.zoo  # noqa: F401 (RecBole's models, without a side effect of theirs)


def _own_models():
    from recbole_elecrec.model import ELECRec, SASRecPlus

    return {"ELECRec": ELECRec, "SASRecPlus": SASRecPlus}


def get_model(model_name):
    """Model class for ``model_name``: ELECRec, SASRecPlus or any model RecBole ships."""
    own = _own_models()
    if model_name in own:
        return own[model_name]
    try:
        return recbole_get_model(model_name)
    except (ValueError, ImportError) as error:
        # RecBole's lookup imports its exlib models on the way, which fail without lightgbm:
        # a reason only for those models, not for every unknown name
        exlib = Path(recbole.model.__file__).parent / "exlib_recommender"
        is_exlib = (exlib / f"{model_name.lower()}.py").is_file()
        reason = f" ({error})" if isinstance(error, ImportError) and is_exlib else ""
        raise ValueError(
            f"unknown model '{model_name}'{reason}: use ELECRec or a RecBole model name such as "
            "SASRec, BERT4Rec, GRU4Rec"
        ) from None


def uses_history_dataset(config):
    """Whether our history-aware sequential dataset can serve this model.

    RecBole models that bring their own dataset class (``<Model>Dataset``) keep it.
    """
    recbole_datasets = importlib.import_module("recbole.data.dataset")
    return config["MODEL_TYPE"] == ModelType.SEQUENTIAL and not hasattr(
        recbole_datasets, config["model"] + "Dataset"
    )
