"""Running a benchmark's cells, each a ``python -m recbole_elecrec`` process of its own, some at once,
one GPU each where there are GPUs; a finished cell's record is kept, so a rerun resumes."""

import contextlib
import json
import os
import queue
import statistics
import subprocess
import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor, as_completed
from functools import partial
from pathlib import Path

import torch
import yaml
from tqdm import tqdm

from recbole_elecrec.benchmark.report import check_summaries, write_summaries
from recbole_elecrec.benchmark.spec import cell_name, read_spec, spec_cells
from recbole_elecrec.errors import error_message
from recbole_elecrec.files import check_writable_dir, held, write_text_atomic

# a cell's command, to which its settings are added: the installed package, wherever it runs
# from, as a process that ends with this one (benchmark/cell.py)
RUN_COMMAND = [sys.executable, "-m", "recbole_elecrec.benchmark.cell", str(os.getpid()),
               "--show_progress=False"]
# the cells' processes now running, stopped with the runner (stop_cells)
_CELLS = {"processes": set(), "stopping": False, "lock": threading.RLock()}


def hardware():
    cpu = "cpu"
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as f:
            cpu = next(line.split(":", 1)[1].strip() for line in f if line.startswith("model name"))
    except (OSError, StopIteration):
        pass
    return f"{cpu}, {os.cpu_count()} cores"


def best_epoch(history, valid_metric, bigger=True):
    """The epoch whose model RecBole kept: the best validation score, the later of tied epochs
    (its early stopping compares with >=, on the rounded metrics the history holds)."""
    scored = [h for h in history if "valid" in h]
    if not scored:
        return None
    sign = 1 if bigger else -1
    return max(reversed(scored), key=lambda h: sign * h["valid"][valid_metric.lower()])["epoch"]


def gpu_ids(env, count):
    """The GPUs cells may take, one each: those CUDA_VISIBLE_DEVICES names, else all ``count``."""
    visible = env.get("CUDA_VISIBLE_DEVICES")
    if visible is not None:
        return [gpu for gpu in visible.split(",") if gpu.strip()]
    return [str(gpu) for gpu in range(count)]


def cell_command(cell, config_file, result_file, gpu=None):
    """The command line of a cell; ``config_file`` relative to the output folder, where the cell
    runs (RecBole splits config_files at spaces, which the folder's path may hold); ``gpu``: the
    GPU it has to itself (RecBole's ``gpu_id`` sets CUDA_VISIBLE_DEVICES in the cell's
    process)."""
    return [*RUN_COMMAND, f"--model={cell['model']}", f"--dataset={cell['dataset']}",
            f"--config_files={config_file}", f"--result_file={result_file}",
            *([f"--gpu_id={gpu}"] if gpu is not None else [])]


def record_path(cell, out):
    return out / "cells" / f"{cell_name(cell)}.json"


def read_record(cell, out):
    """The record of ``cell`` in ``out``, or None. A finished cell is reused only with the same
    model and settings: one of other settings (a changed benchmark file) is refused, since its
    figures would pass for the new settings'. Not compared: ``data_path``, where the same
    dataset lies on the machine that ran the cell."""
    path = record_path(cell, out)
    if not path.is_file():
        return None
    record = json.loads(path.read_text(encoding="utf-8"))
    if record["status"] == "ok":
        then = {"model": record.get("model"), **record.get("settings", {})}
        # as the record holds them (JSON)
        now = json.loads(json.dumps({"model": cell["model"], **cell["settings"]}, default=str))
        for given in (then, now):
            given.pop("data_path", None)
        key = next((key for key in {**now, **then}
                    if (key in then, then.get(key)) != (key in now, now.get(key))), None)
        if key is not None:
            there, here = (repr(given[key]) if key in given else "not set" for given in (then, now))
            raise ValueError(
                f"--out: {path} is this cell finished with other settings ({key} {there} there, "
                f"{here} now): give another --out, or remove that file to run the cell again")
    return record


