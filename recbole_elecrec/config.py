"""RecBole's Config, extended with this package's models and property files."""

import ast
import difflib
import glob
import functools
import math
import numbers
import os
from pathlib import Path

import recbole
import scipy.sparse
import torch
import yaml
from recbole.config import Config as RecBoleConfig
from recbole.evaluator.register import metric_types, metrics_dict
from recbole.utils import EvaluatorType, ModelType

from recbole_elecrec.distributed import process_device
from recbole_elecrec.files import check_not_held, check_writable_dir, check_writable_file
from recbole_elecrec.memory import check_memory
from recbole_elecrec.model import SASRecPlus, backbones
from recbole_elecrec.model.network import ATTENTIONS
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
    """``metrics`` must name RecBole metrics of one kind (RecBole evaluates either rankings or
    labelled scores) and ``topk`` hold positive integers."""
    metrics = final["metrics"]
    metrics = [metrics] if isinstance(metrics, str) else metrics or []
    for metric in metrics:
        if str(metric).lower() not in metrics_dict:
            raise ValueError(f"metrics: unknown metric '{metric}' (RecBole's: "
                             f"{', '.join(sorted(metrics_dict))})")
    if not metrics:
        raise ValueError("metrics is empty: name at least one, e.g. --metrics=\"['Hit', 'NDCG']\"")
    value = [m for m in metrics if metric_types[str(m).lower()] == EvaluatorType.VALUE]
    if value and len(value) < len(metrics):
        ranking = [m for m in metrics if m not in value]
        raise ValueError(f"metrics: value metrics ({', '.join(value)}) and ranking metrics "
                         f"({', '.join(ranking)}) cannot be evaluated together: choose one kind")
    if value and "full" in eval_modes(final["eval_args"]):
        raise ValueError(f"metrics: {', '.join(value)} score labelled interactions, which a full "
                         "ranking has none of: use ranking metrics (Hit, NDCG, GAUC, ...) or "
                         "eval_args mode 'labeled' (context-aware models such as FM)")


def eval_modes(eval_args):
    """The modes ``eval_args`` evaluates validation and test in, as RecBole completes them."""
    mode = eval_args.get("mode", "full") if isinstance(eval_args, dict) else "full"
    return (set(mode.values()) or {"full"}) if isinstance(mode, dict) else {mode}
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
      "eval_step", "embedding_size", "threads",
      *(f"{net}{size}" for net in NETWORKS
        for size in ("hidden_size", "n_layers", "n_heads", "inner_size"))),
     True, lambda value: value > 0, "positive"),
    # stopping_step 0 stops at the first validation without a gain; below, it would too
    (("stopping_step", "worker", "gen_warmup_epochs", "softmax_chunk_rows",
      "length_bucket_rows"), True, lambda value: value >= 0, ">= 0"),
    (("seed",), True, lambda value: True, "any integer"),
    (("learning_rate", "layer_norm_eps", "temperature", "ddp_join_timeout",
      *(f"{net}initializer_range" for net in NETWORKS)), False, lambda value: value > 0,
     "positive"),
    (("weight_decay", "gen_loss_weight", "dis_loss_weight"), False, lambda value: value >= 0,
     ">= 0"),
    (("dropout_prob", *(f"{net}{kind}_dropout_prob" for net in NETWORKS
                        for kind in ("hidden", "attn"))),
     False, lambda value: 0 <= value < 1, "in [0, 1)"),
]


# settings of RANGES that also take a word in place of a number
WORDS = {"softmax_chunk_rows": ("auto",)}


def check_ranges(config):
    for keys, integer, holds, requirement in RANGES:
        for key in keys:
            value = config[key]
            if value is None or value in WORDS.get(key, ()):
                continue
            if not (is_integer(value) if integer else is_number(value)):
                kind = "an integer" if integer else "a finite number"
                words = "".join(f" or '{word}'" for word in WORDS.get(key, ()))
                raise ValueError(f"{key} must be {kind}{words}, got '{value}'")
            if not holds(value):
                raise ValueError(f"{key} must be {requirement}, got {value}")


def check_paths(config):
    """Paths are paths (a YAML `yes` is not); the places a run writes to: creatable, writable
    and not held by another run, checked without creating them."""
    for key, value in config.final_config_dict.items():
        if is_path_setting(key) and not (value is None or isinstance(value, (str, os.PathLike))):
            raise ValueError(f"{key} must be a path, got '{value}'")
    if not str(config["checkpoint_dir"] or "").strip():
        raise ValueError("checkpoint_dir is empty: name the folder checkpoints are saved in "
                         "(default: saved)")
    check_writable_dir(config["checkpoint_dir"], "checkpoint_dir")
    state = config["training_state"]
    if state:
        if ("local_rank" in config.final_config_dict or (config["nproc"] or 1) > 1
                or (config["world_size"] or -1) > 0):
            raise ValueError("training_state works in single-process runs only (not with --nproc)")
        check_writable_file(state, "training_state")
        check_not_held(state, "training_state")


# RecBole's own pickles of a dataset and of its split loaders: it unpickles them when they exist,
# and an unpickled file can run any code, so this package neither writes nor reads them
PICKLE_SETTINGS = ("save_dataset", "dataset_save_path", "save_dataloaders",
                   "dataloaders_save_path")


