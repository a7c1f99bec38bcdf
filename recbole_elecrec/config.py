"""RecBole's Config, extended with this package's models and property files."""

import os

from recbole.config import Config as RecBoleConfig
from recbole.utils import ModelType

from recbole_elecrec.distributed import process_device
from recbole_elecrec.errors import running_command
from recbole_elecrec.model import SASRecPlus, backbones
from recbole_elecrec.rules import (check_dataset_name, check_metrics, check_names,
                                   check_settings, check_types)
from recbole_elecrec.settings_file import (PROPERTIES, SettingsLoader, is_number,
                                           is_path_setting, literal_setting,
                                           model_property_files, read_settings)
from recbole_elecrec.utils import get_model


class Config(RecBoleConfig):
    """RecBole's ``Config`` that also knows ELECRec and reads ``properties/``.

    Resolution order, low to high: RecBole's own property files; ``properties/overall.yaml``;
    ``properties/model/<model>.yaml``; ``properties/dataset/<dataset>.yaml``; config files; config
    dict; ``--key=value`` on the command line, read as RecBole reads it, except while one of
    this package's commands runs (``errors.command``): a command parses its own command line and
    passes the settings as the config dict.

    Every setting is checked once, as the config is built (``rules``), so a bad one is refused,
    with one line naming it, before anything is written.
    """

    def _build_yaml_loader(self):
        super()._build_yaml_loader()  # adds RecBole's float syntax to yaml.FullLoader
        return SettingsLoader

    def compatibility_settings(self):
        # RecBole's own: its metrics and data code read numpy's old aliases (np.float, ...), which
        # it installs at every Config() from np.float_ and np.complex_, both gone in numpy 2. The
        # same aliases from names numpy 1 and 2 share, where numpy has none (numpy 2's np.bool
        # and np.long are these types already)
        import numpy as np

        aliases = {"bool": np.bool_, "int": np.int_, "float": np.float64, "complex": np.complex128,
                   "object": np.object_, "str": np.str_, "long": np.int_, "unicode": np.str_}
        for name, value in aliases.items():
            if name not in vars(np):
                setattr(np, name, value)

    def _load_config_files(self, file_list):
        settings = {}
        for file in file_list or []:
            settings.update(read_settings(file, self.yaml_loader, "config_files"))
        for key, value in settings.items():
            if is_path_setting(key) and is_number(value):  # `checkpoint_dir: 5`: the folder 5
                settings[key] = str(value)
        return settings

    def _update_internal_config_dict(self, file):
        # property files get the config files' checks: a dataset's can be the user's own
        settings = read_settings(file, self.yaml_loader, "settings file")
        self.internal_config_dict.update(settings)
        return settings

    def _convert_config_dict(self, config_dict):
        # RecBole eval()s every string value (command line, config dict, a params file's
        # choices); read as a literal instead, so that no value runs code
        for key, value in config_dict.items():
            if isinstance(value, str):
                config_dict[key] = literal_setting(value, path=is_path_setting(key))
        return config_dict

    def _load_cmd_line(self):
        # a command's own command line holds its options too: it passes the settings itself
        return {} if running_command() else super()._load_cmd_line()

    def _get_model_and_dataset(self, model, dataset):
        model = model or self.external_config_dict.get("model")
        if model is None:
            raise ValueError("no model given: pass --model=NAME (ELECRec or any RecBole model)")
        if isinstance(model, str):
            model = get_model(model)
        if dataset is None and "dataset" not in self.external_config_dict:
            raise ValueError("no dataset given: pass --dataset=NAME")
        check_dataset_name(dataset if dataset is not None else self.external_config_dict["dataset"])
        return super()._get_model_and_dataset(model, dataset)

    def _load_internal_config_dict(self, model, model_class, dataset):
        super()._load_internal_config_dict(model, model_class, dataset)
        model_files = model_property_files(model_class)
        # and, read before them, RecBole's settings of the backbone they are built from
        backbone = self.external_config_dict.get("backbone")
        backbone_file = (backbones.settings_file(backbone)
                         if issubclass(model_class, SASRecPlus) else None)
        for path in (
            PROPERTIES / "overall.yaml",
            *([backbone_file] if backbone_file else []),
            *model_files,
            PROPERTIES / "dataset" / f"{dataset}.yaml",
        ):
            if path.is_file():
                config_dict = self._update_internal_config_dict(path) or {}
                if path.parent.name == "dataset":
                    # a new list: RecBole's is shared by every Config of the process
                    self.parameters["Dataset"] = self.parameters["Dataset"] + [
                        key for key in config_dict if key not in self.parameters["Dataset"]
                    ]
        if backbone_file and backbones.layout(backbone) == "prefix":
            # one state per sequence: the backbone trains on RecBole's prefix rows
            self.internal_config_dict["prefix_augmentation"] = True

    def _init_device(self):
        if "local_rank" not in self.final_config_dict:
            return super()._init_device()
        # distributed: RecBole would force nccl with one GPU per process; pick what fits
        final = self.final_config_dict
        if isinstance(final["gpu_id"], tuple):
            final["gpu_id"] = ",".join(map(str, final["gpu_id"]))
        final["gpu_id"] = str(final["gpu_id"])
        os.environ["CUDA_VISIBLE_DEVICES"] = final["gpu_id"]
        final["device"] = process_device(final)  # the pipeline joins the group (quick_start)
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
        # checked before RecBole compares or formats them
        check_names(self.external_config_dict)
        check_types(self.external_config_dict, self.internal_config_dict)
        check_metrics(final)
        super()._set_default_parameters()
        check_settings(self)
