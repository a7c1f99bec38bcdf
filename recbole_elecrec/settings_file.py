"""Settings files read safely, and settings given as text: the ground floor under ``Config``.

Reading a YAML file of settings here imports neither torch nor RecBole, so a tool that only
reads such files (a benchmark file) starts fast.
"""

import ast
import math
import numbers
from pathlib import Path

import yaml

# The package's property files: inside the package where it is installed from a wheel (setup.py
# puts the repository's properties/ there), else the repository's own folder (a checkout or an
# editable install).
_PACKAGE = Path(__file__).resolve().parent
PROPERTIES = (_PACKAGE / "properties" if (_PACKAGE / "properties").is_dir()
              else _PACKAGE.parent / "properties")


def model_property_files(model_class):
    """A model's YAML files: its base classes' first (ELECRec reads SASRecPlus.yaml, then its
    own)."""
    return [PROPERTIES / "model" / f"{cls.__name__}.yaml" for cls in reversed(model_class.__mro__)]


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
