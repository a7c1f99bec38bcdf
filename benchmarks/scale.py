"""Training-step cost against catalog size: ELECRec, SASRec+ and RecBole's SASRec (CE loss) on
synthetic Zipf catalogs, each (size, model) cell in a process of its own; with
``--interactions``, the whole pipeline's cost against the number of interactions.

    python benchmarks/scale.py [--sizes 12000 100000 300000 1000000]
        [--models ELECRec SASRecPlus SASRec] [--steps 4] [--threads 1] [--max_rss_gb 20]
        [--timeout 1800] [--settings softmax_chunk_rows=256] [--users 4000]
        [--data_path benchmarks/data/scale] [--out benchmarks/results/scale] [--name scale]

The data: ``--users`` users with Beauty-like sequences (5 items or more, mean ~8, the longest
60 or so) of items drawn from a Zipf law (exponent 1) over the catalog, deterministic from
``--seed``; an ``.item`` file lists the whole catalog, so the models' item table holds every item.
Each cell builds the config, dataset and model as training does, on the CPU, then runs one
warm-up and ``--steps`` timed training steps (forward, backward, Adam step) of
``train_batch_size: 256``. ELECRec and SASRecPlus run with the padding quirks off
(``gen_loss_on_padding``, ``replace_padding``) plus ``--settings``; RecBole's SASRec with
``loss_type: CE`` and no negative sampling. Per cell: seconds per step, seconds per target (the
positions scored: ELECRec's and SASRec+'s real next-item targets, one per row for SASRec), the
RSS before the first step and the process's peak RSS. The parent kills a cell whose RSS passes
``--max_rss_gb`` (an address-space limit a little above it catches sudden allocations) or that
runs past ``--timeout``: the table says "out of memory" or "timed out". It prints a markdown
table, writes it with the figures to ``OUT/NAME.md`` and ``OUT/NAME.json``, draws log-log plots
of peak RSS and seconds per step against catalog size to ``--plot`` (default ``OUT/NAME.png``),
and prints the figures as its last stdout line, a JSON object.

    python benchmarks/scale.py --interactions 1000000 10000000 30000000
        [--models ELECRec SASRecPlus SASRec RecBole:SASRec] [--steps 20] [--eval_batches 20]
        [--full [epoch] [evaluation]] [--data_path /tmp/scale] [--name interactions]

The interactions axis: a log of each size, Zipf item popularity; up to 10M interactions shaped
like the issue's 10.4M file (a user per 14 interactions, 5 to 200 each, 100k items), beyond
that like ML-32M (a user per 160 interactions, 20 or more each, 87k items), with times in
seconds. A cell runs ``run_recbole.py``'s pipeline (``quick_start.build``: settings, data,
loaders, model, trainer), or for ``RecBole:SASRec`` RecBole's own (Config, create_dataset,
data_preparation), to the end of the first training step: its seconds and peak RSS. Then
``--steps`` steps give seconds per epoch (steps per epoch x seconds per step) and
``--eval_batches`` batches of a full-ranking validation its seconds (batches x seconds per
batch); ``--full`` runs the whole epoch and the whole validation instead (``--full evaluation``:
the validation only). Peak RSS is the process's through all of it.
"""

import argparse
import itertools
import json
import os
import resource
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd
import psutil
import yaml

HERE = Path(__file__).resolve().parent
MODELS = ("ELECRec", "SASRecPlus", "SASRec")
QUIRKS_OFF = {"gen_loss_on_padding": False, "replace_padding": False}
ZIPF_EXPONENT = 1.0
GB = 2 ** 30
FULL = ("epoch", "evaluation")  # the parts --full runs whole
# RecBole 1.2.1's own Config installs numpy aliases from np.float_, gone in numpy 2
RECBOLE_NEEDS_OLD_NUMPY = "not run: RecBole 1.2.1's own pipeline needs numpy < 2"
AS_HEADROOM_GB = 2  # address space beyond --max_rss_gb: libraries and thread stacks, never touched


# ---------------------------------------------------------------------------- data
def dataset_name(n_items, users, seed):
    return f"zipf{n_items}_u{users}_s{seed}"


