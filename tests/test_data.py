"""The prepare command, the per-user training rows and whole-history bookkeeping."""

import os
import subprocess
import sys

import numpy as np
import pytest

from conftest import SHARED, make_model, needs_shared
from recbole_elecrec.data.prepare import PrepareError, prepare

BEAUTY = SHARED / "data" / "elecrec" / "Beauty.txt"


@needs_shared("data/elecrec/Beauty.txt")
def test_prepare_beauty(tmp_path):
    result = subprocess.run(
        [sys.executable, "-m", "recbole_elecrec.data", "prepare", "Beauty", "--source",
         str(BEAUTY), "--data_path", str(tmp_path)],
        capture_output=True, text=True, cwd=tmp_path,
    )
    assert result.returncode == 0, result.stderr
    assert "22363 users, 12101 items, 198502 interactions" in result.stdout
    lines = (tmp_path / "Beauty" / "Beauty.inter").read_text().splitlines()
    assert lines[0] == "user_id:token\titem_id:token\ttimestamp:float"
    assert len(lines) == 198502 + 1
    first_user = BEAUTY.read_text().splitlines()[0].split()
    assert lines[1:len(first_user)] == [
        f"{first_user[0]}\t{item}\t{pos}" for pos, item in enumerate(first_user[1:])
    ]


@pytest.mark.parametrize("content, message", [
    ("1 2 3 4\n2 5 x 7\n", "line 2: 'x' is not an integer id"),
    ("1 2 3 4\n2 5 -6 7\n", "line 2: '-6' is not an integer id"),
    ("", "no user lines"),
    ("\n\n", "no user lines"),
    ("1 2 3 4\n2 5 6\n", "line 2: user 2 has 2 items; leave-one-out needs at least 3"),
    ("1 2 3 4\n1 5 6 7\n", "line 2: user 1 appears twice"),
    # str.splitlines() and str.split() break lines and ids at these: one user would become two
    ("1 2 3 4\x855 6 7 8\n", "line 1: character U+0085"),
    ("1 2 3 4\n5 6 7\u20288 9\n", "line 2: character U+2028"),
    ("1 2 3 4\n5 6\x0c7 8\n", "line 2: character U+000C"),
    ("1 2 3 4\n5 6 7\x00 8\n", "line 2: '7\\x00' is not an integer id"),
])
def test_prepare_rejects_bad_files_and_writes_nothing(tmp_path, content, message):
    source = tmp_path / "bad.txt"
    source.write_text(content)
    with pytest.raises(PrepareError) as error:
        prepare("bad", source=source, data_path=tmp_path / "out")
    assert message in str(error.value)
    assert not (tmp_path / "out" / "bad" / "bad.inter").exists()


def test_prepare_keeps_an_existing_file_when_the_new_one_is_bad(tmp_path):
    good, bad = tmp_path / "good.txt", tmp_path / "bad.txt"
    good.write_text("1 2 3 4\n")
    bad.write_text("1 2 3 4\n2 x\n")
    path, _ = prepare("d", source=good, data_path=tmp_path)
    before = path.read_text()
    with pytest.raises(PrepareError):
        prepare("d", source=bad, data_path=tmp_path, overwrite=True)
    assert path.read_text() == before


def test_prepare_replaces_an_existing_file_only_with_overwrite(tmp_path):
    (tmp_path / "one.txt").write_text("1 2 3 4\n")
    (tmp_path / "two.txt").write_text("1 5 6 7\n")
    path, _ = prepare("d", source=tmp_path / "one.txt", data_path=tmp_path)
    before = path.read_text()
    with pytest.raises(PrepareError, match="d.inter exists; pass --overwrite to replace it"):
        prepare("d", source=tmp_path / "two.txt", data_path=tmp_path)
    assert path.read_text() == before
    result = subprocess.run(
        [sys.executable, "-m", "recbole_elecrec.data", "prepare", "d", "--source", "two.txt",
         "--data_path", ".", "--overwrite"],
        capture_output=True, text=True, cwd=tmp_path,
    )
    assert result.returncode == 0, result.stderr
    assert path.read_text().splitlines()[1] == "1\t5\t0"


def test_prepare_reads_ids_as_integers_and_drops_a_byte_order_mark(tmp_path):
    source = tmp_path / "bom.txt"
    source.write_text("\ufeff01 007 07 7 8\n2 7 8 9\n", encoding="utf-8")
    path, stats = prepare("d", source=source, data_path=tmp_path)
    assert stats == {"users": 2, "items": 3, "interactions": 7}
    assert path.read_text().splitlines()[1] == "1\t7\t0"


