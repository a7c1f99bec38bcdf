"""The YAML benchmark runner on benchmarks/smoke.yaml: outputs, resume, failing cells."""

import csv
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import yaml

from conftest import REPO
from recbole_elecrec.checkpoint import read_checkpoint

SMOKE = REPO / "benchmarks" / "smoke.yaml"


def run(spec, out, cwd, *args):
    return subprocess.run([sys.executable, str(REPO / "run_benchmark.py"), str(spec), "--out",
                           str(out), *args], capture_output=True, text=True, cwd=cwd)


@pytest.mark.slow
def test_smoke_benchmark_writes_cells_tables_and_plots(tmp_path):
    out = tmp_path / "out"
    result = run(SMOKE, out, tmp_path, "--jobs=2")
    assert result.returncode == 0, result.stderr[-3000:]
    assert result.stdout.strip().splitlines()[-1] == f"4 cells ok, 0 failed: tables in {out / 'results.md'}"

    cells = sorted((out / "cells").glob("*.json"))
    assert len(cells) == 4
    for path in cells:
        cell = json.loads(path.read_text())
        assert cell["status"] == "ok" and cell["epochs"] == 2 and cell["dataset"] == "toy"
        assert set(cell["test"]) == {f"{m}@{k}" for m in ("hit", "ndcg") for k in (5, 10, 20)}
        assert cell["best_epoch"] in (0, 1) and cell["seconds_per_epoch"] > 0
        assert cell["train_seconds"] >= 2 * cell["seconds_per_epoch"]
        assert cell["peak_rss_mb"] > 0 and cell["hardware"] and cell["config"]["seed"] == cell["seed"]
        assert len(cell["history"]) == 2 and "valid" in cell["history"][0]
        # read from the cell's own result file, not from its terminal
        run_result = json.loads((out / "runs" / path.name).read_text())
        assert run_result["history"] == cell["history"] and run_result["config"] == cell["config"]
        saved = Path(cell["config"]["checkpoint_dir"])  # one folder per cell: cells run at once
        assert saved == out / "saved" / path.stem and len(list(saved.glob("*.pth"))) == 1
        # absolute: usable from the folder the user runs compare in
        assert Path(cell["checkpoint"]) == next(saved.glob("*.pth"))
        if cell["model"] == "ELECRec":
            assert {"gen_loss", "dis_loss", "dis_acc_kept", "replace_rate"} <= set(cell["history"][0])

    # each cell trained with a training_state under states/, removed once it finished
    for path in (out / "configs").glob("*.yaml"):
        state = Path(yaml.safe_load(path.read_text())["training_state"])
        assert state.parent == out / "states" and not state.exists()

    with open(out / "results.csv") as f:
        rows = list(csv.DictReader(f))
    assert len(rows) == 4
    assert {r["model"] for r in rows} == {"ELECRec", "SASRec (RecBole, CE, prefix rows)"}
    stored = {(r["model"], int(r["seed"])): float(r["ndcg@10"]) for r in rows}
    cell = json.loads(cells[0].read_text())
    assert stored[cell["label"], cell["seed"]] == cell["test"]["ndcg@10"]
    valid = {(r["model"], int(r["seed"])): (r["valid_metric"], float(r["best_valid"]))
             for r in rows}
    assert valid[cell["label"], cell["seed"]] == ("ndcg@20", cell["best_valid"]["ndcg@20"])

    table = (out / "results.md").read_text()
    assert table.splitlines()[2].startswith("> A wiring check")  # the file's note, first
    assert "| ELECRec | 2 |" in table and "] |" in table and "**" in table  # n, interval
    assert "| valid ndcg@20 | epochs |" in table
    records = [json.loads(p.read_text()) for p in cells]
    elecrec = [r["best_valid"]["ndcg@20"] for r in records if r["label"] == "ELECRec"]
    assert f"| {sum(elecrec) / len(elecrec):.4f} | 2 |" in table
    assert "ELECRec vs the best baseline:" in table
    for name in ("metrics_toy.png", "curves_toy.png"):
        assert (out / name).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"

    # the first model against the other, seed by seed, from the cells' checkpoints: compare's
    # figures, p Holm-corrected over the two comparisons
    from recbole_elecrec.compare import compare

    by_cell = {(r["model"], int(r["seed"])): r for r in rows}
    tested = {}
    for seed in (1, 2):
        a, b = (json.loads((out / "cells" / f"toy__{name}__seed{seed}.json").read_text())
                for name in ("ELECRec", "SASRec__RecBole__CE__prefix_rows_"))
        tested[seed] = compare(a["checkpoint"], b["checkpoint"])["metrics"]["ndcg@10"]
        row = by_cell[b["label"], seed]
        assert row["paired_with"] == "ELECRec" and row["paired_note"] == ""
        assert float(row["paired_diff:ndcg@10"]) == pytest.approx(tested[seed]["diff"])
        assert float(row["paired_p:ndcg@10"]) == pytest.approx(tested[seed]["p"])
    low, high = sorted(tested, key=lambda seed: tested[seed]["p"])
    holm_low = min(1.0, 2 * tested[low]["p"])
    assert float(by_cell[b["label"], low]["paired_p_holm:ndcg@10"]) == pytest.approx(holm_low)
    assert float(by_cell[b["label"], high]["paired_p_holm:ndcg@10"]) == pytest.approx(
        max(holm_low, tested[high]["p"]))
    assert "Paired per-user test on the test split, ELECRec (A)" in table
    assert sorted(p.name for p in (out / "pairs").iterdir()) == [
        f"toy__SASRec__RecBole__CE__prefix_rows___seed{seed}.json" for seed in (1, 2)]

    # a rerun skips the finished cells
    stamps = {p: p.stat().st_mtime_ns for p in cells}
    again = run(SMOKE, out, tmp_path)
    assert again.returncode == 0 and all(p.stat().st_mtime_ns == t for p, t in stamps.items())

    # summaries of the cells finished so far, running none
    cells[0].unlink()
    partial = run(SMOKE, out, tmp_path, "--summaries_only")
    assert partial.stdout.strip().splitlines()[-1].startswith("3 cells ok, 0 failed: ")
    assert not cells[0].exists()
    with open(out / "results.csv") as f:
        assert len(list(csv.DictReader(f))) == 3