def make_dataset(data_path, n_items, users, seed):
    """Write the atomic files of one catalog (unless they exist); returns the dataset's name."""
    name = dataset_name(n_items, users, seed)
    folder = Path(data_path) / name
    if (folder / f"{name}.inter").is_file():
        return name
    folder.mkdir(parents=True, exist_ok=True)
    # the same users (sequence lengths) at every catalog size; their items per size
    lengths = 5 + np.floor(np.random.default_rng(seed).lognormal(1.0, 0.9, users)).astype(int)
    rng = np.random.default_rng([seed, n_items])
    cdf = np.cumsum(1.0 / np.arange(1, n_items + 1) ** ZIPF_EXPONENT)
    ranks = np.searchsorted(cdf, rng.random(lengths.sum()) * cdf[-1], side="right")
    item_ids = rng.permutation(n_items)[np.minimum(ranks, n_items - 1)] + 1  # popular ids spread
    user_ids = np.repeat(np.arange(1, users + 1), lengths)
    times = np.arange(lengths.sum()) - np.repeat(np.cumsum(lengths) - lengths, lengths)
    rows = "".join(f"{u}\t{i}\t{t}\n" for u, i, t in zip(user_ids, item_ids, times))
    (folder / f"{name}.item").write_text(
        "item_id:token\n" + "\n".join(map(str, range(1, n_items + 1))) + "\n")
    partial = folder / f"{name}.inter.partial"  # the .inter file last: it marks a complete set
    partial.write_text("user_id:token\titem_id:token\ttimestamp:float\n" + rows)
    partial.rename(folder / f"{name}.inter")
    return name


def log_shape(interactions):
    """(users, items, mean interactions per user, fewest, most) of a log of this size."""
    if interactions > 10_000_000:  # ML-32M: 200k users, 87k items, 32M ratings
        return round(interactions / 160), 87_000, 160, 20, 20_000
    return round(interactions / 14), 100_000, 14, 5, 200


def make_log(data_path, interactions, seed):
    """Write one interaction log (unless it exists), in chunks of users; returns its name."""
    name = f"log{interactions}_s{seed}"
    folder = Path(data_path) / name
    if (folder / f"{name}.inter").is_file():
        return name
    folder.mkdir(parents=True, exist_ok=True)
    users, n_items, mean, low, high = log_shape(interactions)
    rng = np.random.default_rng([seed, interactions])
    lengths = low + rng.lognormal(np.log(mean - low) - 0.5, 1.0, users).astype(np.int64)
    lengths = np.minimum(lengths, high)
    cdf = np.cumsum(1.0 / np.arange(1, n_items + 1) ** ZIPF_EXPONENT)
    popular = rng.permutation(n_items) + 1
    partial = folder / f"{name}.inter.partial"
    with open(partial, "w") as file:
        file.write("user_id:token\titem_id:token\ttimestamp:float\n")
        for first in range(0, users, 50_000):
            part = lengths[first:first + 50_000]
            ranks = np.searchsorted(cdf, rng.random(part.sum()) * cdf[-1], side="right")
            items = popular[np.minimum(ranks, n_items - 1)]
            user = np.repeat(np.arange(first + 1, first + len(part) + 1), part)
            # each user's times: a start, then gaps of up to a day
            gaps = np.cumsum(rng.integers(1, 86_400, part.sum()))
            heads = np.cumsum(part) - part
            times = np.repeat(rng.integers(9e8, 1.6e9, len(part)) - gaps[heads], part) + gaps
            frame = pd.DataFrame({"u": user, "i": items, "t": times})
            frame.to_csv(file, sep="\t", header=False, index=False)
    partial.rename(folder / f"{name}.inter")
    return name


# ---------------------------------------------------------------------------- one cell
def rss_gb():
    return psutil.Process().memory_info().rss / GB


def peak_rss_gb():
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024 / GB