def test_prepare_reads_the_three_line_ends(tmp_path):
    source = tmp_path / "ends.txt"
    source.write_bytes(b"1 2 3 4\r\n2 5 6 7\r3 8\t9 10\n")
    _, stats = prepare("d", source=source, data_path=tmp_path)
    assert stats == {"users": 3, "items": 9, "interactions": 9}


def test_prepared_file_gets_the_umask_permissions(tmp_path):
    (tmp_path / "good.txt").write_text("1 2 3 4\n")
    previous = os.umask(0o022)
    try:
        path, _ = prepare("d", source=tmp_path / "good.txt", data_path=tmp_path)
    finally:
        os.umask(previous)
    assert path.stat().st_mode & 0o777 == 0o644


def test_prepare_without_network_says_to_pass_source(tmp_path):
    result = subprocess.run(
        [sys.executable, "-m", "recbole_elecrec.data", "prepare", "Beauty", "--source",
         "http://127.0.0.1:9/Beauty.txt", "--data_path", str(tmp_path)],
        capture_output=True, text=True, cwd=tmp_path,
    )
    assert result.returncode == 2
    assert result.stderr.startswith("error: could not download") and "--source" in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1


def test_prepare_unknown_name_without_source(tmp_path):
    with pytest.raises(PrepareError, match="unknown dataset 'Nope'"):
        prepare("Nope", data_path=tmp_path)


def read_users(data_path, name="tiny"):
    return {
        line.split()[0]: line.split()[1:]
        for line in (data_path / f"{name}.txt").read_text().splitlines()
    }


def test_one_training_row_per_user_with_its_longest_prefix(data_path, workdir):
    users = read_users(data_path)
    _, (train, valid, test), _ = make_model(data_path)
    data = train._dataset
    assert len(data) == len(users) and len(valid._dataset) == len(test._dataset) == len(users)
    tokens = data.field2id_token
    rows = data[np.arange(len(data))]  # as a loader forms a batch: with its windows
    for row in range(len(data)):
        user = tokens["user_id"][rows["user_id"][row]]
        items = users[user]
        length = int(rows["item_length"][row])
        seq = rows["item_id_list"][row][:length].tolist()
        assert [tokens["item_id"][i] for i in seq] == items[:-3][-50:]
        assert tokens["item_id"][rows["item_id"][row]] == items[-3]


def test_prefix_augmentation_switch(data_path, workdir):
    users = read_users(data_path)
    _, (train, _, _), _ = make_model(data_path, prefix_augmentation=True)
    assert len(train._dataset) == sum(len(items) - 3 for items in users.values())


def test_history_covers_the_whole_sequence_not_only_the_window(data_path, workdir):
    users = read_users(data_path)
    _, (_, valid, test), _ = make_model(data_path)
    for loader, cut in ((valid, 2), (test, 1)):
        data = loader._dataset
        rows, items = data.history_index(data.inter_feat)
        tokens = data.field2id_token
        for row in range(len(data)):
            user = tokens["user_id"][data.inter_feat["user_id"][row]]
            history = [tokens["item_id"][i] for i in items[rows == row].tolist()]
            assert history == users[user][:-cut]
    assert max(len(items) for items in users.values()) == 70  # one user beyond the window


def test_users_with_fewer_than_three_items_are_rejected(tmp_path, workdir):
    (tmp_path / "short").mkdir()
    (tmp_path / "short" / "short.inter").write_text(
        "user_id:token\titem_id:token\ttimestamp:float\n"
        + "".join(f"1\t{i}\t{i}\n" for i in range(5)) + "2\t1\t0\n2\t2\t1\n"
    )
    with pytest.raises(ValueError, match="user '2' has 2 interactions.*at least 3"):
        make_model(tmp_path, dataset="short")


def write_inter(path, rows):
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("user_id:token\titem_id:token\ttimestamp:float\n"
                    + "".join(f"{u}\t{i}\t{t}\n" for u, i, t in rows))


