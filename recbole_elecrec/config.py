"""RecBole's Config, extended with this package's models and property files."""

import ast
import math
import numbers
import os
import sys
from pathlib import Path

import yaml
from recbole.config import Config as RecBoleConfig
from recbole.evaluator.register import metrics_dict
from recbole.utils import ModelType

from recbole_elecrec.distributed import init_process_group
from recbole_elecrec.files import check_not_held, check_writable_dir, check_writable_file
from recbole_elecrec.model import SASRecPlus, backbones
from recbole_elecrec.trainer import HISTORY_MASKS
from recbole_elecrec.utils import get_model

# The package's property files: inside the package where it is installed from a wheel (setup.py
# puts the repository's properties/ there), else the repository's own folder (a checkout or an
# editable install).
_PACKAGE = Path(__file__).resolve().parent
PROPERTIES = (_PACKAGE / "properties" if (_PACKAGE / "properties").is_dir()
              else _PACKAGE.parent / "properties")


class Config(RecBoleConfig):
    """RecBole's ``Config`` that also knows ELECRec and reads ``properties/``.

    Resolution order, low to high: RecBole's own property files; ``properties/overall.yaml``;
    ``properties/model/<model>.yaml``; ``properties/dataset/<dataset>.yaml``; config files; config
    dict; ``--key=value`` on the command line.

    Every setting is checked as the config is built (types, ranges, metrics, the paths a run
    writes to), so a bad one is refused, with one line naming it, before anything is written.
    """

    def _build_yaml_loader(self):
        super()._build_yaml_loader()  # adds RecBole's float syntax to yaml.FullLoader
        return SettingsLoader

    def _load_config_files(self, file_list):
        settings = {}
        for file in file_list or []:
            settings.update(read_settings(file, self.yaml_loader, "config_files"))
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
                config_dict[key] = literal_setting(value)
        return config_dict

    def _load_cmd_line(self):
        # RecBole raises a SyntaxError for a key given twice with different values
        seen = {}
        for arg in sys.argv[1:]:
            key, _, value = arg.partition("=")
            if arg.startswith("--") and seen.setdefault(key, value) != value:
                raise ValueError(f"{key} is given twice, as '{seen[key]}' and '{value}'")
        return super()._load_cmd_line()

    def _get_model_and_dataset(self, model, dataset):
        model = model or self.external_config_dict.get("model")
        if model is None:
            raise ValueError("no model given: pass --model=NAME (ELECRec or any RecBole model)")
        if isinstance(model, str):
            model = get_model(model)
        if dataset is None and "dataset" not in self.external_config_dict:
            raise ValueError("no dataset given: pass --dataset=NAME")
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
                    self.parameters["Dataset"] += [
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
        # checked before RecBole compares or formats them
        check_types(self.external_config_dict, self.internal_config_dict)
        check_metrics(final)
        super()._set_default_parameters()
        check_settings(self)


MAX_YAML_VALUES = 10_000  # what a settings file may expand to through its aliases


class TooManyValues(yaml.YAMLError):
    """A YAML document whose aliases expand it past MAX_YAML_VALUES values."""


class SettingsLoader(yaml.FullLoader):
    """RecBole's YAML loader, refusing a document whose aliases expand it past MAX_YAML_VALUES
    values: a small "billion laughs" file grows, once RecBole logs or copies the settings, into
    more memory than there is."""

    def compose_document(self):
        node = super().compose_document()
        if expanded_size(node, {}) > MAX_YAML_VALUES:
            raise TooManyValues(f"its aliases expand it past {MAX_YAML_VALUES} values")
        return node


def expanded_size(node, sizes):
    """The values a YAML node stands for with its aliases expanded (infinite for one holding
    itself); ``sizes`` memoizes per node, so counting takes time in the file's size, not in
    the expansion's."""
    if id(node) not in sizes:
        sizes[id(node)] = math.inf  # while counting it: an alias to it from inside is endless
        if isinstance(node, yaml.MappingNode):
            children = [child for pair in node.value for child in pair]
        else:
            children = node.value if isinstance(node, yaml.SequenceNode) else []
        sizes[id(node)] = 1 + sum(expanded_size(child, sizes) for child in children)
    return sizes[id(node)]


def read_settings(file, loader, setting):
    """The ``key: value`` settings of a YAML file, or one clear error naming ``setting``."""
    try:
        settings = yaml.load(Path(file).read_text(encoding="utf-8"), Loader=loader)
    except OSError as error:
        raise ValueError(f"{setting}: cannot read {file} ({error.strerror})") from None
    except UnicodeDecodeError:
        raise ValueError(f"{setting}: {file} is not UTF-8 text") from None
    except TooManyValues as error:
        raise ValueError(f"{setting}: {file} is refused: {error}") from None
    except yaml.YAMLError as error:
        raise ValueError(f"{setting}: {file} is not valid YAML ({yaml_problem(error)})") \
            from None
    except RecursionError:
        raise ValueError(f"{setting}: {file} is nested too deeply") from None
    if settings is not None and not isinstance(settings, dict):
        raise ValueError(f"{setting}: {file} holds no 'key: value' settings")
    return settings or {}


def literal_setting(text):
    """A setting given as text: the Python literal it spells (``[1, 2]``, ``0.5``, ``None``),
    true / false in any case, else the text itself."""
    try:
        value = ast.literal_eval(text)
    except (ValueError, TypeError, SyntaxError, MemoryError, RecursionError):
        return {"true": True, "false": False}.get(text.lower(), text)
    kept = (str, int, float, list, tuple, dict, bool)  # what RecBole keeps of its eval()
    return value if value is None or isinstance(value, kept) else text


def yaml_problem(error):
    """A YAML error in one line: what and where."""
    mark = getattr(error, "problem_mark", None)
    problem = getattr(error, "problem", None) or str(error).splitlines()[0]
    return f"{problem} at line {mark.line + 1}" if mark else problem


def is_number(value):
    return isinstance(value, numbers.Real) and not isinstance(value, bool) and math.isfinite(value)


def is_integer(value):
    return isinstance(value, numbers.Integral) and not isinstance(value, bool)


def check_types(given, defaults):
    """A setting whose default is a number or a boolean must be given one.

    RecBole keeps a command-line value it cannot evaluate ('abc', 'nan') as a string, which
    fails later with a traceback or, compared as text, silently.
    """
    for key, value in given.items():
        default = defaults.get(key)
        if isinstance(default, bool):
            if not isinstance(value, bool):
                raise ValueError(f"{key} must be True or False, got '{value}'")
        elif is_number(default) and not is_number(value):
            raise ValueError(f"{key} must be a finite number, got '{value}'")


def check_metrics(final):
    """``metrics`` must name RecBole metrics and ``topk`` hold positive integers."""
    metrics = final["metrics"]
    for metric in [metrics] if isinstance(metrics, str) else metrics or []:
        if str(metric).lower() not in metrics_dict:
            raise ValueError(f"metrics: unknown metric '{metric}' (RecBole's: "
                             f"{', '.join(sorted(metrics_dict))})")
    topk = final["topk"]
    for k in [topk] if not isinstance(topk, list) else topk:
        if not is_integer(k) or k <= 0:
            raise ValueError(f"topk must be a positive integer or a list of them, got '{topk}'")


def metric_names(config):
    """The names evaluation reports (``hit@10``, ``gauc``): what ``valid_metric`` may be."""
    names = []
    for metric in (m.lower() for m in config["metrics"]):
        needs = metrics_dict[metric].metric_need
        if "rec.topk" in needs or "rec.items" in needs:
            names += [f"{metric}@{k}" for k in config["topk"]]
        else:
            names.append(metric)
    return names


POSITIVE_INTEGERS = ("epochs", "train_batch_size", "eval_batch_size", "MAX_ITEM_LIST_LENGTH")
INTEGERS = ("seed", "eval_step", "stopping_step", "worker")


def check_ranges(config):
    for key in POSITIVE_INTEGERS + INTEGERS:
        value = config[key]
        if value is not None and not is_integer(value):
            raise ValueError(f"{key} must be an integer, got '{value}'")
    for key in POSITIVE_INTEGERS:
        if config[key] is not None and config[key] <= 0:
            raise ValueError(f"{key} must be positive, got {config[key]}")
    if not config["learning_rate"] > 0:
        raise ValueError(f"learning_rate must be positive, got {config['learning_rate']}")
    if not config["weight_decay"] >= 0:
        raise ValueError(f"weight_decay must be >= 0, got {config['weight_decay']}")


def check_paths(config):
    """The places a run writes to: creatable, writable and not held by another run, checked
    without creating them."""
    check_writable_dir(config["checkpoint_dir"], "checkpoint_dir")
    state = config["training_state"]
    if state:
        check_writable_file(state, "training_state")
        check_not_held(state, "training_state")


def check_settings(config):
    """Refuse bad settings while nothing is loaded or written yet."""
    check_ranges(config)
    allowed = metric_names(config)
    if str(config["valid_metric"]).lower() not in allowed:
        raise ValueError(f"valid_metric must be one of {allowed} (from metrics and topk), got "
                         f"'{config['valid_metric']}'")
    if config["history_mask"] not in HISTORY_MASKS:
        raise ValueError(
            f"history_mask must be one of {list(HISTORY_MASKS)}, got '{config['history_mask']}'"
        )
    check = getattr(config.model_class, "check_config", None)
    if check is not None:
        check(config)
    check_paths(config)


def model_property_files(model_class):
    """A model's YAML files: its base classes' first (ELECRec reads SASRecPlus.yaml, then its
    own)."""
    return [PROPERTIES / "model" / f"{cls.__name__}.yaml" for cls in reversed(model_class.__mro__)]


def model_defaults(config):
    """The settings of this package's YAML files for ``config``'s model ({} for RecBole's)."""
    defaults = {}
    for path in model_property_files(get_model(config["model"])):
        if path.is_file():
            text = path.read_text(encoding="utf-8")
            defaults.update(yaml.load(text, Loader=config.yaml_loader) or {})
    return defaults