def run_cell(cell):
    """Build and time one (catalog, model) cell in this process; returns its figures."""
    import warnings

    import torch
    from recbole.data import data_preparation
    from recbole.utils import init_seed

    import recbole_elecrec
    from recbole_elecrec.config import Config
    from recbole_elecrec.model import SASRecPlus
    from recbole_elecrec.optim import update_twice
    from recbole_elecrec.quick_start import create_dataset
    from recbole_elecrec.utils import get_model

    warnings.filterwarnings("ignore", category=FutureWarning)  # RecBole's pandas calls
    torch.set_num_threads(cell["threads"])
    model_name = cell["model"]
    settings = {"data_path": cell["data_path"], "show_progress": False, "use_gpu": False,
                "load_col": {"inter": ["user_id", "item_id", "timestamp"], "item": ["item_id"]},
                "train_batch_size": 256}
    if issubclass(get_model(model_name), SASRecPlus):  # ELECRec, SASRecPlus
        settings.update(QUIRKS_OFF, **cell["settings"])
    else:  # RecBole's models
        settings.update(loss_type="CE", train_neg_sample_args=None)
    config = Config(model_name, cell["dataset"], config_dict=settings)
    init_seed(config["seed"], config["reproducibility"])
    train, _, _ = data_preparation(config, create_dataset(config))
    model = get_model(model_name)(config, train._dataset)
    optimizer = torch.optim.Adam(model.parameters(), lr=config["learning_rate"],
                                 weight_decay=config["weight_decay"])
    if config["shared_updates"] == "twice":
        update_twice(optimizer, model.twice_updated_parameters())
    batches = []  # a warm-up step, then the timed ones
    while len(batches) < cell["steps"] + 1:
        for batch in train:
            batches.append(batch)
            if len(batches) == cell["steps"] + 1:
                break
    figures = {"n_items": model.n_items, "build_rss_gb": rss_gb(),
               "package": os.path.dirname(recbole_elecrec.__file__)}

    seconds, targets = [], []
    model.train()
    for batch in batches:
        start = time.perf_counter()
        optimizer.zero_grad()
        losses = model.calculate_loss(batch)
        (sum(losses) if isinstance(losses, tuple) else losses).backward()
        optimizer.step()
        seconds.append(time.perf_counter() - start)
        targets.append(count_targets(model, batch))
    seconds, targets = seconds[1:], targets[1:]
    figures.update(s_per_step=sum(seconds) / len(seconds), s_per_target=sum(seconds) / sum(targets),
                   targets_per_step=sum(targets) / len(targets), peak_rss_gb=peak_rss_gb())
    return figures


def run_log_cell(cell):
    """Run one (log size, model) cell of the interactions axis in this process."""
    import warnings

    import torch

    warnings.filterwarnings("ignore", category=FutureWarning)  # RecBole's pandas calls
    torch.set_num_threads(cell["threads"])
    start = time.perf_counter()
    model_name = cell["model"].removeprefix("RecBole:")
    settings = {"data_path": cell["data_path"], "show_progress": False, "use_gpu": False,
                "train_batch_size": 256, "eval_batch_size": 256, "threads": cell["threads"],
                "checkpoint_dir": cell["checkpoint_dir"]}
    if model_name == "SASRec":
        settings.update(loss_type="CE", train_neg_sample_args=None)
    if cell["model"].startswith("RecBole:"):
        trainer, train, valid = recbole_pipeline(model_name, cell["dataset"], settings)
    else:
        from recbole_elecrec.quick_start import build

        _, trainer, (train, valid, _) = build(model_name, cell["dataset"], config_dict=settings)
    batches = iter(train)
    train_step(trainer, next(batches))
    figures = {"interactions": cell["interactions"], "first_step_s": time.perf_counter() - start,
               "first_step_rss_gb": peak_rss_gb(), "train_rows": len(train.dataset),
               "valid_rows": len(valid.dataset)}
    if "epoch" in cell["full"]:
        begin = time.perf_counter()
        trainer._train_epoch(train, 0)
        figures["epoch_s"] = time.perf_counter() - begin
    else:
        more = itertools.islice(itertools.chain(batches, train), cell["steps"])  # a new pass
        timed = [train_step(trainer, batch) for batch in more]
        figures["epoch_s"] = len(train) * sum(timed) / max(len(timed), 1)
    figures["epoch_rss_gb"] = peak_rss_gb()
    eval_data, share = valid, 1.0
    if "evaluation" not in cell["full"] and len(valid) > cell["eval_batches"]:
        eval_data, share = first_batches(valid, cell["eval_batches"])
    begin = time.perf_counter()
    trainer.evaluate(eval_data, load_best_model=False)
    figures.update(eval_s=(time.perf_counter() - begin) / share, peak_rss_gb=peak_rss_gb(),
                   estimated=[part for part in FULL if part not in cell["full"]])
    return figures