@pytest.mark.slow
def test_a_failing_cell_is_recorded_and_the_others_run(tmp_path):
    spec = yaml.safe_load(SMOKE.read_text())
    spec["settings"]["data_path"] = str(SMOKE.parent / "data")
    spec["seeds"] = [1]
    spec["models"] = [spec["models"][0], {"model": "NoSuchModel"}]
    path = tmp_path / "mixed.yaml"
    path.write_text(yaml.safe_dump(spec))
    result = run(path, tmp_path / "out", tmp_path)
    assert result.returncode == 1 and "1 cells ok, 1 failed" in result.stdout
    failed = json.loads((tmp_path / "out" / "cells" / "toy__NoSuchModel__seed1.json").read_text())
    assert failed["status"] == "failed" and "unknown model 'NoSuchModel'" in failed["error"]
    assert "failed: NoSuchModel seed 1" in (tmp_path / "out" / "results.md").read_text()


def test_published_numbers_sit_beside_this_runs(tmp_path):
    from recbole_elecrec.benchmark.report import markdown_table
    from recbole_elecrec.benchmark.spec import load_spec

    spec = yaml.safe_load(SMOKE.read_text())
    label = spec["models"][0].get("label", spec["models"][0]["model"])
    spec["published"] = {"toy": {label: {"hit@10": 0.2, "ndcg@10": 0.1}}}
    path = tmp_path / "published.yaml"
    path.write_text(yaml.safe_dump(spec))
    _, published = load_spec(path)
    records = [{"dataset": "toy", "label": label, "seed": s, "status": "ok", "epochs": 2,
                "seconds_per_epoch": 1.0, "test": {"hit@10": v, "ndcg@10": v / 2}}
               for s, v in ((1, 0.21), (2, 0.23))]
    table = markdown_table(records, ["hit@10", "ndcg@10"], published)
    assert f"| {label}: published | 0.2000 | 0.1000 |" in table
    assert f"| {label}: this run | 0.2200 (+10.0%) | 0.1100 (+10.0%) |" in table

    # a model entry may run its own seeds
    spec["models"][1]["seeds"] = [7]
    path.write_text(yaml.safe_dump(spec))
    cells, _ = load_spec(path)
    # seed-major: every model's first seed before any second seed
    assert [(c["model"], c["seed"], c["settings"]["seed"]) for c in cells] == [
        ("ELECRec", 1, 1), ("SASRec", 7, 7), ("ELECRec", 2, 2)]
    spec["models"][1]["seed"] = 7
    path.write_text(yaml.safe_dump(spec))
    with pytest.raises(ValueError, match=r"unknown keys \['seed'\]"):
        load_spec(path)
    del spec["models"][1]["seed"]
    spec["models"][1]["seeds"] = 7
    path.write_text(yaml.safe_dump(spec))
    with pytest.raises(ValueError, match="seeds must be a non-empty list of integers, got 7"):
        load_spec(path)
    del spec["models"][1]["seeds"]

    spec["published"] = {"toy": {"NoSuchLabel": {"hit@10": 0.2}}}
    path.write_text(yaml.safe_dump(spec))
    with pytest.raises(ValueError, match="'NoSuchLabel' on 'toy'"):
        load_spec(path)