def run_cell(cell, out, env=None, gpus=None):
    """Run one cell in a process of its own and write its record; returns the record (None once
    the runner stops). The cell is held (``cells/NAME.json.lock``) by this runner and by the
    cell's process, which inherits the hold: a cell another runner, or a cell process that
    outlived its runner, still runs is left to it, its files untouched (status "running").
    ``gpus``: a queue of free GPU ids, of which the cell takes one while it runs, unless its
    settings name their own ``gpu_id``."""
    path = record_path(cell, out)
    with contextlib.ExitStack() as stack:
        try:
            lock = stack.enter_context(held(path, "--out"))
        except ValueError as error:
            return {**cell, "status": "running", "error": error_message(error)}
        record = read_record(cell, out)  # another runner may have finished it meanwhile
        if record is not None and record["status"] == "ok":
            return record
        gpu = gpus.get() if gpus is not None and "gpu_id" not in cell["settings"] else None
        try:
            record = _run_cell(cell, out, env, gpu, lock)
        finally:
            if gpu is not None:
                gpus.put(gpu)
        if record is not None:
            # a runner killed while writing must not lose a finished cell's record
            write_text_atomic(path, json.dumps(record, indent=1, default=str))
        return record


def _run_cell(cell, out, env, gpu, lock):
    name = cell_name(cell)
    # the cell's full result (history, config); a stale one must not stand in for a failed run
    result_file = out / "runs" / f"{name}.json"
    result_file.unlink(missing_ok=True)
    config_file = out / "configs" / f"{name}.yaml"
    config_file.parent.mkdir(parents=True, exist_ok=True)
    # cells running at once must not share checkpoint names (RecBole's carry the second only)
    write_text_atomic(config_file, yaml.safe_dump({
        **cell["settings"], "training_state": str(out / "states" / f"{name}.pth"),
        "checkpoint_dir": str(out / "saved" / name)}))
    start = time.time()
    with _CELLS["lock"]:
        if _CELLS["stopping"]:
            return None
        proc = subprocess.Popen(
            cell_command(cell, config_file.relative_to(out), result_file, gpu),
            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True, cwd=out, env=env,
            pass_fds=(lock,))
        _CELLS["processes"].add(proc)
    with proc:
        _, stderr = proc.communicate()
    with _CELLS["lock"]:  # stop_cells iterates the set
        _CELLS["processes"].discard(proc)
        if _CELLS["stopping"]:  # stopped with the runner: it continues on the next run
            return None
    record = {**cell, "wall_seconds": round(time.time() - start, 1), "hardware": hardware()}
    if proc.returncode != 0 or not result_file.is_file():
        errors = [l for l in stderr.splitlines() if l.strip()]
        record.update(status="failed", error=errors[-1] if errors else f"exit {proc.returncode}")
        return record
    result = json.loads(result_file.read_text(encoding="utf-8"))
    # a cell continued from its training_state: add the training time of the runs before
    record["wall_seconds"] = round(record["wall_seconds"] + result["resumed_seconds"], 1)
    history = result.pop("history")
    config = result["config"]
    record.update(
        status="ok",
        test=result["test"],
        # every protocol's test figures and the history-first check (recbole_elecrec.protocols)
        test_by_protocol=result.get("test_by_protocol"),
        history_check=result.get("history_check"),
        best_valid=result["best_valid"],
        best_epoch=best_epoch(history, config["valid_metric"], config["valid_metric_bigger"]),
        epochs=len(history),
        train_seconds=result["train_seconds"],
        # the median: a resumed cell's or a busy machine's odd epochs do not move it
        seconds_per_epoch=round(statistics.median(h["train_seconds"] for h in history), 2),
        peak_rss_mb=result["peak_rss_mb"],
        peak_gpu_mb=result.get("peak_gpu_mb"),
        device=result["device"],
        hardware=record["hardware"] + (f", {result['gpu']}" if result.get("gpu") else ""),
        # the best model, absolute: compare reads it from any folder (records written before
        # hold it relative to the output folder)
        checkpoint=str(out / result["checkpoint"]),
        history=history,
        config=config,
    )
    return record


