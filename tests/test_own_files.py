"""A user's own .inter file, with no dataset YAML and no load_col: it trains (ordered by its time
column, or in file order without one), and a file the settings do not fit gets one error line."""

import logging
import math
import re
import random

import pytest

from conftest import TINY, last_json, run_cli, small_settings
from recbole_elecrec import cli
from recbole_elecrec.config import Config
from recbole_elecrec.quick_start import create_dataset, run

NOTE = "keep their file order"
HEADER = {"timed": "user_id:token\titem_id:token\ttimestamp:float",
          "untimed": "user_id:token\titem_id:token"}


def sequences(n_users=30, n_items=25, seed=0):
    """Each user's items in the order they happened (4 to 8 of them)."""
    rng = random.Random(seed)
    return {f"u{user}": [f"i{rng.randint(1, n_items)}" for _ in range(rng.randint(4, 8))]
            for user in range(n_users)}


def write_inter(data_path, name, seqs):
    """``timed``: the rows shuffled, a timestamp giving their order; ``untimed``: no time column,
    the users' rows interleaved, each user's in order."""
    rows = [(user, item, 1000 * k + u) for u, (user, items) in enumerate(seqs.items())
            for k, item in enumerate(items)]
    if name == "timed":
        random.Random(1).shuffle(rows)
        lines = [f"{user}\t{item}\t{time}" for user, item, time in rows]
    else:
        lines = [f"{user}\t{item}" for user, item, _ in sorted(rows, key=lambda row: row[2])]
    folder = data_path / name
    folder.mkdir(parents=True, exist_ok=True)
    (folder / f"{name}.inter").write_text("\n".join([HEADER[name], *lines]) + "\n")


@pytest.fixture
def own_data(tmp_path):
    data_path, seqs = tmp_path / "data", sequences()
    for name in HEADER:
        write_inter(data_path, name, seqs)
    return data_path, seqs


def settings(data_path, model, **overrides):
    """Tiny settings without load_col, as a user with no YAML file runs."""
    given = {key: value for key, value in small_settings(data_path).items() if key != "load_col"}
    if model == "SASRec":
        given.update(hidden_size=16, inner_size=32, n_layers=1, n_heads=2)
    return {**given, "epochs": 1, "MAX_ITEM_LIST_LENGTH": 10, **overrides}


@pytest.mark.parametrize("name", list(HEADER))
def test_each_users_sequence_is_in_time_or_file_order(workdir, own_data, name):
    data_path, seqs = own_data
    config = Config("ELECRec", name, config_dict=settings(data_path, "ELECRec"))
    dataset = create_dataset(config)
    assert config["load_col"] == {"inter": [col.split(":")[0] for col in HEADER[name].split("\t")]}
    assert dataset.order_note is None if name == "timed" else NOTE in dataset.order_note
    _, _, test = dataset.build()
    uid, iid = dataset.uid_field, dataset.iid_field
    rows = test[list(range(len(test)))]  # with their windows, as a loader forms a batch
    for row in range(len(test)):
        user = dataset.id2token(uid, rows[uid][row].item())
        length = rows[dataset.item_list_length_field][row].item()
        history = rows[iid + "_list"][row][:length].numpy()
        target = rows[iid][row].item()
        assert list(dataset.id2token(iid, [*history, target])) == seqs[user][-length - 1:]


@pytest.mark.parametrize("model", ["ELECRec", "SASRec"])
@pytest.mark.parametrize("name", list(HEADER))
def test_own_file_trains_and_says_once_when_in_file_order(workdir, own_data, caplog, model, name):
    caplog.set_level(logging.INFO)
    result = run(model, name, config_dict=settings(own_data[0], model))
    assert math.isfinite(result["test"]["ndcg@10"])
    notes = [record for record in caplog.records if NOTE in record.getMessage()]
    assert len(notes) == (0 if name == "timed" else 1)
    assert all(record.levelno == logging.WARNING for record in notes)  # on stderr, not only the log
    # what was read is logged once the run's log exists (after the settings), not before
    messages = [record.getMessage() for record in caplog.records]
    read = [i for i, message in enumerate(messages) if re.fullmatch(
        rf"{name}\.inter: [\d,]+ rows, columns .* \(load_col\), read in [\d.]+ s", message)]
    settings_logged = next(i for i, message in enumerate(messages) if "Hyper Parameters" in message)
    assert len(read) == 1 and read[0] > settings_logged


