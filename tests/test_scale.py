"""benchmarks/scale.py runs end to end on a tiny catalog, and reports a cell past its memory
limit as out of memory."""

import importlib.util
import json
import subprocess
import sys

import numpy as np
import pytest

from conftest import REPO

SCRIPT = REPO / "benchmarks" / "scale.py"


@pytest.fixture(scope="module")
def scale():
    spec = importlib.util.spec_from_file_location("scale", SCRIPT)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_runs_end_to_end(tmp_path):
    result = subprocess.run(
        [sys.executable, str(SCRIPT), "--sizes", "300", "--steps", "1", "--users", "300",
         "--data_path", str(tmp_path / "data"), "--out", str(tmp_path / "out"),
         "--plot", str(tmp_path / "plot.png")],
        capture_output=True, text=True, cwd=tmp_path, timeout=120)
    assert result.returncode == 0, result.stderr[-3000:]
    lines = result.stdout.strip().splitlines()
    assert "| items | model | s/step |" in result.stdout
    summary = json.loads(lines[-1])
    cells = {c["model"]: c for c in summary["cells"]}
    assert set(cells) == {"ELECRec", "SASRecPlus", "SASRec"}
    for cell in cells.values():
        assert cell["status"] == "ok" and cell["items"] == 300 and cell["n_items"] == 301
        assert cell["s_per_step"] > 0 and cell["peak_rss_gb"] >= cell["build_rss_gb"] > 0
        assert cell["package"] == str(REPO / "recbole_elecrec")
    assert cells["SASRec"]["targets_per_step"] == 256  # one per row (the full first batch)
    assert 0 < cells["ELECRec"]["targets_per_step"] == cells["SASRecPlus"]["targets_per_step"]
    assert (tmp_path / "plot.png").stat().st_size > 0
    assert json.loads((tmp_path / "out" / "scale.json").read_text()) == summary
    assert "| 300 | ELECRec |" in (tmp_path / "out" / "scale.md").read_text()


def test_cell_past_its_memory_limit_is_out_of_memory(scale, tmp_path):
    cell = {"items": 300, "model": "ELECRec", "dataset": "none", "data_path": str(tmp_path),
            "steps": 1, "threads": 1, "max_rss_gb": 0.05, "settings": {}}
    assert scale.spawn_cell(cell, timeout=60) == {"status": "out of memory"}


def test_dataset_is_deterministic_and_holds_the_catalog(scale, tmp_path):
    name = scale.make_dataset(tmp_path / "a", 1000, 50, seed=3)
    scale.make_dataset(tmp_path / "b", 1000, 50, seed=3)
    inter = (tmp_path / "a" / name / f"{name}.inter").read_text()
    assert inter == (tmp_path / "b" / name / f"{name}.inter").read_text()
    rows = [line.split("\t") for line in inter.splitlines()[1:]]
    lengths = [sum(r[0] == str(u) for r in rows) for u in range(1, 51)]
    assert min(lengths) >= 5 and all(1 <= int(r[1]) <= 1000 for r in rows)
    items = (tmp_path / "a" / name / f"{name}.item").read_text().split()
    assert items[0] == "item_id:token" and len(items) == 1001


def test_interactions_axis_runs_end_to_end(scale, tmp_path):
    result = subprocess.run(
        [sys.executable, str(SCRIPT), "--interactions", "3000", "--models", "ELECRec",
         "RecBole:SASRec", "--steps", "1", "--eval_batches", "1", "--full", "evaluation",
         "--data_path", str(tmp_path / "data"), "--out", str(tmp_path / "out"),
         "--name", "log", "--plot", str(tmp_path / "log.png")],
        capture_output=True, text=True, cwd=tmp_path, timeout=300)
    assert result.returncode == 0, result.stderr[-3000:]
    assert "| interactions | model | to first step, s |" in result.stdout
    rows = [line for line in result.stdout.splitlines() if line.startswith("| 3,000 |")]
    assert len(rows) == 2 and all(row.count("(est.)") == 1 for row in rows if "not run" not in row)
    cells = {c["model"]: c for c in json.loads(result.stdout.strip().splitlines()[-1])["cells"]}
    assert set(cells) == {"ELECRec", "RecBole:SASRec"}
    if not hasattr(np, "float_"):  # numpy 2: RecBole's own pipeline cannot run
        assert cells.pop("RecBole:SASRec")["status"] == scale.RECBOLE_NEEDS_OLD_NUMPY
        assert "| RecBole:SASRec | not run: RecBole 1.2.1's own pipeline" in result.stdout
    for cell in cells.values():
        assert cell["status"] == "ok" and cell["estimated"] == ["epoch"]  # a whole validation
        assert cell["peak_rss_gb"] >= cell["first_step_rss_gb"] > 0
        assert cell["first_step_s"] > 0 and cell["epoch_s"] > 0 and cell["eval_s"] > 0
    # one training row per user for ELECRec, one per interaction after a user's first for SASRec
    assert cells["ELECRec"]["train_rows"] == cells["ELECRec"]["valid_rows"]
    if "RecBole:SASRec" in cells:
        assert cells["RecBole:SASRec"]["train_rows"] > 5 * cells["RecBole:SASRec"]["valid_rows"]
    assert (tmp_path / "log.png").stat().st_size > 0


def test_log_is_deterministic_and_shaped(scale, tmp_path):
    name = scale.make_log(tmp_path / "a", 5000, seed=2)
    scale.make_log(tmp_path / "b", 5000, seed=2)
    text = (tmp_path / "a" / name / f"{name}.inter").read_text()
    assert text == (tmp_path / "b" / name / f"{name}.inter").read_text()
    rows = [line.split("\t") for line in text.splitlines()[1:]]
    users = {}
    for user, item, stamp in rows:
        users.setdefault(user, []).append(float(stamp))
        assert 1 <= int(item) <= 100_000
    assert len(users) == round(5000 / 14)
    assert all(5 <= len(times) <= 200 and times == sorted(times) for times in users.values())


def test_read_benchmark_engines_agree(tmp_path):
    # each engine reads the same codes and times, or the script fails
    result = subprocess.run(
        [sys.executable, str(REPO / "benchmarks" / "read.py"), "--interactions", "3000",
         "--repeats", "1", "--data_path", str(tmp_path)],
        capture_output=True, text=True, cwd=tmp_path, timeout=300)
    assert result.returncode == 0, result.stderr[-3000:]
    results = json.loads(result.stdout.strip().splitlines()[-1])["results"]
    assert {r["engine"] for r in results} >= {"c-chunks", "c-chunks-category"}
    assert all(r["rows"] > 2000 and r["peak_rss_mb"] > 0 for r in results)
