"""Bad-input cases (data files, prepare, benchmark specs): rows for tests/test_bad_inputs.py's table."""

HEADER = "user_id:token\titem_id:token\ttimestamp:float"
# .inter files (data_NAME/data_NAME.inter) with one bad row, line 3: as RecBole would misread it
INTER = {
    "tab": "u1\ti\t2\t1",  # a tab inside an item id: the columns shift
    "short": "u1\ti2",  # no time: pandas would read it as NaN
    "empty_time": "u1\ti2\t",  # NaN: RecBole fills in the mean, which reorders the user
    "nan_time": "u1\ti2\tnan",
    "text_time": "u1\ti2\tlate",
    "inf_time": "u1\ti2\tinf",
    "missing_item": "u1\tNA\t2",  # pandas reads NA as missing: RecBole's padding item
    "open_quote": 'u1\t"i2\t2',  # a quoted value runs to the end of the file
    "spaced_item": "u1\ti2 \t2",  # RecBole keeps the space: another item than i2
}
# CSV exports whose time column is not called timestamp (file order would ignore it)
CSV = {"time": "user:token,item:token,time:float", "date": "user:token,item:token,date:token",
       "rating": "user:token,item:token,rating:float"}
BENCHMARK = "models: [{model: ELECRec}]\n"  # a model entry, for specs whose problem lies elsewhere
SPECS = {  # benchmark files, data_NAME.yaml
    "datasets_text": "datasets: toy\n" + BENCHMARK,
    "datasets_twice": "datasets: [toy, toy]\n" + BENCHMARK,
    "datasets_empty_name": "datasets: ['']\n" + BENCHMARK,
    "seeds_twice": "datasets: [toy]\nseeds: [1, 1]\n" + BENCHMARK,
    "seeds_bool": "datasets: [toy]\nseeds: [true]\n" + BENCHMARK,
    "model_seeds_twice": "datasets: [toy]\nmodels: [{model: ELECRec, seeds: [2, 2]}]\n",
    "labels_twice": "datasets: [toy]\nmodels: [{model: ELECRec}, {model: ELECRec, seeds: [2]}]\n",
    "cells_clash": "datasets: [toy]\nmodels: [{model: ELECRec, label: a b}, "
                   "{model: ELECRec, label: a_b}]\n",
    "model_text": "datasets: [toy]\nmodels: [ELECRec]\n",
    "model_settings": "datasets: [toy]\nmodels: [{model: ELECRec, settings: 3}]\n",
    "settings_list": "datasets: [toy]\nsettings: [1, 2]\n" + BENCHMARK,
    "published_list": "datasets: [toy]\npublished: [1]\n" + BENCHMARK,
    "syntax": "datasets: [toy\n" + BENCHMARK,
    "key_twice": "datasets: [toy]\ndatasets: [other]\n" + BENCHMARK,
    "python_tag": "datasets: [toy]\nsettings: {topk: !!python/tuple [5, 10]}\n" + BENCHMARK,
    "list": "- datasets\n",
    "ok": "datasets: [toy]\n" + BENCHMARK,
}


def run_data(name, *args):
    """A run on the case's own data_NAME dataset."""
    return ["--data_path=.", f"--dataset=data_{name}", *args]


def run_csv(name, *args):
    """A run on the CSV export data_csv_NAME, its separator, id fields and columns set."""
    columns = [column.split(":")[0] for column in CSV[name].split(",")]
    return run_data(f"csv_{name}", "--field_separator=,", "--USER_ID_FIELD=user",
                    "--ITEM_ID_FIELD=item", f"--load_col={{'inter': {columns}}}", *args)


def spec(name, *args):
    return [f"data_{name}.yaml", *args]