@pytest.mark.skipif(os.geteuid() == 0, reason="root can write into a read-only folder")
def test_a_read_only_out_folder_is_refused_before_anything_runs(tmp_path):
    spec = tmp_path / "spec.yaml"
    spec.write_text(yaml.safe_dump({"datasets": ["toy"], "models": [{"model": "ELECRec"}]}))
    locked = tmp_path / "locked"
    locked.mkdir()
    locked.chmod(0o555)
    try:
        result = run(spec, locked / "out", tmp_path)
    finally:
        locked.chmod(0o755)
    errors = [line for line in result.stderr.splitlines() if line.startswith("error:")]
    assert result.returncode == 2 and result.stdout == "", result.stderr
    assert len(errors) == 1 and "--out" in errors[0] and "cannot be written" in errors[0]
    assert "Traceback" not in result.stderr and not list(locked.iterdir())


def test_best_epoch_is_the_one_recbole_kept():
    from recbole_elecrec.benchmark.runner import best_epoch

    history = [{"epoch": e, "valid": {"ndcg@20": v}} for e, v in enumerate([0.1, 0.3, 0.2, 0.3])]
    history.append({"epoch": 4})  # trained, not validated
    assert best_epoch(history, "NDCG@20") == 3  # a tie moves RecBole's best model on
    assert best_epoch(history, "ndcg@20", bigger=False) == 0
    assert best_epoch(history[-1:], "ndcg@20") is None


SHIPPED = sorted((REPO / "benchmarks").glob("*.yaml")) + sorted((REPO / "studies").glob("*.yaml"))


@pytest.mark.parametrize("path", SHIPPED, ids=lambda p: f"{p.parent.name}/{p.name}")
def test_shipped_benchmark_files_resolve_to_valid_configs(path):
    """Each cell of the shipped files names a model that exists, with settings that pass the checks
    a run starts with and arrive as written, so a typo does not fail a GPU-hours file hours in
    (the datasets are not loaded)."""
    from recbole_elecrec.benchmark.spec import load_spec
    from recbole_elecrec.config import Config
    from recbole_elecrec.rules import check_settings

    cells, _ = load_spec(path)
    for cell in cells:
        config = Config(model=cell["model"], dataset=cell["dataset"],
                        config_dict=dict(cell["settings"]))
        check_settings(config)
        assert config["seed"] == cell["seed"]
        for key, value in cell["settings"].items():
            if key != "data_path":  # resolved relative to the benchmark file
                assert config[key] == value, (cell["label"], key)


def children(pid):
    """Process ids whose parent is ``pid`` (Linux /proc)."""
    found = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:  # the process ended while we looked
            continue
        if int(fields[1]) == pid and fields[0] != "Z":
            found.append(int(stat.parent.name))
    return found


