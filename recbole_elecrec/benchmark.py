"""YAML benchmarks: models x datasets x seeds, each cell a ``python -m recbole_elecrec`` run.

    python -m recbole_elecrec.benchmark benchmarks/smoke.yaml [--out results/smoke] [--jobs 2]

A benchmark file::

    settings: {epochs: 50}            # every cell (any RecBole / ELECRec key; a relative
                                      # data_path is relative to the benchmark file)
    datasets: [Beauty]
    seeds: [1, 2, 3]                  # every model's, unless its entry lists its own
    models:
      - {model: ELECRec}
      - {model: GRU4Rec, seeds: [1]}
      - {model: SASRec, label: SASRec (CE), settings: {loss_type: CE}}
    published:                        # optional: numbers to hold the cells to, per dataset
      Beauty:                         # and label; results.md shows the relative differences
        ELECRec: {hit@5: 0.0705, ndcg@5: 0.0507}
    note: what the numbers are for   # optional: printed at the top of results.md

Cells run seed-major: the first seed of every model and dataset, then the second, ...
Each finished cell is written to ``OUT/cells/*.json``; a rerun skips them, so an interrupted
benchmark resumes, and a cell cut off mid-training continues from its last validated epoch
(``training_state`` under ``OUT/states/``). A failing cell is recorded with its error and the
others go on. From the cells come ``results.csv``, ``results.md`` and PNG plots.
"""

import argparse
import csv
import io
import json
import os
import queue
import re
import signal
import statistics
import subprocess
import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor, as_completed
from pathlib import Path

import torch
import yaml
from tqdm import tqdm

from recbole_elecrec.errors import command
from recbole_elecrec.config import SettingsLoader, read_settings
from recbole_elecrec.files import check_writable_dir, write_text_atomic
from recbole_elecrec.protocols import HISTORY_MASKS

# a cell's command, to which its settings are added: the installed package, wherever it runs from
RUN_COMMAND = [sys.executable, "-m", "recbole_elecrec", "--show_progress=False"]
# the cells' processes now running, stopped with the runner (stop_cells)
_CELLS = {"processes": set(), "stopping": False, "lock": threading.RLock()}


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
    """The command line of a cell; ``gpu``: the GPU it has to itself (RecBole's ``gpu_id`` sets
    CUDA_VISIBLE_DEVICES in the cell's process)."""
    return [*RUN_COMMAND, f"--model={cell['model']}", f"--dataset={cell['dataset']}",
            f"--config_files={config_file}", f"--result_file={result_file}",
            *([f"--gpu_id={gpu}"] if gpu is not None else [])]


def run_cell(cell, out, env=None, gpus=None):
    """Run one cell in a process of its own; returns its record (None once the runner stops).
    ``gpus``: a queue of free GPU ids, of which the cell takes one while it runs, unless its
    settings name their own ``gpu_id``."""
    gpu = gpus.get() if gpus is not None and "gpu_id" not in cell["settings"] else None
    try:
        return _run_cell(cell, out, env, gpu)
    finally:
        if gpu is not None:
            gpus.put(gpu)