def recbole_pipeline(model_name, dataset, settings):
    """RecBole's own pipeline: its Config, dataset, loaders, model and trainer."""
    from recbole.config import Config as RecBoleConfig
    from recbole.data import create_dataset, data_preparation
    from recbole.trainer import Trainer
    from recbole.utils import get_model, init_seed

    settings = {k: v for k, v in settings.items() if k != "threads"}
    config = RecBoleConfig(model_name, dataset, config_dict={
        **settings, "load_col": {"inter": ["user_id", "item_id", "timestamp"]}})
    init_seed(config["seed"], config["reproducibility"])
    train, valid, _ = data_preparation(config, create_dataset(config))
    model = get_model(model_name)(config, train._dataset)
    return Trainer(config, model), train, valid


def train_step(trainer, batch):
    """One training step as the trainer takes it; returns its seconds."""
    begin = time.perf_counter()
    trainer.model.train()
    trainer.optimizer.zero_grad()
    losses = trainer.model.calculate_loss(batch)
    (sum(losses) if isinstance(losses, tuple) else losses).backward()
    trainer.optimizer.step()
    return time.perf_counter() - begin


def first_batches(loader, batches):
    """A full-ranking loader over the first ``batches`` batches of ``loader``'s rows, and the
    share of the rows they are."""
    from recbole.data.dataloader import FullSortEvalDataLoader

    dataset = loader._dataset
    rows = min(len(dataset), batches * loader.step)
    subset = dataset.copy(dataset.inter_feat[np.arange(rows)])
    return (FullSortEvalDataLoader(loader.config, subset, loader._sampler, shuffle=False),
            rows / len(dataset))


def count_targets(model, batch):
    """The positions the step scored: the model's count, else the batch's real next-item
    targets (ELECRec's layout), else one per row (RecBole's models)."""
    import torch

    stats = getattr(model, "step_stats", None) or {}
    if "targets" in stats:
        return int(stats["targets"])
    if hasattr(model, "training_rows"):
        with torch.no_grad():
            return int((model.training_rows(batch).targets > 0).sum())
    return len(batch)


def cell_main(cell):
    """The hidden ``--cell`` entry: cap the address space, run, print the figures as JSON."""
    limit = int((cell["max_rss_gb"] + AS_HEADROOM_GB) * GB)
    resource.setrlimit(resource.RLIMIT_AS, (limit, limit))
    try:
        runner = run_log_cell if "interactions" in cell else run_cell
        figures = {"status": "ok", **runner(cell)}
    except MemoryError:
        figures = {"status": "out of memory"}
    except RuntimeError as error:
        if "alloc" not in str(error):  # torch's "can't allocate memory"
            raise
        figures = {"status": "out of memory"}
    print(json.dumps(figures), flush=True)


def spawn_cell(cell, timeout):
    """Run one cell in a child process, killed past ``max_rss_gb`` of RSS or ``timeout``."""
    command = [sys.executable, __file__, "--cell", json.dumps(cell)]
    child = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    watched, status, start = psutil.Process(child.pid), None, time.monotonic()
    while child.poll() is None:
        try:
            if watched.memory_info().rss > cell["max_rss_gb"] * GB:
                status = "out of memory"
        except psutil.NoSuchProcess:
            break
        if time.monotonic() - start > timeout:
            status = "timed out"
        if status:
            child.kill()
            break
        time.sleep(0.05)
    out, err = child.communicate()
    if status:
        return {"status": status}
    lines = out.strip().splitlines()
    if child.returncode == 0 and lines:
        return json.loads(lines[-1])
    if child.returncode == -9 or "MemoryError" in err:  # the kernel's OOM killer, or RLIMIT_AS
        return {"status": "out of memory"}
    last = (err.strip().splitlines() or ["no output"])[-1]
    return {"status": f"failed (exit {child.returncode}: {last[:200]})"}


