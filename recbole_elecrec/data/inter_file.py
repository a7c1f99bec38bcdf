"""A dataset's .inter file checked against the settings before RecBole loads it.

RecBole loads only the columns ``load_col`` names, and its default (for any dataset without a
YAML file) leaves out the time column that sequential models sort by; a missing or misnamed
column then fails deep inside RecBole. Here the columns come from the file's header line unless
the user chose them, and a column the settings name but the file lacks is refused in one line
that names the setting to change.
"""

from pathlib import Path

import yaml

import recbole
from recbole.utils import ModelType

# RecBole's load_col for a dataset that no YAML file describes (its properties/dataset/sample.yaml)
_SAMPLE = Path(recbole.__file__).parent / "properties" / "dataset" / "sample.yaml"
DEFAULT_LOAD_COL = yaml.safe_load(_SAMPLE.read_text(encoding="utf-8"))["load_col"]
TYPES = ("token", "float", "token_seq", "float_seq")


def read_header(path, separator, encoding):
    """``{column: type}`` from the header line of an atomic file (``name:type`` columns)."""
    try:
        with open(path, encoding=encoding) as file:
            line = file.readline().rstrip("\n")
    except UnicodeDecodeError:
        raise ValueError(f"{path} is not {encoding or 'locale-encoded'} text: set encoding to "
                         "its encoding (e.g. --encoding=latin-1)") from None
    header = {}
    for column in line.split(separator):
        name, _, kind = column.partition(":")
        if not name or kind not in TYPES:
            raise ValueError(
                f"{path}: header column {column!r} is not name:type (types: {', '.join(TYPES)}); "
                f"columns are separated by field_separator ({separator!r})")
        header[name] = kind
    return header


def check_inter_file(config, file_order):
    """Settle ``config['load_col']`` for the .inter file and check the columns it names.

    When neither the user nor a dataset YAML set ``load_col`` (or ``unload_col``), every column
    of the header is loaded, the time column included. ``file_order``: the dataset class orders
    a file without a time column by its rows; otherwise a model that sorts by time needs one.
    """
    if config["benchmark_filename"]:
        return  # pre-split files, named otherwise
    path = Path(config["data_path"]) / f"{config['dataset']}.inter"
    header = read_header(path, config["field_separator"], config["encoding"])
    check_columns(config, path, header)
    needs_time = (config["MODEL_TYPE"] == ModelType.SEQUENTIAL
                  or config["eval_args"].get("order") == "TO")
    loaded = loaded_columns(config, path, header)
    for key in ("USER_ID_FIELD", "ITEM_ID_FIELD", "TIME_FIELD"):
        name = config[key]
        if name in header and name not in loaded and (key != "TIME_FIELD" or needs_time):
            raise ValueError(f"load_col leaves out '{name}' ({key}) of {path}: add it to "
                             "load_col['inter']")
    time = config["TIME_FIELD"]
    if needs_time and not file_order and time not in header:
        raise ValueError(f"{path} has no time column '{time}' (TIME_FIELD), which "
                         f"{config['model']} orders interactions by: add one and set TIME_FIELD "
                         "to its name")


def check_columns(config, path, header):
    """The user and item columns exist; ids are tokens (RecBole renumbers those) and the time
    a float (a token time would sort by order of first appearance)."""
    roles = {"USER_ID_FIELD": "user", "ITEM_ID_FIELD": "item"}
    missing = [key for key in roles if config[key] and config[key] not in header]
    if missing:
        what = " or ".join(f"{roles[key]} column '{config[key]}' ({key})" for key in missing)
        raise ValueError(
            f"{path} has no {what} (its columns: {', '.join(header)}): set "
            f"{' and '.join(missing)} to the file's column name{'s' * (len(missing) > 1)} "
            f"(e.g. --{missing[0]}=NAME)")
    for key, kind in (("USER_ID_FIELD", "token"), ("ITEM_ID_FIELD", "token"),
                      ("TIME_FIELD", "float")):
        name = config[key]
        if name in header and header[name] != kind:
            raise ValueError(f"{path}: column '{name}' ({key}) must be {name}:{kind}, not "
                             f"{name}:{header[name]}")


def loaded_columns(config, path, header):
    """The .inter columns RecBole will load; all of the header's unless someone chose."""
    load_col, unload_col = config["load_col"], config["unload_col"] or {}
    if ("load_col" not in config.external_config_dict and load_col == DEFAULT_LOAD_COL
            and "inter" not in unload_col):
        load_col = config["load_col"] = {**load_col, "inter": list(header)}
    if load_col is not None and not isinstance(load_col, dict):
        raise ValueError(f"load_col must be a dict such as {{'inter': [...]}}, got '{load_col}'")
    if load_col is None or load_col.get("inter") == "*":
        return [name for name in header if name not in unload_col.get("inter", ())]
    if "inter" not in load_col:
        raise ValueError(f"load_col has no 'inter' list: add the columns of {path} to load "
                         f"(e.g. --load_col=\"{{'inter': {list(header)}}}\")")
    return load_col["inter"]
