"""A dataset's .inter file checked against the settings before RecBole loads it.

RecBole loads only the columns ``load_col`` names, and its default (for any dataset without a
YAML file) leaves out the time column that sequential models sort by; a missing or misnamed
column then fails deep inside RecBole. Here the columns come from the file's header line (for
a sequential model, those it reads) unless the user chose them, and a column the settings name
but the file lacks is refused in one line that names the setting to change; so is a row that
RecBole would read wrong (shifted columns, a missing id or time), naming its line.
"""

import csv
import math
import re
from pathlib import Path

import yaml

import recbole
from pandas._libs.parsers import STR_NA_VALUES
from recbole.utils import ModelType

# RecBole's load_col for a dataset that no YAML file describes (its properties/dataset/sample.yaml)
_SAMPLE = Path(recbole.__file__).parent / "properties" / "dataset" / "sample.yaml"
DEFAULT_LOAD_COL = yaml.safe_load(_SAMPLE.read_text(encoding="utf-8"))["load_col"]
TYPES = ("token", "float", "token_seq", "float_seq")
# words of a column name that say it holds a time ("event_time", "ts", "Date", ...)
TIME_WORDS = {"time", "ts", "date", "datetime", "timestamp", "stamp"}


def read_header(path, separator, encoding):
    """``{column: type}`` from the header line of an atomic file (``name:type`` columns)."""
    try:
        with open(path, encoding=encoding) as file:
            line = file.readline().rstrip("\n")
    except UnicodeDecodeError:
        raise ValueError(not_encoded(path, encoding)) from None
    header = {}
    for column in line.split(separator):
        name, _, kind = column.partition(":")
        if not name or kind not in TYPES:
            raise ValueError(
                f"{path}: header column {column!r} is not name:type (types: {', '.join(TYPES)}); "
                f"columns are separated by field_separator ({separator!r})")
        header[name] = kind
    return header


def not_encoded(path, encoding, line=None):
    """The error line for a file that ``encoding`` cannot decode (at or after ``line``)."""
    where = f" (after line {line})" if line else ""
    return (f"{path} is not {encoding or 'locale-encoded'} text{where}: set encoding to its "
            "encoding (e.g. --encoding=latin-1)")


def check_inter_file(config, file_order):
    """Settle ``config['load_col']`` for the .inter file and check the columns it names.

    When neither the user nor a dataset YAML set ``load_col`` (or ``unload_col``), the header's
    columns are loaded, the time column included (``default_columns``). ``file_order``: the
    dataset class is this package's, which orders a file without a time column by its rows and
    checks the rows as it reads them (``reader``); otherwise a model that sorts by time needs a
    time column, and the rows are checked here.
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
    if needs_time and time and time not in header:
        check_time_like(config, path, header)
    if not file_order:
        check_rows(config, path, header, loaded)


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


def check_time_like(config, path, header):
    """Refuse file order while the file has a column that looks like its time: an export's
    time column under another name would otherwise train silently in the rows' order."""
    ids = {config["USER_ID_FIELD"], config["ITEM_ID_FIELD"]}
    named = [name for name in header
             if name not in ids and TIME_WORDS & set(re.split(r"[^a-z]+", name.lower()))]
    floats = [name for name in header if name not in ids and header[name] == "float"]
    if named or floats:
        name = (named or floats)[0]
        kind = "" if header[name] == "float" else f" (as {name}:float)"
        raise ValueError(
            f"{path} has no time column '{config['TIME_FIELD']}' (TIME_FIELD) but has "
            f"'{name}'{kind}: set TIME_FIELD to it (--TIME_FIELD={name}), or --TIME_FIELD=None "
            "to order each user's interactions as the file does")


def loaded_columns(config, path, header):
    """The .inter columns RecBole will load: ``default_columns`` unless someone chose."""
    load_col, unload_col = config["load_col"], config["unload_col"] or {}
    if default_load(config):
        load_col = config["load_col"] = {**load_col, "inter": default_columns(config, header)}
    if load_col is not None and not isinstance(load_col, dict):
        raise ValueError(f"load_col must be a dict such as {{'inter': [...]}}, got '{load_col}'")
    if load_col is None or load_col.get("inter") == "*":
        return [name for name in header if name not in unload_col.get("inter", ())]
    if "inter" not in load_col:
        raise ValueError(f"load_col has no 'inter' list: add the columns of {path} to load "
                         f"(e.g. --load_col=\"{{'inter': {list(header)}}}\")")
    return load_col["inter"]


