"""studies/without_last_item.py: a dataset copy without every user's last interaction."""

import subprocess
import sys

import pandas as pd

from conftest import REPO

HEADER = "user_id:token\titem_id:token\ttimestamp:float\n"


def without_last(cwd, *args):
    return subprocess.run([sys.executable, str(REPO / "studies" / "without_last_item.py"),
                           *map(str, args)], capture_output=True, text=True, cwd=cwd)


def write(path, rows):
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(HEADER + "".join(f"{u}\t{i}\t{t}\n" for u, i, t in rows))


def test_each_user_loses_its_latest_interaction_only(tmp_path):
    # rows out of time order, so "last" must come from the timestamps, not the file order
    rows = [(1, 10, 2), (1, 11, 0), (1, 12, 3), (1, 13, 1), (2, 20, 5), (2, 21, 4), (2, 22, 6),
            (2, 23, 3)]
    source = tmp_path / "data" / "toy" / "toy.inter"
    write(source, rows)
    before = source.read_text()
    result = without_last(tmp_path, "toy", "--data_path", tmp_path / "data",
                          "--out", tmp_path / "cut")
    assert result.returncode == 0, result.stderr
    assert "2 users, 6 interactions" in result.stdout
    cut = pd.read_csv(tmp_path / "cut" / "toy" / "toy.inter", sep="\t", dtype=str)
    assert list(cut.columns) == HEADER.strip().split("\t")
    kept = sorted(zip(cut["user_id:token"], cut["item_id:token"]))
    assert kept == [("1", "10"), ("1", "11"), ("1", "13"), ("2", "20"), ("2", "21"),
                    ("2", "23")]
    assert source.read_text() == before


def test_refusals_name_the_problem_and_write_nothing(tmp_path):
    write(tmp_path / "data" / "short" / "short.inter", [(1, 1, 0), (1, 2, 1), (1, 3, 2)])
    cases = [
        (["missing", "--data_path", tmp_path / "data"], "missing.inter not found"),
        (["short", "--data_path", tmp_path / "data"], "1 users of short would keep fewer than 3"),
        (["short", "--data_path", tmp_path / "data", "--out", tmp_path / "data"],
         "--out must differ"),
    ]
    for args, message in cases:
        out = [] if "--out" in args else ["--out", tmp_path / "cut"]
        result = without_last(tmp_path, *args, *out)
        assert result.returncode == 2 and message in result.stderr, result.stderr
        assert len(result.stderr.strip().splitlines()) == 1
    assert not (tmp_path / "cut").exists()
    assert (tmp_path / "data" / "short" / "short.inter").read_text().count("\n") == 4
