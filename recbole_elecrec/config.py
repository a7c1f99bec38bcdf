"""RecBole's Config, extended with this package's models and property files."""

import ast
import difflib
import functools
import math
import numbers
import os
from pathlib import Path

import recbole
import yaml
from recbole.config import Config as RecBoleConfig
from recbole.evaluator.register import metrics_dict
from recbole.utils import ModelType

from recbole_elecrec.distributed import process_device
from recbole_elecrec.files import check_not_held, check_writable_dir, check_writable_file
from recbole_elecrec.model import SASRecPlus, backbones
from recbole_elecrec.protocols import HISTORY_MASKS
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
    dict (where the commands put their ``--key=value`` settings: unlike RecBole's, this Config
    does not read ``sys.argv``).

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
        # the commands parse their own command lines and pass the settings as config_dict
        # (settings_from_args): a Config built inside a process reads none of its arguments
        return {}

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


MAX_YAML_VALUES = 10_000  # what a settings file may expand to through its aliases


class TooManyValues(yaml.YAMLError):
    """A YAML document whose aliases expand it past MAX_YAML_VALUES values."""


class BadNode(yaml.YAMLError):
    """A YAML node no settings file may hold: a key given twice in a mapping (PyYAML silently
    keeps the last), or a Python tag (``!!python/tuple``: settings are plain values)."""


PYTHON_TAG = "tag:yaml.org,2002:python/"


class SettingsLoader(yaml.FullLoader):
    """RecBole's YAML loader, refusing a document whose aliases expand it past MAX_YAML_VALUES
    values (a small "billion laughs" file grows, once RecBole logs or copies the settings, into
    more memory than there is), that gives a key twice or that holds a Python tag."""

    def compose_document(self):
        node = super().compose_document()
        if expanded_size(node, {}) > MAX_YAML_VALUES:
            raise TooManyValues(f"its aliases expand it past {MAX_YAML_VALUES} values")
        check_nodes(node, set())
        return node


def check_nodes(node, checked):
    """Raise BadNode for a key given twice in a mapping of ``node`` (a key a ``<<`` merge
    brings in may be overridden: that is what merging is for) or a Python tag in it."""
    if id(node) in checked:
        return
    checked.add(id(node))
    if node.tag.startswith(PYTHON_TAG):
        raise BadNode(f"line {node.start_mark.line + 1} has the tag "
                      f"!!python/{node.tag[len(PYTHON_TAG):]}: settings are plain YAML values")
    if isinstance(node, yaml.MappingNode):
        lines = {}
        for key, _ in node.value:
            if isinstance(key, yaml.ScalarNode) and key.tag != "tag:yaml.org,2002:merge":
                line = lines.setdefault((key.tag, key.value), key.start_mark.line + 1)
                if line != key.start_mark.line + 1:
                    raise BadNode(f"key '{key.value}' is given twice, at lines {line} and "
                                  f"{key.start_mark.line + 1}")
        children = [child for pair in node.value for child in pair]
    else:
        children = node.value if isinstance(node, yaml.SequenceNode) else []
    for child in children:
        check_nodes(child, checked)


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
    except BadNode as error:
        raise ValueError(f"{setting}: {file}: {error}") from None
    except yaml.YAMLError as error:
        raise ValueError(f"{setting}: {file} is not valid YAML ({yaml_problem(error)})") \
            from None
    except RecursionError:
        raise ValueError(f"{setting}: {file} is nested too deeply") from None
    if settings is not None and not isinstance(settings, dict):
        raise ValueError(f"{setting}: {file} holds no 'key: value' settings")
    return settings or {}


def settings_from_args(args):
    """The ``--key=value`` settings of a command line as a config dict of strings (Config reads
    each as a Python literal), or one clear error: RecBole's Config silently dropped anything
    else (``--epochs 5`` trained 300 epochs)."""
    settings = {}
    for arg in args:
        key, equals, value = arg[2:].partition("=")
        if not arg.startswith("--") or not key or not equals:
            raise ValueError(f"unrecognized argument '{arg}': settings are --key=value")
        if settings.setdefault(key, value) != value:
            raise ValueError(f"--{key} is given twice, as '{settings[key]}' and '{value}'")
    return settings