def default_load(config):
    """Whether nobody chose the .inter columns: neither the user nor a dataset YAML set
    ``load_col`` (RecBole's own is ``DEFAULT_LOAD_COL``), nor ``unload_col['inter']``. Read
    from the settings as given, so it holds after ``loaded_columns`` settled ``load_col``."""
    return ("load_col" not in config.external_config_dict
            and config.internal_config_dict.get("load_col") == DEFAULT_LOAD_COL
            and "inter" not in (config["unload_col"] or {}))


def default_columns(config, header):
    """The header's columns, or for a sequential model those its settings name: the user, item
    and time (its features come from .item files), a label (DIN's and DIEN's) and what
    ``threshold`` or ``val_interval`` reads. Any other column (a rating) would be read and
    kept, and by RecBole's sequential datasets turned into a list field, for nothing."""
    if config["MODEL_TYPE"] != ModelType.SEQUENTIAL:
        return list(header)
    named = {config[key] for key in ("USER_ID_FIELD", "ITEM_ID_FIELD", "TIME_FIELD",
                                     "LABEL_FIELD")}
    for key in ("threshold", "val_interval"):
        named.update(config[key] or ())
    return [name for name in header if name in named]


def column_note(config, path):
    """The log line of a default load that leaves columns of ``path`` out, or None."""
    if not default_load(config):
        return None
    header = read_header(path, config["field_separator"], config["encoding"])
    loaded = default_columns(config, header)
    left_out = [name for name in header if name not in loaded]
    if not left_out:
        return None
    return (f"{Path(path).name}: loading {', '.join(loaded)}; left out: {', '.join(left_out)} "
            "(not used by sequential models; set load_col to load them)")


def check_rows(config, path, header, loaded):
    """Every row has the header's fields, and its user, item and time are there.

    RecBole reads the file with pandas' python parser, which splits rows as ``csv`` does (the
    field separator, '"' quotes). A row with a field too many or too few shifts or blanks the
    columns; a missing id becomes RecBole's padding id, and a missing time its column's mean,
    which reorders the user's sequence: each is refused here with its line.
    """
    separator = config["field_separator"]
    if len(separator) != 1:
        return  # pandas splits on a regular expression then: rows are not checked
    names = list(header)
    checks = [(names.index(config[key]), key, check)
              for key, check in (("USER_ID_FIELD", _token), ("ITEM_ID_FIELD", _token),
                                 ("TIME_FIELD", _finite))
              if config[key] in loaded and config[key] in header]
    with open(path, encoding=config["encoding"], newline="") as file:
        rows = csv.reader(file, delimiter=separator, strict=True)
        line = 1
        try:
            next(rows)  # the header, checked by read_header
            line = rows.line_num + 1
            for row in rows:
                if len(row) > 1 or (row and row[0].strip()):  # pandas skips blank lines
                    problem = _row_problem(row, names, checks, separator)
                    if problem:
                        raise ValueError(f"{path}, line {line}: {problem}")
                line = rows.line_num + 1
        except csv.Error as error:
            raise ValueError(f"{path}, line {line}: {error}") from None
        except UnicodeDecodeError:
            raise ValueError(not_encoded(path, config["encoding"], line)) from None


def _row_problem(row, names, checks, separator):
    """What is wrong with one row, or None."""
    if len(row) != len(names):
        return (f"{len(row)} fields where the header has {len(names)} ({', '.join(names)}); "
                f"is there a field separator ({separator!r}) inside a value, or one missing?")
    for index, key, check in checks:
        problem = check(row[index])
        if problem:
            return f"{names[index]} ({key}) {problem}"
    return None


def _present(value):
    if value in STR_NA_VALUES:  # pandas' missing values
        return f"is missing ({value!r} reads as no value)"
    return None


def _token(value):
    """An id: present, without spaces around it (RecBole keeps them: ' 5' and '5' would be two
    items)."""
    if value != value.strip():
        return (f"{value!r} has spaces around it, which would make it another id than "
                f"{value.strip()!r}: remove them")
    return _present(value)


def _finite(value):
    missing = _present(value)
    if missing:
        return missing
    try:
        number = float(value)  # as pandas' python parser converts a float column
    except ValueError:
        return f"{value!r} is not a number"
    return None if math.isfinite(number) else f"{value!r} is not a finite number"