# ---------------------------------------------------------------------------- report
def table(cells):
    lines = ["| items | model | s/step | ms/target | targets/step | RSS before steps, GB "
             "| peak RSS, GB |", "|---:|---|---:|---:|---:|---:|---:|"]
    for c in cells:
        if c["status"] == "ok":
            figures = (f"{c['s_per_step']:.2f} | {1000 * c['s_per_target']:.3f} | "
                       f"{c['targets_per_step']:.0f} | {c['build_rss_gb']:.2f} | "
                       f"{c['peak_rss_gb']:.2f}")
        else:
            figures = f"{c['status']} | | | |"
        lines.append(f"| {c['items']:,} | {c['model']} | {figures} |")
    return "\n".join(lines)


def log_table(cells):
    lines = ["| interactions | model | to first step, s | RSS at first step, GB | s/epoch "
             "| s/evaluation | peak RSS, GB |", "|---:|---|---:|---:|---:|---:|---:|"]
    for c in cells:
        if c["status"] == "ok":
            mark = {part: " (est.)" if part in c["estimated"] else "" for part in FULL}
            figures = (f"{c['first_step_s']:.0f} | {c['first_step_rss_gb']:.2f} | "
                       f"{c['epoch_s']:.0f}{mark['epoch']} | "
                       f"{c['eval_s']:.0f}{mark['evaluation']} | {c['peak_rss_gb']:.2f}")
        else:
            figures = f"{c['status']} | | | |"
        lines.append(f"| {c['interactions']:,} | {c['model']} | {figures} |")
    return "\n".join(lines)


def interactions_main(args):
    """The ``--interactions`` axis: one cell per (log size, model)."""
    cells = []
    for size in args.interactions:
        name = make_log(args.data_path, size, args.seed)
        for model in args.models:
            cell = {"interactions": size, "model": model, "dataset": name,
                    "data_path": args.data_path, "steps": args.steps, "threads": args.threads,
                    "max_rss_gb": args.max_rss_gb, "eval_batches": args.eval_batches,
                    "full": args.full, "checkpoint_dir": str(Path(args.out) / "saved")}
            if model.startswith("RecBole:") and not hasattr(np, "float_"):
                result = {"status": RECBOLE_NEEDS_OLD_NUMPY}
            else:
                result = spawn_cell(cell, args.timeout)
            cells.append({"interactions": size, "model": model, **result})
            print(f"{size} interactions, {model}: {result}", file=sys.stderr, flush=True)
    how = "; ".join(
        [f"a whole {part}" for part in args.full]
        + [f"s/epoch estimated from {args.steps} steps"] * ("epoch" not in args.full)
        + [f"s/evaluation estimated from {args.eval_batches} validation batches"]
        * ("evaluation" not in args.full))
    markdown = (f"{args.threads} thread(s), CPU, batches of 256, {how}; limit "
                f"{args.max_rss_gb} GB\n\n{log_table(cells)}\n")
    print(markdown)
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    (out / f"{args.name}.md").write_text(markdown)
    summary = {"threads": args.threads, "max_rss_gb": args.max_rss_gb, "full": args.full,
               "cells": [{k: round(v, 6) if isinstance(v, float) else v for k, v in c.items()}
                         for c in cells]}
    (out / f"{args.name}.json").write_text(json.dumps(summary, indent=1) + "\n")
    plot(cells, args.plot or out / f"{args.name}.png", args.max_rss_gb,
         ("interactions", "interactions"), ("first_step_s", "seconds to the first training step"),
         "The whole pipeline against the number of interactions, CPU, 1 thread")
    print(json.dumps(summary))


