"""RecBole's Config, extended with this package's models and property files."""

import os
from pathlib import Path

from recbole.config import Config as RecBoleConfig
from recbole.utils import ModelType

from recbole_elecrec.distributed import init_process_group
from recbole_elecrec.utils import get_model

PROPERTIES = Path(__file__).resolve().parent / "properties"


class Config(RecBoleConfig):
    """RecBole's ``Config`` that also knows ELECRec and reads ``properties/``.

    Resolution order, low to high: RecBole's own property files; ``properties/overall.yaml``;
    ``properties/model/<model>.yaml``; ``properties/dataset/<dataset>.yaml``; config files; config
    dict; ``--key=value`` on the command line.
    """

    def _get_model_and_dataset(self, model, dataset):
        model = model or self.external_config_dict.get("model")
        if model is None:
            raise ValueError("no model given: pass --model=NAME (ELECRec or any RecBole model)")
        if isinstance(model, str):
            model = get_model(model)
        return super()._get_model_and_dataset(model, dataset)

    def _load_internal_config_dict(self, model, model_class, dataset):
        super()._load_internal_config_dict(model, model_class, dataset)
        # a model's YAML files: its base classes' first (SASRecPlus reads ELECRec.yaml, then its own)
        model_files = [PROPERTIES / "model" / f"{cls.__name__}.yaml"
                       for cls in reversed(model_class.__mro__)]
        for path in (
            PROPERTIES / "overall.yaml",
            *model_files,
            PROPERTIES / "dataset" / f"{dataset}.yaml",
        ):
            if path.is_file():
                config_dict = self._update_internal_config_dict(path) or {}
                if path.parent.name == "dataset":
                    self.parameters["Dataset"] += [
                        key for key in config_dict if key not in self.parameters["Dataset"]
                    ]

    def _init_device(self):
        if "local_rank" not in self.final_config_dict:
            return super()._init_device()
        # distributed: RecBole would force nccl with one GPU per process; pick what fits
        final = self.final_config_dict
        if isinstance(final["gpu_id"], tuple):
            final["gpu_id"] = ",".join(map(str, final["gpu_id"]))
        final["gpu_id"] = str(final["gpu_id"])
        os.environ["CUDA_VISIBLE_DEVICES"] = final["gpu_id"]
        final["device"] = init_process_group(final)
        final["single_spec"] = False
        if final["local_rank"] != 0:
            final.update(state="error", show_progress=False, verbose=False)

    def _set_default_parameters(self):
        # RecBole's overall.yaml turns on negative sampling, which it then rejects for CE-loss
        # sequential models (SASRec's default); turn it off unless the user asked for it.
        final = self.final_config_dict
        if (
            final.get("loss_type") == "CE"
            and final["MODEL_TYPE"] == ModelType.SEQUENTIAL
            and "train_neg_sample_args" not in self.external_config_dict
        ):
            final["train_neg_sample_args"] = None
        super()._set_default_parameters()