@pytest.mark.slow
@pytest.mark.skipif(not Path("/proc/self/stat").exists(), reason="reads /proc")
def test_a_killed_runner_stops_its_cells_and_keeps_their_state(tmp_path):
    spec = yaml.safe_load(SMOKE.read_text())
    spec["settings"].update(data_path=str(SMOKE.parent / "data"), epochs=1000, stopping_step=1000)
    spec["seeds"], spec["models"] = [1], spec["models"][:1]
    path, out = tmp_path / "long.yaml", tmp_path / "out"
    path.write_text(yaml.safe_dump(spec))
    runner = subprocess.Popen([sys.executable, str(REPO / "run_benchmark.py"), str(path), "--out",
                               str(out)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    state = out / "states" / "toy__ELECRec__seed1.pth"
    deadline = time.time() + 300
    # long enough that this run's training outweighs the next run's start-up
    while (time.time() < deadline and runner.poll() is None
           and not (state.exists() and read_checkpoint(state)["train_seconds"] > 20)):
        time.sleep(0.5)
    assert state.exists(), "the cell never saved its training_state"
    cells = children(runner.pid)
    assert len(cells) == 1

    runner.terminate()
    assert runner.wait(timeout=60) == 128 + signal.SIGTERM
    deadline = time.time() + 30
    while Path(f"/proc/{cells[0]}").exists() and time.time() < deadline:
        time.sleep(0.2)
    assert not Path(f"/proc/{cells[0]}").exists(), "the cell kept training after the runner"
    assert state.exists() and not list((out / "cells").glob("*.json"))

    # the same command continues it; its record counts the training time of both runs
    saved = read_checkpoint(state)
    spec["settings"]["epochs"] = saved["epoch"] + 2
    path.write_text(yaml.safe_dump(spec))
    assert run(path, out, tmp_path).returncode == 0
    cell = json.loads((out / "cells" / "toy__ELECRec__seed1.json").read_text())
    assert cell["epochs"] == saved["epoch"] + 2 and cell["train_seconds"] > saved["train_seconds"]
    assert cell["wall_seconds"] > cell["train_seconds"]


def test_summaries_interrupted_mid_write_keep_the_previous_files(tmp_path, monkeypatch):
    from recbole_elecrec import files
    from recbole_elecrec.benchmark import report

    records = [{"dataset": "toy", "label": "ELECRec", "seed": 1, "status": "ok", "epochs": 2,
                "seconds_per_epoch": 1.0, "test": {"hit@10": 0.2}}]
    monkeypatch.setattr(report, "plot", lambda *args: None)
    report.write_summaries(records, tmp_path)
    before = {p.name: p.read_text() for p in tmp_path.iterdir()}
    assert set(before) == {"results.csv", "results.md"}

    def killed_mid_write(self, text, *args, **kwargs):
        Path.write_bytes(self, text[:10].encode())
        raise KeyboardInterrupt

    monkeypatch.setattr(files.Path, "write_text", killed_mid_write)
    records[0]["test"]["hit@10"] = 0.3
    with pytest.raises(KeyboardInterrupt):
        report.write_summaries(records, tmp_path)
    assert {p.name: p.read_text() for p in tmp_path.iterdir()} == before  # no partial file left


def test_each_running_cell_has_a_gpu_of_its_own(tmp_path, monkeypatch):
    """On a machine with GPUs a cell takes a free one (RecBole's gpu_id) and gives it back; a
    cell whose settings name a gpu_id keeps it; the visible GPUs are those CUDA_VISIBLE_DEVICES
    names."""
    import queue

    from recbole_elecrec.benchmark import runner

    assert runner.gpu_ids({}, 2) == ["0", "1"]
    assert runner.gpu_ids({"CUDA_VISIBLE_DEVICES": "2,3"}, 2) == ["2", "3"]
    assert runner.gpu_ids({"CUDA_VISIBLE_DEVICES": ""}, 2) == []
    assert runner.cell_command({"model": "ELECRec", "dataset": "toy"}, "c.yaml", "r.json",
                                  "1")[-1] == "--gpu_id=1"

    taken = []
    monkeypatch.setattr(runner, "_run_cell", lambda cell, out, env, gpu, lock: taken.append(gpu))
    gpus = queue.Queue()
    gpus.put("1")
    (tmp_path / "cells").mkdir()
    cell = {"model": "ELECRec", "dataset": "toy", "label": "ELECRec", "seed": 1}
    runner.run_cell({**cell, "settings": {}}, tmp_path, gpus=gpus)
    runner.run_cell({**cell, "settings": {"gpu_id": "3"}}, tmp_path, gpus=gpus)
    runner.run_cell({**cell, "settings": {}}, tmp_path)  # no GPU here
    assert taken == ["1", None, None]
    assert gpus.get_nowait() == "1"  # given back


def one_cell_spec(tmp_path, **settings):
    """A benchmark file of one small SASRec cell on the toy data (``settings`` added)."""
    spec = {"settings": {"data_path": str(SMOKE.parent / "data"), "epochs": 1, "gpu_id": "",
                         "load_col": {"inter": ["user_id", "item_id", "timestamp"]},
                         "train_batch_size": 64, "hidden_size": 16, "inner_size": 32,
                         "n_layers": 1, "loss_type": "CE", **settings},
            "datasets": ["toy"], "seeds": [1], "models": [{"model": "SASRec", "label": "A|B"}]}
    path = tmp_path / "one.yaml"
    path.write_text(yaml.safe_dump(spec))
    return path


def run_main(capsys, *args):
    """The command in this process: (exit status, stdout, the error lines on stderr)."""
    from recbole_elecrec.benchmark import main

    code = main([str(arg) for arg in args])
    output = capsys.readouterr()
    return code, output.out, [l for l in output.err.splitlines() if l.startswith("error:")]


def finished_record(path, out, **changed):
    """An ok record of the spec's one cell, as a runner writes it, its settings ``changed``."""
    from recbole_elecrec.benchmark.spec import load_spec

    (cell,), _ = load_spec(path)
    cell["settings"].update(changed)
    record = {**cell, "status": "ok", "test": {"hit@10": 0.5}, "epochs": 1,
              "seconds_per_epoch": 1.0, "history": [], "config": {"valid_metric": "ndcg@20"}}
    (out / "cells").mkdir(parents=True)
    (out / "cells" / "toy__A_B__seed1.json").write_text(json.dumps(record))
    return out / "cells" / "toy__A_B__seed1.json"


def test_a_finished_cell_of_other_settings_is_refused(tmp_path, capsys):
    path, out = one_cell_spec(tmp_path), tmp_path / "out"
    record = finished_record(path, out, learning_rate=0.01)  # the file said 0.01 then
    before = {p: p.stat().st_mtime_ns for p in out.rglob("*")}
    code, stdout, errors = run_main(capsys, path, "--out", out)
    assert code == 2 and stdout == "" and len(errors) == 1, errors
    assert str(record) in errors[0] and "learning_rate 0.01 there, not set now" in errors[0]
    assert {p: p.stat().st_mtime_ns for p in out.rglob("*")} == before  # nothing written

    # the same settings, the data on another machine: the cell is reused, none trained
    record.unlink()
    out.joinpath("cells").rmdir()
    finished_record(path, out, data_path="/another/machine/dataset")
    code, stdout, errors = run_main(capsys, path, "--out", out)
    assert code == 0 and stdout.startswith("1 cells ok, 0 failed"), errors
    assert not (out / "runs").exists()


def test_a_cell_another_process_holds_is_left_alone(tmp_path, capsys):
    """A cell held by another runner, or by a cell process that outlived its runner: its result
    is not removed, no record is written for it and no summary calls it failed."""
    from recbole_elecrec.files import held

    path, out = one_cell_spec(tmp_path), tmp_path / "out"
    (out / "cells").mkdir(parents=True)
    (out / "runs").mkdir()
    result = out / "runs" / "toy__A_B__seed1.json"
    result.write_text("{}")  # the other process's, being written
    with held(out / "cells" / "toy__A_B__seed1.json", "--out"):
        code, stdout, errors = run_main(capsys, path, "--out", out)
    assert code == 0 and not errors
    assert stdout.strip().endswith(
        f"0 cells ok, 0 failed, 1 run by another process: tables in {out / 'results.md'}")
    assert result.read_text() == "{}" and not list((out / "cells").glob("*.json"))
    assert "failed" not in (out / "results.csv").read_text()


@pytest.mark.parametrize("name", ["results.csv", "results.md", "metrics_toy.png"])
def test_the_users_own_files_in_out_are_kept(tmp_path, capsys, name):
    path, out = one_cell_spec(tmp_path), tmp_path / "out"
    out.mkdir()
    (out / name).write_text("my own notes\n")
    code, stdout, errors = run_main(capsys, path, "--out", out)
    assert code == 2 and stdout == "" and len(errors) == 1, errors
    assert f"--out: {out / name} exists and is not a summary this command wrote" in errors[0]
    assert [p.name for p in out.iterdir()] == [name]
    assert (out / name).read_text() == "my own notes\n"


def test_a_label_holding_a_bar_stays_in_its_column():
    from recbole_elecrec.benchmark.report import markdown_table

    records = [{"dataset": "toy", "label": "A|B", "seed": 1, "status": "ok", "epochs": 1,
                "seconds_per_epoch": 1.0, "test": {"hit@10": 0.2, "ndcg@10": 0.1}}]
    table = markdown_table(records, ["hit@10", "ndcg@10"], {"toy": {"A|B": {"hit@10": 0.2}}})
    rows = [line for line in table.splitlines() if line.startswith("|")]
    assert r"| A\|B | 1 | **0.2000** | **0.1000** | 1 | 1 |" in rows
    assert r"| A\|B: published | 0.2000 |" in rows
    for header, *body in ([rows[0], rows[2]], rows[3:]):
        columns = header.count("|")
        assert all(row.replace(r"\|", "").count("|") == columns for row in body)


def table_rows_keep_their_columns(table):
    """Every table of ``table`` (Markdown) has as many columns in each row as in its header."""
    tables = [block.splitlines() for block in ("\n" + table).split("\n\n")
              if block.startswith("|")]
    assert tables
    for header, _, *body in tables:
        columns = header.replace(r"\|", "").count("|")
        assert all(row.replace(r"\|", "").count("|") == columns for row in body), header


def test_every_cell_failing_exits_1_and_the_tables_stay_whole(tmp_path, capsys, monkeypatch):
    from recbole_elecrec.benchmark import runner

    path, out = one_cell_spec(tmp_path), tmp_path / "out"
    monkeypatch.setattr(runner, "_run_cell", lambda cell, out, env, gpu, lock: {
        **cell, "status": "failed", "error": "error: unknown dataset 'toy'"})
    code, stdout, errors = run_main(capsys, path, "--out", out)
    assert code == 1 and stdout.startswith("0 cells ok, 1 failed") and not errors
    table = (out / "results.md").read_text()
    assert r"| A\|B | 0 | - | - |" in table and "failed: A|B seed 1" in table
    table_rows_keep_their_columns(table)
    code, stdout, _ = run_main(capsys, path, "--out", out, "--summaries_only")
    assert code == 0 and stdout.startswith("0 cells ok, 1 failed")  # ran nothing


def test_cells_show_n_a_95_interval_and_a_best_epoch_at_the_cap():
    from recbole_elecrec.benchmark.report import markdown_table

    def cell(seed, ndcg, best_epoch):
        return {"dataset": "toy", "label": "A", "seed": seed, "status": "ok", "epochs": 5,
                "best_epoch": best_epoch, "seconds_per_epoch": 1.0, "test": {"ndcg@10": ndcg}}

    table = markdown_table([cell(1, 0.10, 2), cell(2, 0.12, 4), cell(3, 0.14, 3)],
                           ["ndcg@10"], {})
    # mean 0.12, std 0.02, t(0.975, 2) = 4.303: 0.12 -+ 4.303 * 0.02 / sqrt(3) = 0.0703, 0.1697
    assert "| A | 3 | **0.1200 [0.0703, 0.1697]** | 5 | 1 |" in table
    assert "- best epoch is the last (5 epochs, capped, maybe not converged): A seed 2" in table
    assert "seed 1" not in table and "seed 3" not in table
    table_rows_keep_their_columns(table)


def test_holm_adjusts_step_down_in_the_given_order():
    from recbole_elecrec.benchmark.report import holm

    # sorted 0.01, 0.03, 0.04: 3 x 0.01, 2 x 0.03, then 0.04 raised to the 0.06 before it
    assert holm([0.04, 0.01, 0.03]) == pytest.approx([0.06, 0.03, 0.06])
    assert holm([0.6, 0.5]) == [1.0, 1.0]


def test_paired_tests_unequal_budgets_and_missing_checkpoints_are_reported(tmp_path):
    from recbole_elecrec.benchmark.report import holm_corrected, markdown_table
    from recbole_elecrec.benchmark.runner import paired_tests

    def cell(label, seed, epochs):
        return {"dataset": "toy", "label": label, "seed": seed, "status": "ok", "epochs": 5,
                "best_epoch": 1, "seconds_per_epoch": 1.0, "test": {"ndcg@10": 0.1},
                "settings": {"epochs": epochs, "stopping_step": 3},
                "checkpoint": f"saved/{label}{seed}.pth"}

    records = [cell("A", 1, 50), cell("B", 1, 50), cell("C", 1, 80), cell("B", 2, 50)]
    pairs = paired_tests(records, tmp_path, "A")  # no checkpoint in tmp_path: none runs
    assert pairs == [{"dataset": "toy", "a": "A", "b": label, "seed": 1,
                      "missing": ["saved/A1.pth", f"saved/{label}1.pth"]} for label in "BC"]
    table = markdown_table(records, ["ndcg@10"], {}, pairs=pairs)
    assert "- no paired test, checkpoint not found (such as saved/A1.pth): B seed 1; C seed 1" \
        in table
    assert ("- unequal budgets: epochs 50, stopping_step 3: A (seed 1), B (seed 1, 2); "
            "epochs 80, stopping_step 3: C (seed 1)") in table

    ran = [{"dataset": "toy", "a": "A", "b": label, "seed": 1, "users": 80,
            "metrics": {"ndcg@10": {"diff": diff, "p": p}}}
           for label, diff, p in (("B", 0.01, 0.02), ("C", -0.02, 0.0004))]
    table = markdown_table(records, ["ndcg@10"], {}, pairs=holm_corrected(ran, ["ndcg@10"]))
    assert "over this dataset's 2 comparisons per metric" in table
    rows = [line.replace(" ", "") for line in table.splitlines()]
    assert "|B|1|80|+0.0100(p0.020)|" in rows and "|C|1|80|-0.0200(p<0.001)|" in rows
    table_rows_keep_their_columns(table)


@pytest.mark.slow
def test_an_out_folder_with_a_space_runs(tmp_path):
    path, out = one_cell_spec(tmp_path), tmp_path / "My Results"
    result = run(path, out, tmp_path)
    assert result.returncode == 0, result.stderr[-3000:]
    assert result.stdout.strip().splitlines()[-1].startswith("1 cells ok, 0 failed")
    assert r"| A\|B | " in (out / "results.md").read_text()
    again = run(path, out, tmp_path)  # its own summaries it replaces
    assert again.returncode == 0, again.stderr[-3000:]


@pytest.mark.slow
@pytest.mark.skipif(not Path("/proc/self/stat").exists(), reason="reads /proc")
def test_a_cell_ends_with_its_runner_killed_outright(tmp_path):
    path, out = one_cell_spec(tmp_path, epochs=1000, stopping_step=1000), tmp_path / "out"
    runner = subprocess.Popen([sys.executable, str(REPO / "run_benchmark.py"), str(path),
                               "--out", str(out)], stdout=subprocess.DEVNULL,
                              stderr=subprocess.DEVNULL)
    state = out / "states" / "toy__A_B__seed1.pth"
    deadline = time.time() + 120
    while time.time() < deadline and runner.poll() is None and not state.exists():
        time.sleep(0.2)
    cells = children(runner.pid)
    assert state.exists() and len(cells) == 1, "the cell never started training"
    runner.kill()
    runner.wait()
    deadline = time.time() + 30
    while alive(cells[0]) and time.time() < deadline:
        time.sleep(0.2)
    assert not alive(cells[0]), "the cell outlived its runner"


def alive(pid):
    """Whether process ``pid`` runs (an ended one nobody has reaped yet does not)."""
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] != "Z"
    except OSError:
        return False