def plot(cells, path, max_rss_gb, axis, speed, title):
    """Peak RSS and ``speed`` (a (key, label) pair) against ``axis`` (a (key, label) pair), one
    line per model, log-log."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(1, 2, figsize=(11, 4.2))
    for (key, label), ax in zip([("peak_rss_gb", "peak RSS (GB)"), speed], axes):
        for model in dict.fromkeys(c["model"] for c in cells):
            points = [(c[axis[0]], c[key]) for c in cells
                      if c["model"] == model and c["status"] == "ok"]
            if points:
                ax.plot(*zip(*points), marker="o", label=model)
        ax.set(xscale="log", yscale="log", xlabel=axis[1], ylabel=label)
        ax.grid(True, which="both", alpha=0.3)
    axes[0].axhline(max_rss_gb, color="grey", linestyle="--", label="--max_rss_gb")
    axes[0].legend()
    fig.suptitle(title)
    fig.tight_layout()
    Path(path).parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=120)


def parse_settings(pairs):
    settings = {}
    for pair in pairs:
        key, sep, value = pair.partition("=")
        if not sep:
            raise SystemExit(f"--settings: '{pair}' is not KEY=VALUE")
        settings[key] = yaml.safe_load(value)
    return settings


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[12000, 100000, 300000, 1000000])
    parser.add_argument("--models", nargs="+", default=list(MODELS))
    parser.add_argument("--steps", type=int, default=4, help="timed steps (after one warm-up)")
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--max_rss_gb", type=float, default=20)
    parser.add_argument("--timeout", type=float, default=1800, help="seconds per cell")
    parser.add_argument("--settings", nargs="*", default=[], metavar="KEY=VALUE",
                        help="extra settings of the ELECRec and SASRecPlus cells")
    parser.add_argument("--users", type=int, default=4000)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--data_path", default=str(HERE / "data" / "scale"))
    parser.add_argument("--out", default=str(HERE / "results" / "scale"))
    parser.add_argument("--name", default="scale", help="file names in --out: NAME.md, NAME.json")
    parser.add_argument("--plot", help="default: OUT/NAME.png")
    parser.add_argument("--interactions", type=int, nargs="+",
                        help="log sizes: the pipeline against the number of interactions")
    parser.add_argument("--eval_batches", type=int, default=20,
                        help="validation batches timed (--interactions)")
    parser.add_argument("--full", nargs="*", choices=FULL,
                        help="run these whole instead of estimating them; alone: both "
                             "(--interactions)")
    parser.add_argument("--cell", help=argparse.SUPPRESS)
    args = parser.parse_args()
    args.full = list(FULL) if args.full == [] else args.full or []  # [] when given alone
    if args.cell:
        return cell_main(json.loads(args.cell))
    if args.interactions:
        if min(args.interactions) < 1000:
            raise SystemExit(f"--interactions: at least 1000, got {min(args.interactions)}")
        return interactions_main(args)

    settings = parse_settings(args.settings)
    cells = []
    for size in args.sizes:
        name = make_dataset(args.data_path, size, args.users, args.seed)
        for model in args.models:
            cell = {"items": size, "model": model, "dataset": name, "data_path": args.data_path,
                    "steps": args.steps, "threads": args.threads, "max_rss_gb": args.max_rss_gb,
                    "settings": settings}
            result = spawn_cell(cell, args.timeout)
            cells.append({"items": size, "model": model, **result})
            print(f"{size} items, {model}: {result}", file=sys.stderr, flush=True)

    packages = sorted({c["package"] for c in cells if "package" in c})
    header = (f"{args.users} users, batches of 256, {args.steps} timed steps after a warm-up, "
              f"{args.threads} thread(s), CPU; settings {settings or 'none'}; "
              f"package {', '.join(packages) or '?'}")
    markdown = f"{header}\n\n{table(cells)}\n"
    print(markdown)
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    (out / f"{args.name}.md").write_text(markdown)
    summary = {"users": args.users, "steps": args.steps, "threads": args.threads,
               "max_rss_gb": args.max_rss_gb, "settings": settings, "packages": packages,
               "cells": [{k: round(v, 6) if isinstance(v, float) else v for k, v in c.items()}
                         for c in cells]}
    (out / f"{args.name}.json").write_text(json.dumps(summary, indent=1) + "\n")
    plot(cells, args.plot or out / f"{args.name}.png", args.max_rss_gb,
         ("items", "catalog size (items)"), ("s_per_step", "seconds per training step"),
         "Training step (batch of 256 users) against catalog size, CPU")
    print(json.dumps(summary))


if __name__ == "__main__":
    main()