def check_no_pickles(config):
    """Refuse the settings that make RecBole write or read its dataset and loader pickles, and
    a ``checkpoint_dir`` holding one: RecBole reads ``<dataset>-<DatasetClass>.pth`` and
    ``<dataset>-for-<model>-dataloader.pth`` there whenever they exist (a folder received from
    someone else)."""
    for key in PICKLE_SETTINGS:
        if config[key]:
            raise ValueError(f"{key} is not supported: RecBole keeps datasets and loaders as "
                             "pickles, and reading one back can run any code it holds (the data "
                             "loads from its atomic files instead)")
    if not isinstance(config["checkpoint_dir"], (str, os.PathLike)):
        return  # not a path: check_paths says so
    folder, dataset = Path(config["checkpoint_dir"]), glob.escape(config["dataset"])
    found = sorted([*folder.glob(f"{dataset}-*Dataset.pth"),
                    *folder.glob(f"{dataset}-for-*-dataloader.pth")])
    if found:
        raise ValueError(f"{found[0]} is a pickle RecBole would load (loading one can run any "
                         "code it holds): remove it or set another checkpoint_dir")


def check_dataset_name(dataset):
    """A dataset is named, not a path: RecBole reads ``<data_path>/<name>/<name>.inter`` and
    this package ``properties/dataset/<name>.yaml``."""
    if (not isinstance(dataset, str) or dataset in ("", ".", "..")
            or any(c in dataset for c in "/\\\0")):
        raise ValueError(f"dataset must be a name (a folder of data_path), not a path: "
                         f"'{dataset}'; set data_path to the folder that holds it")


def check_saved_settings(config):
    """The checks a config read from a file gets (a run replaces the paths it writes to by its
    own)."""
    check_dataset_name(config["dataset"])
    check_ranges(config)
    check_no_pickles(config)


# (key, allowed values): settings RecBole looks up in a table of its own, failing with the bare
# name (a KeyError) once the model is built; a key the model lacks is not checked
CHOICES = [
    # RecBole's FeedForward (SASRec, BERT4Rec, ... and this package's networks)
    ("hidden_act", ("gelu", "relu", "swish", "tanh", "sigmoid")),
    # this package's SASRec networks: a wrong value would silently run RecBole's attention
    ("attention", ATTENTIONS),
]


def check_choices(config):
    for key, allowed in CHOICES:
        if config[key] is not None and config[key] not in allowed:
            raise ValueError(f"{key} must be one of {list(allowed)}, got '{config[key]}'")


def check_encoding(encoding):
    """``encoding`` (of the dataset's atomic files; None: the locale's) must name a text codec
    Python has."""
    if encoding is None:
        return
    try:
        "".encode(encoding)  # LookupError for an unknown codec and for one of bytes (hex)
    except (LookupError, TypeError):
        raise ValueError(f"encoding must name a text encoding such as utf-8 or latin-1, got "
                         f"'{encoding}'") from None


# RecBole 1.2.1 models that build their graph with scipy's dok_matrix._update, which scipy 1.13
# removed (tests/test_settings_rules.py keeps this list equal to those RecBole's sources call it in)
DOK_UPDATE_MODELS = frozenset({"LightGCN", "NGCF", "NCL", "SpectralCF", "GCMC", "KGIN", "MCCLK"})


def check_runnable(model):
    """Refuse a RecBole model that cannot run with the libraries installed, before its data is
    loaded rather than once its constructor fails."""
    if model in DOK_UPDATE_MODELS and not hasattr(scipy.sparse.dok_matrix, "_update"):
        raise ValueError(f"model {model} cannot run with scipy {scipy.__version__}: RecBole "
                         "1.2.1 builds its graph with dok_matrix._update, which scipy 1.13 "
                         "removed (pip install 'scipy<1.13' to run it)")


def check_settings(config):
    """Refuse bad settings while nothing is loaded or written yet."""
    check_ranges(config)
    check_no_pickles(config)
    allowed = metric_names(config)
    if str(config["valid_metric"]).lower() not in allowed:
        raise ValueError(f"valid_metric must be one of {allowed} (from metrics and topk), got "
                         f"'{config['valid_metric']}'")
    if config["history_mask"] not in HISTORY_MASKS:
        raise ValueError(
            f"history_mask must be one of {list(HISTORY_MASKS)}, got '{config['history_mask']}'"
        )
    check_choices(config)
    check_encoding(config["encoding"])
    check_runnable(config["model"])
    check = getattr(config.model_class, "check_config", None)
    if check is not None:
        check(config)
    check_paths(config)


def check_data_fits(config, dataset):
    """The settings only the loaded data can refuse, refused before it is split or a model
    built: item lists larger than the memory, a top-k list longer than the items there are,
    and a model or evaluation that reads labels (context-aware models such as FM, eval_args mode
    'labeled') on data without them."""
    if config["MODEL_TYPE"] == ModelType.SEQUENTIAL:  # RecBole's item lists, on the CPU
        length = config["MAX_ITEM_LIST_LENGTH"]
        check_memory(8 * length * dataset.inter_num, torch.device("cpu"),
                     "its item lists (up to one row of that many ids per interaction)",
                     f"MAX_ITEM_LIST_LENGTH {length} ({dataset.inter_num} interactions)")
    items = dataset.item_num - 1  # the padding id 0 is no item
    if max(config["topk"]) > items:
        raise ValueError(f"topk {max(config['topk'])} is more than the {items} items of "
                         f"{config['dataset']}: a top-k list holds each item at most once")
    sampled = (config["train_neg_sample_args"] or {}).get("distribution") not in (None, "none")
    reads_labels = ("labeled" in eval_modes(config["eval_args"]) or (
        config["MODEL_TYPE"] in (ModelType.CONTEXT, ModelType.DECISIONTREE) and not sampled))
    if reads_labels and config["LABEL_FIELD"] not in dataset.field2type:
        raise ValueError(
            f"model {config['model']} reads a label per interaction (LABEL_FIELD "
            f"'{config['LABEL_FIELD']}') and {config['dataset']} has none: add that column to "
            "its .inter file, or set threshold to derive it from a rating column (e.g. "
            "--threshold=\"{'rating': 4}\")")


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