# (id, command, arguments, words the error line holds); "{best}" is a tiny ELECRec run's best model
CASES = [
    ("data-inter-tab-in-id", "run", run_data("tab"),
     ["data_tab.inter, line 3", "4 fields where the header has 3"]),
    ("data-inter-short-row", "run", run_data("short"),
     ["data_short.inter, line 3", "2 fields where the header has 3"]),
    ("data-inter-empty-time", "run", run_data("empty_time"),
     ["data_empty_time.inter, line 3", "timestamp (TIME_FIELD) is missing"]),
    ("data-inter-nan-time", "run", run_data("nan_time"),
     ["data_nan_time.inter, line 3", "timestamp (TIME_FIELD) is missing ('nan'"]),
    ("data-inter-text-time", "run", run_data("text_time"),
     ["data_text_time.inter, line 3", "'late' is not a number"]),
    ("data-inter-infinite-time", "run", run_data("inf_time"),
     ["data_inf_time.inter, line 3", "'inf' is not a finite number"]),
    ("data-inter-missing-item", "run", run_data("missing_item"),
     ["data_missing_item.inter, line 3", "item_id (ITEM_ID_FIELD) is missing ('NA'"]),
    ("data-inter-open-quote", "run", run_data("open_quote"),
     ["data_open_quote.inter, line 3", "unexpected end of data"]),
    ("data-inter-spaced-item", "run", run_data("spaced_item"),
     ["data_spaced_item.inter, line 3", "item_id (ITEM_ID_FIELD) 'i2 ' has spaces around it"]),
    ("data-inter-text-time-nproc", "run", run_data("text_time", "--nproc=2"),
     ["data_text_time.inter, line 3", "'late' is not a number"]),
    # caught only as the processes load the data: the error comes back from them in one line
    ("data-inter-short-user-nproc", "run", run_data("short_user", "--nproc=2"),
     ["user 'u2' has 2 interactions"]),
    ("data-inter-latin1", "run", run_data("latin1"), ["data_latin1.inter", "set encoding"]),
    ("data-csv-time-column", "run", run_csv("time"),
     ["data_csv_time.inter has no time column 'timestamp' (TIME_FIELD)", "--TIME_FIELD=time"]),
    ("data-csv-date-token-column", "run", run_csv("date"),
     ["(TIME_FIELD) but has 'date' (as date:float)", "--TIME_FIELD=date"]),
    ("data-csv-other-float-column", "run", run_csv("rating"),
     ["(TIME_FIELD) but has 'rating'", "--TIME_FIELD=rating", "--TIME_FIELD=None"]),
    ("data-csv-time-column-nproc", "run", run_csv("time", "--nproc=2"),
     ["--TIME_FIELD=time"]),
    ("data-prepare-next-line", "prepare", ["d", "--source=data_nel.txt", "--data_path=out"],
     ["data_nel.txt, line 1", "U+0085"]),
    ("data-prepare-line-separator", "prepare", ["d", "--source=data_ls.txt", "--data_path=out"],
     ["data_ls.txt, line 2", "U+2028"]),
    ("data-benchmark-datasets-text", "benchmark", spec("datasets_text"),
     ["data_datasets_text.yaml", "datasets must be a non-empty list of names", "'toy'"]),
    ("data-benchmark-datasets-twice", "benchmark", spec("datasets_twice"),
     ["data_datasets_twice.yaml", "datasets: 'toy' is given twice"]),
    ("data-benchmark-datasets-empty-name", "benchmark", spec("datasets_empty_name"),
     ["datasets must be a non-empty list of names"]),
    ("data-benchmark-seeds-twice", "benchmark", spec("seeds_twice"),
     ["data_seeds_twice.yaml", "seeds: 1 is given twice"]),
    ("data-benchmark-seeds-bool", "benchmark", spec("seeds_bool"),
     ["seeds must be a non-empty list of integers"]),
    ("data-benchmark-model-seeds-twice", "benchmark", spec("model_seeds_twice"),
     ["model entry 'ELECRec': seeds: 2 is given twice"]),
    ("data-benchmark-labels-twice", "benchmark", spec("labels_twice"),
     ["models: two entries have the label 'ELECRec'"]),
    ("data-benchmark-cells-clash", "benchmark", spec("cells_clash"),
     ["'a b'", "'a_b'", "would share the file toy__a_b__seed2020.json"]),
    ("data-benchmark-model-text", "benchmark", spec("model_text"),
     ["each model entry needs 'model: NAME'"]),
    ("data-benchmark-model-settings", "benchmark", spec("model_settings"),
     ["model entry 'ELECRec': settings must be a mapping"]),
    ("data-benchmark-settings-list", "benchmark", spec("settings_list"),
     ["data_settings_list.yaml", "settings must be a mapping", "[1, 2]"]),
    ("data-benchmark-published-list", "benchmark", spec("published_list"),
     ["published must be a mapping"]),
    ("data-benchmark-yaml-syntax", "benchmark", spec("syntax"),
     ["data_syntax.yaml is not valid YAML", "line 2"]),
    ("data-benchmark-key-twice", "benchmark", spec("key_twice"),
     ["data_key_twice.yaml", "key 'datasets' is given twice"]),
    ("data-benchmark-python-tag", "benchmark", spec("python_tag"),
     ["data_python_tag.yaml", "line 2", "!!python/tuple", "plain YAML values"]),
    ("data-benchmark-not-a-mapping", "benchmark", spec("list"),
     ["data_list.yaml holds no 'key: value' settings"]),
    ("data-benchmark-spec-directory", "benchmark", ["data_folder"],
     ["cannot read data_folder", "Is a directory"]),
    ("data-benchmark-spec-missing", "benchmark", ["data_missing.yaml"],
     ["cannot read data_missing.yaml"]),
    ("data-benchmark-out-file", "benchmark", spec("ok", "--out=data_out"),
     ["--out", "data_out is not a directory"]),
]


def lay_out(cwd):
    """The files these cases name, in the case's working directory."""
    rows = ["u1\ti1\t0", "u1\ti2\t1", "u1\ti3\t2"]
    for name, bad in INTER.items():
        folder = cwd / f"data_{name}"
        folder.mkdir()
        (folder / f"data_{name}.inter").write_text("\n".join([HEADER, rows[0], bad, *rows]) + "\n")
    for name, header in CSV.items():
        folder = cwd / f"data_csv_{name}"
        folder.mkdir()
        lines = [f"u{user},i{(user * 7 + k) % 11},{100 - k}" for user in range(3) for k in range(4)]
        (folder / f"data_csv_{name}.inter").write_text("\n".join([header, *lines]) + "\n")
    (cwd / "data_short_user").mkdir()
    many = [f"u1\ti{k}\t{k}" for k in range(30)]  # more items than the largest top-k
    (cwd / "data_short_user" / "data_short_user.inter").write_text(
        "\n".join([HEADER, *many, "u2\ti1\t0", "u2\ti2\t1"]) + "\n")
    (cwd / "data_latin1").mkdir()
    (cwd / "data_latin1" / "data_latin1.inter").write_bytes(
        "\n".join([HEADER, *rows, "u2\tcaf\xe9\t0"]).encode("latin-1") + b"\n")
    (cwd / "data_nel.txt").write_text("1 2 3 4\x855 6 7 8\n", encoding="utf-8")
    (cwd / "data_ls.txt").write_text("1 2 3 4\n5 6 7\u20288\n", encoding="utf-8")
    for name, text in SPECS.items():
        (cwd / f"data_{name}.yaml").write_text(text)
    (cwd / "data_folder").mkdir()
    (cwd / "data_out").write_text("not a directory\n")