def literal_setting(text, path=False):
    """A setting given as text: the Python literal it spells (``[1, 2]``, ``0.5``, ``None``),
    true / false in any case, else the text itself. A ``path`` is the text unless it spells a
    string or None (``--checkpoint_dir=5``: the folder 5)."""
    try:
        value = ast.literal_eval(text)
    except (ValueError, TypeError, SyntaxError, MemoryError, RecursionError):
        return {"true": True, "false": False}.get(text.lower(), text)
    kept = (str,) if path else (str, int, float, list, tuple, dict, bool)  # RecBole's eval()'s
    return value if value is None or isinstance(value, kept) else text


def is_path_setting(key):
    """Whether a setting names a file or folder (RecBole's ``*_path`` and ``*_dir`` ones)."""
    return isinstance(key, str) and (key == "training_state" or key.endswith(("_path", "_dir")))


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


# settings code gives a Config rather than a property file: RecBole's and this package's
# distributed runs' (quick_start.run)
CODE_SETTINGS = frozenset({"model", "dataset", "config_files", "local_rank", "world_size", "ip",
                           "port", "nproc", "offset"})
NEAR_MISS = 0.85  # difflib's similarity from which an unknown setting is a known one misspelt


@functools.lru_cache(maxsize=None)
def known_settings():
    """Every setting RecBole's and this package's property files name (every model's and
    dataset's), and CODE_SETTINGS."""
    files = [*(Path(recbole.__file__).parent / "properties").rglob("*.yaml"),
             *PROPERTIES.rglob("*.yaml")]
    known = set(CODE_SETTINGS)
    for file in files:
        settings = yaml.safe_load(file.read_text(encoding="utf-8"))
        known.update(settings if isinstance(settings, dict) else ())
    return frozenset(known)


def check_names(given):
    """Refuse a setting that no one knows but that is spelt like one that is known: RecBole
    would silently ignore the misspelt one. Other unknown settings are kept (a custom model's)."""
    known = known_settings()
    for key in given:
        close = (difflib.get_close_matches(key, known, n=1, cutoff=NEAR_MISS)
                 if isinstance(key, str) and key not in known else [])
        if close:
            raise ValueError(f"unknown setting '{key}' (did you mean '{close[0]}'?)")


NETWORKS = ("", "gen_", "dis_")  # RecBole's transformers' settings, and ELECRec's two networks'
# (keys, integers only, holds, what it requires); a key the model lacks is not checked
RANGES = [
    (("epochs", "train_batch_size", "eval_batch_size", "MAX_ITEM_LIST_LENGTH",
      # RecBole skips validation below 1, and tests the last model: there would be no best one
      "eval_step", "embedding_size",
      *(f"{net}{size}" for net in NETWORKS
        for size in ("hidden_size", "n_layers", "n_heads", "inner_size"))),
     True, lambda value: value > 0, "positive"),
    # stopping_step 0 stops at the first validation without a gain; below, it would too
    (("stopping_step", "worker", "gen_warmup_epochs", "softmax_chunk_rows",
      "length_bucket_rows"), True, lambda value: value >= 0, ">= 0"),
    (("seed",), True, lambda value: True, "any integer"),
    (("learning_rate", "layer_norm_eps", "temperature",
      *(f"{net}initializer_range" for net in NETWORKS)), False, lambda value: value > 0,
     "positive"),
    (("weight_decay", "gen_loss_weight", "dis_loss_weight"), False, lambda value: value >= 0,
     ">= 0"),
    (("dropout_prob", *(f"{net}{kind}_dropout_prob" for net in NETWORKS
                        for kind in ("hidden", "attn"))),
     False, lambda value: 0 <= value < 1, "in [0, 1)"),
]


def check_ranges(config):
    for keys, integer, holds, requirement in RANGES:
        for key in keys:
            value = config[key]
            if value is None:
                continue
            if not (is_integer(value) if integer else is_number(value)):
                kind = "an integer" if integer else "a finite number"
                raise ValueError(f"{key} must be {kind}, got '{value}'")
            if not holds(value):
                raise ValueError(f"{key} must be {requirement}, got {value}")


def check_paths(config):
    """Paths are paths (a YAML `yes` is not); the places a run writes to: creatable, writable
    and not held by another run, checked without creating them."""
    for key, value in config.final_config_dict.items():
        if is_path_setting(key) and not (value is None or isinstance(value, (str, os.PathLike))):
            raise ValueError(f"{key} must be a path, got '{value}'")
    check_writable_dir(config["checkpoint_dir"], "checkpoint_dir")
    state = config["training_state"]
    if state:
        if ("local_rank" in config.final_config_dict or (config["nproc"] or 1) > 1
                or (config["world_size"] or -1) > 0):
            raise ValueError("training_state works in single-process runs only (not with --nproc)")
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