def _run_cell(cell, out, env, gpu):
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
            cell_command(cell, config_file, result_file, gpu), stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True, cwd=out, env=env,
        )
        _CELLS["processes"].add(proc)
    with proc:
        _, stderr = proc.communicate()
    with _CELLS["lock"]:  # stop_cells iterates the set
        _CELLS["processes"].discard(proc)
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
        # the best model, relative to the output folder (python -m recbole_elecrec.compare)
        checkpoint=os.path.relpath(out / result["checkpoint"], out),
        history=history,
        config=config,
    )
    return record


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
    (out / "cells").mkdir(parents=True, exist_ok=True)
    records, todo = {}, []
    for i, cell in enumerate(cells):
        path = out / "cells" / f"{cell_name(cell)}.json"
        record = json.loads(path.read_text()) if path.is_file() else None
        if record and (record["status"] == "ok" or summaries_only):
            records[i] = record
        elif not summaries_only:
            todo.append((i, cell, path))
    env = dict(os.environ)
    if jobs > 1:
        env.setdefault("OMP_NUM_THREADS", str(max(1, (os.cpu_count() or 1) // jobs)))
    gpus = None
    if torch.cuda.is_available():  # one GPU per running cell: more jobs than GPUs wait for one
        gpus = queue.Queue()
        for gpu in gpu_ids(env, torch.cuda.device_count()):
            gpus.put(gpu)
    with tqdm(total=len(cells), initial=len(records), desc="cells", unit="cell",
              disable=summaries_only) as bar, ThreadPoolExecutor(jobs) as pool:
        running = {pool.submit(run_cell, cell, out, env, gpus): (i, path)
                   for i, cell, path in todo}
        for future in as_completed(running):
            i, path = running[future]
            records[i] = future.result()
            # a runner killed while writing must not lose a finished cell's record
            write_text_atomic(path, json.dumps(records[i], indent=1, default=str))
            bar.update()
    records = [records[i] for i in sorted(records)]
    write_summaries(records, out, spec["published"], spec.get("note"))
    return records


@command
def main(argv=None):
    """The command line: run a benchmark file, then print how many cells finished."""
    parser = argparse.ArgumentParser(prog="python -m recbole_elecrec.benchmark",
                                     description="Run a YAML benchmark: models x datasets x seeds.")
    parser.add_argument("spec", help="benchmark YAML file")
    parser.add_argument("--out", help="output folder (default: results/<spec name>/)")
    parser.add_argument("--jobs", type=int, default=1,
                        help="cells run at once (default 1; each gets cores / jobs threads)")
    parser.add_argument("--summaries_only", action="store_true",
                        help="run nothing; rewrite the tables and plots from the finished cells")
    args = parser.parse_args(argv)
    for signum in (signal.SIGTERM, signal.SIGINT):
        signal.signal(signum, stop_cells)
    records = run_benchmark(args.spec, args.out, args.summaries_only, args.jobs)
    failed = sum(r["status"] != "ok" for r in records)
    out = Path(args.out or Path("results") / Path(args.spec).stem)  # as run_benchmark places it
    print(f"{len(records) - failed} cells ok, {failed} failed: tables in {out / 'results.md'}")
    return 0


def _metric_names(records):
    ok = [r for r in records if r["status"] == "ok"]
    return list(ok[0]["test"]) if ok else []


def selection(record):
    """(metric, score): the cell's model-selection metric and its best validation value."""
    metric = (record.get("config") or {}).get("valid_metric", "").lower()
    best = record.get("best_valid", {})
    return (metric, best[metric]) if metric in best else ("", "")


def write_summaries(records, out, published=None, note=None):
    metrics = _metric_names(records)
    table = io.StringIO(newline="")
    writer = csv.writer(table)
    by_protocol = [(p, m) for p in HISTORY_MASKS for m in metrics]
    writer.writerow(["dataset", "model", "seed", "status", *metrics, "best_epoch", "epochs",
                     "seconds_per_epoch", "peak_rss_mb", "peak_gpu_mb", "valid_metric",
                     "best_valid", "error",
                     "history_mask", *[f"{p}:{m}" for p, m in by_protocol],
                     "history_first_share", "negative_score_share"])
    for r in records:
        ok = r["status"] == "ok"
        protocols, check = r.get("test_by_protocol") or {}, r.get("history_check") or {}
        writer.writerow([r["dataset"], r["label"], r["seed"], r["status"],
                         *[r["test"][m] if ok else "" for m in metrics],
                         r.get("best_epoch", ""), r.get("epochs", ""),
                         r.get("seconds_per_epoch", ""), r.get("peak_rss_mb", ""),
                         r.get("peak_gpu_mb") or "",
                         *selection(r), r.get("error", ""),
                         (r.get("config") or {}).get("history_mask", ""),
                         *[protocols.get(p, {}).get(m, "") for p, m in by_protocol],
                         check.get("history_first_share", ""),
                         check.get("negative_score_share", "")])
    write_text_atomic(out / "results.csv", table.getvalue())
    write_text_atomic(out / "results.md", markdown_table(records, metrics, published or {}, note))
    plot(records, metrics, out)


def markdown_table(records, metrics, published, note=None):
    """Test metrics as mean +- std over seeds (when several), best per column in bold, the mean
    best validation score that selected the models, ELECRec's gain, and the published numbers
    beside this run's; the benchmark file's ``note`` (such as what the numbers are not) first."""
    lines = ["# Results (test split)", ""] + ([f"> {note.strip()}", ""] if note else [])
    for dataset in dict.fromkeys(r["dataset"] for r in records):
        rows = [r for r in records if r["dataset"] == dataset]
        labels = list(dict.fromkeys(r["label"] for r in rows))
        means, cells = {}, {}
        for label in labels:
            ok = [r for r in rows if r["label"] == label and r["status"] == "ok"]
            for m in metrics:
                values = [r["test"][m] for r in ok]
                means[label, m] = statistics.mean(values) if values else None
                std = statistics.stdev(values) if len(values) > 1 else 0.0
                cells[label, m] = (f"{means[label, m]:.4f} ± {std:.4f}" if len(values) > 1
                                   else f"{means[label, m]:.4f}" if values else "failed")
        valid = next((metric for metric, _ in map(selection, rows) if metric), "")
        extra = [f"valid {valid}"] if valid else []
        lines += [f"## {dataset}", "",
                  "| model | " + " | ".join(metrics + extra) + " | epochs | s/epoch |",
                  "|---" * (len(metrics) + len(extra) + 3) + "|"]
        for label in labels:
            ok = [r for r in rows if r["label"] == label and r["status"] == "ok"]
            row = []
            for m in metrics:
                best = max((v for (l, mm), v in means.items() if mm == m and v is not None),
                           default=None)
                text = cells[label, m]
                row.append(f"**{text}**" if best is not None and means[label, m] == best else text)
            if valid:
                scores = [score for metric, score in map(selection, ok) if metric == valid]
                row.append(f"{statistics.mean(scores):.4f}" if scores else "-")
            epochs = statistics.mean(r["epochs"] for r in ok) if ok else 0
            speed = statistics.mean(r["seconds_per_epoch"] for r in ok) if ok else 0
            lines.append(f"| {label} | " + " | ".join(row) + f" | {epochs:.0f} | {speed:.3g} |")
        elecrec = [l for l in labels if l.startswith("ELECRec")]
        baselines = [l for l in labels if l not in elecrec]
        if elecrec and baselines:
            gains = []
            for m in metrics:
                base = max((means[l, m] for l in baselines if means[l, m] is not None), default=None)
                ours = means[elecrec[0], m]
                if base and ours is not None:
                    gains.append(f"{m} {100 * (ours - base) / base:+.1f}%")
            lines += ["", f"{elecrec[0]} vs the best baseline: " + ", ".join(gains)]
        lines += published_table(published.get(dataset) or {}, means)
        lines += protocol_table(rows, labels, metrics)
        failed = [r for r in rows if r["status"] != "ok"]
        for r in failed:
            lines.append(f"- failed: {r['label']} seed {r['seed']}: {r['error']}")
        lines.append("")
    return "\n".join(lines)


def protocol_table(rows, labels, metrics):
    """Rows of each model's test figures under every protocol (mean over the seeds that have
    them) and its history-first share; none when no cell has them (cells run before they
    existed: re-score their checkpoints with --eval_only)."""
    if not any(r.get("test_by_protocol") for r in rows):
        return []
    lines = ["", "Every protocol (history first: users whose top K under the configured protocol "
             "starts with their whole history):", "",
             "| model | history_mask | " + " | ".join(metrics) + " | history first |",
             "|---" * (len(metrics) + 3) + "|"]
    for label in labels:
        scored = [r for r in rows if r["label"] == label and r.get("test_by_protocol")]
        if not scored:
            lines.append(f"| {label} | to re-score |" + " |" * (len(metrics) + 1))
            continue
        first = statistics.mean(r["history_check"]["history_first_share"] for r in scored)
        for p in HISTORY_MASKS:
            values = [f"{statistics.mean(r['test_by_protocol'][p][m] for r in scored):.4f}"
                      for m in metrics]
            own = p == scored[0]["config"]["history_mask"]
            lines.append(f"| {label} | {p}{' (configured)' if own else ''} | "
                         + " | ".join(values) + f" | {f'{first:.3f}' if own else ''} |")
    return lines


def published_table(published, means):
    """Rows of published numbers, each followed by this run's mean and its relative difference."""
    if not published:
        return []
    names = list(dict.fromkeys(m for numbers in published.values() for m in numbers))
    lines = ["", "Published numbers and this run (relative difference):", "",
             "| model | " + " | ".join(names) + " |", "|---" * (len(names) + 1) + "|"]
    for label, numbers in published.items():
        lines.append(f"| {label}: published | "
                     + " | ".join(f"{numbers[m]:.4f}" if m in numbers else "" for m in names)
                     + " |")
        row = []
        for m in names:
            ours = means.get((label, m))
            if ours is None:  # not among this run's cells or metrics, or its cells failed
                row.append("failed" if (label, m) in means else "-")
            elif m in numbers and numbers[m]:
                row.append(f"{ours:.4f} ({100 * (ours - numbers[m]) / numbers[m]:+.1f}%)")
            else:
                row.append(f"{ours:.4f}")
        lines.append(f"| {label}: this run | " + " | ".join(row) + " |")
    return lines


def plot(records, metrics, out):
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from matplotlib.ticker import MaxNLocator

    ok = [r for r in records if r["status"] == "ok"]
    for dataset in dict.fromkeys(r["dataset"] for r in ok):
        rows = [r for r in ok if r["dataset"] == dataset]
        labels = list(dict.fromkeys(r["label"] for r in rows))
        fig, ax = plt.subplots(figsize=(1.2 * len(metrics) * len(labels) / 2 + 3, 4))
        width = 0.8 / len(labels)
        for i, label in enumerate(labels):
            values = [statistics.mean(r["test"][m] for r in rows if r["label"] == label)
                      for m in metrics]
            # the seed spread the table reports (std over seeds; none for one seed)
            spread = [statistics.stdev(v) if len(v) > 1 else 0.0
                      for v in ([r["test"][m] for r in rows if r["label"] == label]
                                for m in metrics)]
            ax.bar([j + i * width for j in range(len(metrics))], values, width, label=label,
                   yerr=spread if any(spread) else None, capsize=3)
        ax.set_xticks([j + 0.4 - width / 2 for j in range(len(metrics))], metrics)
        ax.set_title(f"{dataset}: test metrics (mean over seeds, bars: std)")
        ax.legend()
        fig.tight_layout()
        fig.savefig(out / f"metrics_{dataset}.png", dpi=100)
        plt.close(fig)

        valid_metric = rows[0]["config"]["valid_metric"].lower()
        elecrec = [r for r in rows if r["model"] == "ELECRec"]
        # losses and accuracies on axes of their own: on one, the losses flatten the accuracies
        panels = 3 if elecrec else 1
        fig, axes = plt.subplots(1, panels, figsize=(6 * panels, 4), squeeze=False)
        for r in rows:
            points = [(h["epoch"], h["valid"][valid_metric]) for h in r["history"] if "valid" in h]
            axes[0][0].plot(*zip(*points), label=f"{r['label']} s{r['seed']}")
        axes[0][0].set(title=f"{dataset}: validation {valid_metric}", xlabel="epoch")
        axes[0][0].legend(fontsize=7)
        if elecrec:
            seed = elecrec[0]["seed"]
            for ax, keys, title in (
                    (axes[0][1], ("gen_loss", "dis_loss"), "training losses"),
                    (axes[0][2], ("dis_acc_kept", "dis_acc_replaced", "replace_rate"),
                     "discriminator accuracy, replace rate")):
                for key in keys:
                    points = [(h["epoch"], h[key]) for h in elecrec[0]["history"] if key in h]
                    if points:
                        ax.plot(*zip(*points), label=key)
                ax.set(title=f"{dataset}: ELECRec {title} (seed {seed})", xlabel="epoch")
                ax.legend(fontsize=7)
        for ax in axes[0]:
            ax.xaxis.set_major_locator(MaxNLocator(integer=True))
        fig.tight_layout()
        fig.savefig(out / f"curves_{dataset}.png", dpi=100)
        plt.close(fig)


if __name__ == "__main__":
    sys.exit(main())