def paired_tests(records, out, first):
    """The paired per-user test (``compare``, test split) of the model labelled ``first``
    against each other model of the same dataset and seed, from their cells' checkpoints: one
    dict per pair, with its figures, the checkpoints ``missing`` (a folder holding the cells
    without their ``saved/``) or the ``error`` of ``compare``. A result is kept in
    ``OUT/pairs/<cell>.json`` with the two checkpoints it read, and read again while they stay."""
    from recbole_elecrec.compare import compare

    ok = {(r["dataset"], r["label"], r["seed"]): r for r in records if r["status"] == "ok"}
    pairs = []
    for (dataset, label, seed), b in ok.items():
        a = ok.get((dataset, first, seed))
        if label == first or a is None:
            continue
        pair = {"dataset": dataset, "a": first, "b": label, "seed": seed}
        files = [out / r["checkpoint"] for r in (a, b)]  # records before held it relative
        missing = [f for f in files if not f.is_file()]
        if missing:
            pairs.append({**pair, "missing": [
                str(f.relative_to(out) if f.is_relative_to(out) else f) for f in missing]})
            continue
        kept = out / "pairs" / f"{cell_name(b)}.json"
        stored = json.loads(kept.read_text(encoding="utf-8")) if kept.is_file() else {}
        if stored.get("checkpoints") != list(map(str, files)):
            try:
                result = compare(*files)
                stored = {"checkpoints": list(map(str, files)), "users": result["users"],
                          "metrics": result["metrics"]}
            except (ValueError, OSError) as error:
                stored = {"checkpoints": list(map(str, files)), "error": error_message(error)}
            kept.parent.mkdir(exist_ok=True)
            write_text_atomic(kept, json.dumps(stored, indent=1))
        pairs.append({**pair, **{k: v for k, v in stored.items() if k != "checkpoints"}})
    return pairs


def stop_cells(signum, frame):
    """Signal handler: stop the running cells with the runner, then exit. A stopped cell writes
    no record and continues from its last validated epoch on the next run; without this, a
    killed runner would leave its cells training, and a rerun would start a second process on the
    same cell."""
    with _CELLS["lock"]:
        _CELLS["stopping"] = True
        for proc in _CELLS["processes"]:
            proc.terminate()
    raise SystemExit(128 + signum)


def run_benchmark(spec_path, out=None, summaries_only=False, jobs=1):
    """Run every unfinished cell of ``spec_path`` and write the summaries; returns the records.

    ``jobs`` cells run at once (each with ``OMP_NUM_THREADS`` = cores / jobs unless set);
    ``summaries_only`` runs nothing: the summaries of the cells finished so far.
    """
    if jobs < 1:
        raise ValueError(f"jobs must be at least 1, got {jobs}")
    spec = read_spec(spec_path)
    cells = spec_cells(spec, spec_path)
    out = Path(out or Path("results") / Path(spec_path).stem).resolve()
    check_writable_dir(out, "--out")
    check_summaries(out, spec["datasets"])
    records = {i: read_record(cell, out) for i, cell in enumerate(cells)}
    (out / "cells").mkdir(parents=True, exist_ok=True)
    todo = [] if summaries_only else [
        (i, cell) for i, cell in enumerate(cells)
        if records[i] is None or records[i]["status"] != "ok"]
    env = dict(os.environ)
    if jobs > 1:
        env.setdefault("OMP_NUM_THREADS", str(max(1, (os.cpu_count() or 1) // jobs)))
    gpus = None
    if torch.cuda.is_available():  # one GPU per running cell: more jobs than GPUs wait for one
        gpus = queue.Queue()
        for gpu in gpu_ids(env, torch.cuda.device_count()):
            gpus.put(gpu)
    with tqdm(total=len(cells), initial=len(cells) - len(todo), desc="cells", unit="cell",
              disable=summaries_only) as bar, ThreadPoolExecutor(jobs) as pool:
        running = {pool.submit(run_cell, cell, out, env, gpus): i for i, cell in todo}
        for future in as_completed(running):
            records[running[future]] = future.result()
            bar.update()
    # the summaries hold every finished record, also those other runners wrote meanwhile
    finished = [record for record in map(partial(read_record, out=out), cells) if record]
    write_summaries(finished, out, spec["published"], spec.get("note"),
                    paired_tests(finished, out, spec["models"][0]["label"]))
    return [records[i] for i in sorted(records) if records[i]]