def sequences(tmp_path, name, rows, model="SASRec", **settings):
    """Each user's (valid, test) target tokens as the model's dataset splits them, and the
    split datasets."""
    write_inter(tmp_path / name / f"{name}.inter", rows)
    config, (train, valid, test), _ = make_model(tmp_path, model, name, **settings)
    targets = {}
    for split in (valid, test):
        data = split._dataset
        for uid, iid in zip(data.inter_feat["user_id"].tolist(), data.inter_feat["item_id"].tolist()):
            targets.setdefault(data.id2token("user_id", uid), []).append(data.id2token("item_id", iid))
    return targets, (train, valid, test)


@pytest.mark.parametrize("model", ["SASRec", "ELECRec"])
@pytest.mark.parametrize("start, step, shuffle", [
    (1_700_000_000, 1, "newest first"),  # Unix seconds: float32 steps 128 s there
    (1_700_000_000_000, 1_000, "shuffled"),  # Unix milliseconds, shuffled within users
])
def test_each_user_is_ordered_by_exact_times(tmp_path, model, start, step, shuffle):
    import random

    rng, rows = random.Random(0), []
    for user in range(1, 41):
        times = [start + step * (user * 10 + k) for k in range(6)]
        rows += [(f"u{user}", f"i{user}_{k}", t) for k, t in enumerate(times)]
    rows = rows[::-1] if shuffle == "newest first" else rng.sample(rows, len(rows))
    targets, _ = sequences(tmp_path, "unix", rows, model)
    assert targets == {f"u{user}": [f"i{user}_4", f"i{user}_5"] for user in range(1, 41)}


def test_repeated_rows_are_counted_and_dropped_on_request(tmp_path):
    from recbole_elecrec.quick_start import create_dataset
    from recbole_elecrec.config import Config

    rows = [(f"u{u}", f"i{k}", k) for u in range(1, 6) for k in range(5)]
    write_inter(tmp_path / "twice" / "twice.inter", rows + rows[:3])
    for drop, expected in ((False, "3 rows repeat"), (True, "dropped 3 rows")):
        config = Config("SASRec", "twice", config_dict={"data_path": str(tmp_path),
                                                         "drop_duplicate_rows": drop})
        data = create_dataset(config)
        assert data.duplicate_note.startswith(expected)
        assert len(data.inter_feat) == len(rows) + (0 if drop else 3)


def rated_dataset(tmp_path, model, **settings):
    """The dataset of a file with a rating column, loaded without load_col unless given."""
    from recbole_elecrec.config import Config
    from recbole_elecrec.quick_start import create_dataset

    rows = [f"u{u}\ti{(u + k) % 9}\t{k % 5}\t{k}" for u in range(6) for k in range(5)]
    (tmp_path / "rated").mkdir()
    (tmp_path / "rated" / "rated.inter").write_text(
        "user_id:token\titem_id:token\trating:float\ttimestamp:float\n" + "\n".join(rows) + "\n")
    return create_dataset(Config(model, "rated", config_dict={"data_path": str(tmp_path),
                                                              **settings}))


@pytest.mark.parametrize("model", ["ELECRec", "SASRec"])
def test_default_load_leaves_out_what_sequential_models_do_not_use(tmp_path, model):
    data = rated_dataset(tmp_path, model)
    assert list(data.inter_feat.columns) == ["user_id", "item_id", "timestamp"]
    assert data.column_note == ("rated.inter: loading user_id, item_id, timestamp; left out: "
                                "rating (not used by sequential models; set load_col to load them)")


@pytest.mark.parametrize("model, settings", [
    ("SASRec", {"load_col": {"inter": ["user_id", "item_id", "rating", "timestamp"]}}),
    ("ELECRec", {"load_col": {"inter": ["user_id", "item_id", "rating", "timestamp"]}}),
    ("ELECRec", {"val_interval": {"rating": "[1,inf)"}}),  # a setting that reads the column
    ("BPR", {}),  # not sequential: every column
])
def test_a_column_chosen_or_read_is_loaded(tmp_path, model, settings):
    data = rated_dataset(tmp_path, model, **settings)
    assert "rating" in data.inter_feat.columns
    assert getattr(data, "column_note", None) is None


@pytest.mark.parametrize("show_progress", [True, False])
def test_a_long_read_shows_its_progress_on_stderr(tmp_path, monkeypatch, capfd, show_progress):
    from recbole_elecrec.data import reader

    monkeypatch.setattr(reader, "PROGRESS_SECONDS", 0)  # every read counts as long
    rated_dataset(tmp_path, "ELECRec", show_progress=show_progress)
    bar = "reading rated.inter: 100%" in capfd.readouterr().err
    assert bar == show_progress