def test_file_order_with_a_float_column_only_when_chosen(workdir):
    """A float column that is no time (a rating) refuses file order unless TIME_FIELD is None."""
    folder = workdir / "data" / "rated"
    folder.mkdir(parents=True)
    lines = [f"u{user},i{(user + k) % 9},{k % 5}" for user in range(6) for k in range(5)]
    (folder / "rated.inter").write_text("\n".join(["user:token,item:token,rating:float", *lines]))
    given = {**settings(workdir / "data", "ELECRec"), "field_separator": ",",
             "USER_ID_FIELD": "user", "ITEM_ID_FIELD": "item"}
    with pytest.raises(ValueError, match=re.escape("--TIME_FIELD=rating")):
        create_dataset(Config("ELECRec", "rated", config_dict=given))
    dataset = create_dataset(Config("ELECRec", "rated", config_dict={**given, "TIME_FIELD": None}))
    assert NOTE in dataset.order_note


BAD = [  # (id, header, settings, words of the error line)
    ("no-user-column", "uid:token\titem_id:token\ttimestamp:float", [], ["USER_ID_FIELD", "uid"]),
    ("no-item-column", "user_id:token\tproduct:token", [], ["ITEM_ID_FIELD", "product"]),
    ("space-separated", "user_id:token item_id:token", [], ["field_separator"]),
    ("token-time", "user_id:token\titem_id:token\ttimestamp:token", [],
     ["timestamp:float", "TIME_FIELD"]),
    ("load-col-without-time", HEADER["timed"], ["--load_col={'inter': ['user_id', 'item_id']}"],
     ["load_col", "timestamp"]),
]


@pytest.mark.parametrize("case", BAD, ids=[case[0] for case in BAD])
def test_file_that_does_not_fit_gets_one_error_line(workdir, capsys, case):
    _, header, extra, words = case
    (workdir / "data" / "mine").mkdir(parents=True)
    (workdir / "data" / "mine" / "mine.inter").write_text(f"{header}\n" + "1\t2\t3\n" * 3)
    status = cli.main(["--model=ELECRec", "--dataset=mine", "--data_path=data", *extra,
                       *[arg for arg in TINY if not arg.startswith("--load_col")]])
    err = capsys.readouterr().err
    assert status == 2 and err.startswith("error: ") and err.count("\n") == 1, err
    assert all(word in err for word in words), err
    assert sorted(path.name for path in workdir.iterdir()) == ["data"]  # nothing written


@pytest.mark.slow
@pytest.mark.parametrize("model, name", [("ELECRec", "timed"), ("SASRec", "untimed")])
def test_run_recbole_trains_own_file_without_yaml(tmp_path, model, name):
    write_inter(tmp_path / "data", name, sequences())
    args = [f"--model={model}", f"--dataset={name}", "--data_path=data",
            *[arg for arg in TINY if not arg.startswith("--load_col")]]
    summary = last_json(run_cli(tmp_path, *args))
    assert math.isfinite(summary["test"]["ndcg@10"])
    log = (tmp_path / summary["result_file"]).with_suffix(".log").read_text()
    assert log.count(NOTE) == (0 if name == "timed" else 1)


def test_rows_pandas_reads_right_pass_the_row_check(workdir):
    """Blank lines, \\r\\n line ends and a quoted id holding the separator are what RecBole's
    reader reads as meant: not refused."""
    rows = [f"u{user}\t{item}\t{time}" for user in range(4) for time, item in
            enumerate(["i1", "i2", '"i\t3"', "i4"])]
    folder = workdir / "data" / "odd"
    folder.mkdir(parents=True)
    (folder / "odd.inter").write_bytes(
        "\r\n".join([HEADER["timed"], *rows[:5], "", *rows[5:]]).encode() + b"\r\n")
    dataset = create_dataset(Config("ELECRec", "odd", config_dict=settings(workdir / "data",
                                                                            "ELECRec")))
    assert sorted(dataset.field2id_token["item_id"][1:]) == ["i\t3", "i1", "i2", "i4"]
    assert dataset.inter_num == 16


@pytest.mark.parametrize("row, words", [
    ("u9\ti\t1\t2", "line 4: 4 fields where the header has 3"),
    ("u9\t\t2", "line 4: item_id (ITEM_ID_FIELD) is missing"),
    ("u9\ti1\tsoon", "line 4: timestamp (TIME_FIELD) 'soon' is not a number"),
])
def test_a_row_read_wrong_is_refused_with_its_line(workdir, row, words):
    folder = workdir / "data" / "bad"
    folder.mkdir(parents=True)
    lines = [HEADER["timed"], "u1\ti1\t0", "", row, "u1\ti2\t1"]
    (folder / "bad.inter").write_text("\n".join(lines) + "\n")
    with pytest.raises(ValueError, match=re.escape(words)):
        create_dataset(Config("ELECRec", "bad", config_dict=settings(workdir / "data", "ELECRec")))
