"""A benchmark file: read, checked, and turned into its cells (one per model, dataset and seed)."""

import re
from pathlib import Path

from recbole_elecrec.settings_file import SettingsLoader, read_settings

SPEC_KEYS = ("settings", "datasets", "seeds", "models", "published", "note")
MODEL_KEYS = ("model", "label", "settings", "seeds")


def load_spec(path):
    """Read and check a benchmark file; returns the cells to run, in order, and the published
    numbers ({dataset: {label: {metric: value}}})."""
    spec = read_spec(path)
    return spec_cells(spec, path), spec["published"]


def read_spec(path):
    """The benchmark file's keys, each checked (a wrong type, or a dataset, seed or label given
    twice, which would run one cell several times), or one error naming the file and key."""
    spec = read_settings(path, SettingsLoader, "benchmark")
    unknown = set(spec) - set(SPEC_KEYS)
    if unknown:
        raise ValueError(f"{path}: unknown keys {sorted(unknown)} ({', '.join(SPEC_KEYS)})")
    if not isinstance(spec.get("note", ""), str):
        raise ValueError(f"{path}: note must be a text, got {spec['note']!r}")
    spec["datasets"] = check_list(spec.get("datasets"), is_name, "names", f"{path}: datasets")
    spec["settings"] = check_mapping(spec.get("settings"), f"{path}: settings")
    check_seeds(spec.get("seeds"), f"{path}: seeds")
    models = spec.get("models")
    if not isinstance(models, list) or not models:
        raise ValueError(f"{path}: models must be a non-empty list of model entries "
                         f"({{model: NAME, ...}}), got {models!r}")
    for entry in models:
        check_model_entry(entry, path)
    labels = [entry["label"] for entry in models]
    twice = given_twice(labels)
    if twice is not None:
        raise ValueError(f"{path}: models: two entries have the label {twice!r} (a label is the "
                         "model's name unless given): give each its own label")
    spec["published"] = check_published(spec.get("published"), spec["datasets"], labels, path)
    return spec


def check_list(values, is_valid, what, where):
    """``values``: a non-empty list of valid ``what``, none twice."""
    if not isinstance(values, list) or not values or not all(map(is_valid, values)):
        raise ValueError(f"{where} must be a non-empty list of {what}, got {values!r}")
    twice = given_twice(values)
    if twice is not None:
        raise ValueError(f"{where}: {twice!r} is given twice")
    return values


def given_twice(values):
    """The first value that ``values`` holds twice, or None."""
    return next((value for i, value in enumerate(values) if value in values[:i]), None)


def is_name(value):
    return isinstance(value, str) and bool(value.strip())


def check_mapping(value, where):
    """``value``: a mapping ({} when not given)."""
    if value is not None and not isinstance(value, dict):
        raise ValueError(f"{where} must be a mapping (key: value), got {value!r}")
    return value or {}


def check_seeds(seeds, where):
    """``seeds``: not given, or a non-empty list of integers, none twice."""
    if seeds is not None:
        check_list(seeds, lambda seed: type(seed) is int, "integers", where)


def check_model_entry(entry, path):
    """A model entry: a model name, and optionally a label (the model's name by default),
    settings and seeds of its own."""
    if not isinstance(entry, dict) or not is_name(entry.get("model")):
        raise ValueError(f"{path}: each model entry needs 'model: NAME' (got {entry!r})")
    where = f"{path}: model entry '{entry['model']}'"
    extra = set(entry) - set(MODEL_KEYS)
    if extra:
        raise ValueError(f"{where} has unknown keys {sorted(extra)} ({', '.join(MODEL_KEYS)})")
    entry.setdefault("label", entry["model"])
    if not is_name(entry["label"]):
        raise ValueError(f"{where}: label must be a name, got {entry['label']!r}")
    entry["settings"] = check_mapping(entry.get("settings"), f"{where}: settings")
    check_seeds(entry.get("seeds"), f"{where}: seeds")


def check_published(published, datasets, labels, path):
    """Published numbers: {dataset: {label: {metric: number}}}, of this file's datasets and
    labels."""
    published = check_mapping(published, f"{path}: published")
    for dataset, entries in published.items():
        for label, numbers in check_mapping(entries, f"{path}: published '{dataset}'").items():
            if dataset not in datasets or label not in labels:
                raise ValueError(f"{path}: published numbers for '{label}' on '{dataset}', "
                                 "which is not a model label and dataset of this file")
            if not isinstance(numbers, dict) or not all(
                    isinstance(v, (int, float)) for v in numbers.values()):
                raise ValueError(f"{path}: published '{label}' on '{dataset}' needs "
                                 "{metric: number} (e.g. {hit@10: 0.0968})")
    return published


def spec_cells(spec, path):
    """The cells of a checked spec, seed-major: every model's first seed on every dataset runs
    before any second seed, so a benchmark cut short still holds complete comparisons."""
    shared = dict(spec["settings"])
    if "data_path" in shared:  # relative to the benchmark file, so it runs from anywhere
        if not is_name(shared["data_path"]):
            raise ValueError(f"{path}: settings: data_path must be a path, "
                             f"got {shared['data_path']!r}")
        shared["data_path"] = str((Path(path).parent / shared["data_path"]).resolve())
    order, cells = [], []
    for d, dataset in enumerate(spec["datasets"]):
        for e, entry in enumerate(spec["models"]):
            for s, seed in enumerate(entry.get("seeds") or spec.get("seeds") or [2020]):
                settings = {**shared, **entry["settings"], "seed": seed}
                order.append((s, d, e))
                cells.append({"dataset": dataset, "label": entry["label"],
                              "model": entry["model"], "seed": seed, "settings": settings})
    check_cell_names(cells, path)
    return [cell for _, cell in sorted(zip(order, cells), key=lambda pair: pair[0])]


def check_cell_names(cells, path):
    """Cells whose names differ only where cell_name replaces characters would share a file."""
    named = {}
    for cell in cells:
        other = named.setdefault(cell_name(cell), cell)
        if other is not cell:
            raise ValueError(
                f"{path}: the cells of '{other['label']}' on '{other['dataset']}' and "
                f"'{cell['label']}' on '{cell['dataset']}' (seed {cell['seed']}) would share the "
                f"file {cell_name(cell)}.json: make their labels or datasets differ in letters "
                "or digits")


def cell_name(cell):
    """A file name for the cell (labels may hold spaces and brackets)."""
    return re.sub(r"[^A-Za-z0-9_.+-]", "_", f"{cell['dataset']}__{cell['label']}__seed{cell['seed']}")
