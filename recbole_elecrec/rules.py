"""The rules every setting is checked by, each in one place: ``Config`` runs ``check_settings``
once as it is built (a model's own rules, its ``check_config``, among them), a config restored
from a checkpoint ``check_saved_settings``, and the pipeline ``check_data_fits`` once the data
is loaded."""

import difflib
import functools
import glob
import os
from pathlib import Path

import recbole
import scipy.sparse
import torch
import yaml
from recbole.evaluator.register import metric_types, metrics_dict
from recbole.utils import EvaluatorType, ModelType

from recbole_elecrec.files import check_not_held, check_writable_dir, check_writable_file
from recbole_elecrec.memory import check_memory
from recbole_elecrec.model.network import ATTENTIONS
from recbole_elecrec.optim import SHARED_UPDATES
from recbole_elecrec.protocols import HISTORY_MASKS
from recbole_elecrec.settings_file import PROPERTIES, is_integer, is_number, is_path_setting



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
    topk = final["topk"]
    for k in [topk] if not isinstance(topk, list) else topk:
        if not is_integer(k) or k <= 0:
            raise ValueError(f"topk must be a positive integer or a list of them, got '{topk}'")


def eval_modes(eval_args):
    """The modes ``eval_args`` evaluates validation and test in, as RecBole completes them."""
    mode = eval_args.get("mode", "full") if isinstance(eval_args, dict) else "full"
    return (set(mode.values()) or {"full"}) if isinstance(mode, dict) else {mode}


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
      "eval_step", "threads",
      *(f"{net}{size}" for net in NETWORKS
        for size in ("hidden_size", "embedding_size", "n_layers", "n_heads", "inner_size"))),
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
    # the trainer's (optim.update_twice): any other value would silently update once
    ("shared_updates", SHARED_UPDATES),
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
    check_model(config)
    check_paths(config)


def check_model(config):
    """The model's own rules (its ``check_config``), where it has them: run here, once, not
    again as it is built."""
    check = getattr(config.model_class, "check_config", None)
    if check is not None:
        check(config)


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

