"""A benchmark's summaries from its cells' records: results.csv, results.md (tables per dataset,
per protocol, against published numbers, the paired tests of the first model against the others)
and PNG plots."""

import statistics

import pandas as pd

from recbole_elecrec.files import atomic_path, check_replaceable, first_line, write_text_atomic
from recbole_elecrec.protocols import HISTORY_MASKS

TITLE = "# Results (test split)"  # results.md's first line
CSV_HEADER = "dataset,model,seed,status,"  # how results.csv's first line starts


def summary_files(datasets):
    """{name: whether a file of that name is one write_summaries wrote}, for ``datasets``."""
    own = {"results.csv": lambda path: (first_line(path) or "").startswith(CSV_HEADER),
           "results.md": lambda path: first_line(path) == TITLE}
    for dataset in datasets:
        for kind in ("metrics", "curves"):
            own[f"{kind}_{dataset}.png"] = is_plot
    return own


def is_plot(path):
    """Whether ``path`` is a PNG that matplotlib wrote (it names itself in the file's text)."""
    try:
        with open(path, "rb") as file:
            head = file.read(4096)
    except OSError:
        return False
    return head.startswith(b"\x89PNG\r\n\x1a\n") and b"Matplotlib" in head


def check_summaries(out, datasets):
    """Refuse an output folder holding files of the summaries' names that write_summaries did
    not write (the user's own results.csv): they would be replaced."""
    for name, is_own in summary_files(datasets).items():
        check_replaceable(out / name, "--out", is_own, "a summary this command wrote")


def escaped(text):
    """``text`` as a Markdown table cell: a ``|`` in it (a label's) would start another column."""
    return str(text).replace("|", "\\|")


def _metric_names(records):
    ok = [r for r in records if r["status"] == "ok"]
    return list(ok[0]["test"]) if ok else []


def selection(record):
    """(metric, score): the cell's model-selection metric and its best validation value."""
    metric = (record.get("config") or {}).get("valid_metric", "").lower()
    best = record.get("best_valid", {})
    return (metric, best[metric]) if metric in best else ("", "")


def budget(record):
    """(epochs, stopping_step): the training budget the cell ran under."""
    given = {**record.get("settings", {}), **(record.get("config") or {})}
    return given.get("epochs"), given.get("stopping_step")


def write_summaries(records, out, published=None, note=None, pairs=()):
    """results.csv (one row per cell), results.md and the plots; ``pairs``: the paired tests
    (``runner.paired_tests``), their p-values Holm-corrected here."""
    metrics = _metric_names(records)
    pairs = holm_corrected(pairs, metrics)
    by_cell = {(p["dataset"], p["b"], p["seed"]): p for p in pairs}
    rows = []
    for r in records:
        ok = r["status"] == "ok"
        protocols, check = r.get("test_by_protocol") or {}, r.get("history_check") or {}
        pair = by_cell.get((r["dataset"], r["label"], r["seed"]), {})
        tested = pair.get("metrics", {})
        max_epochs, stopping_step = budget(r)
        valid_metric, best_valid = selection(r)
        rows.append({
            "dataset": r["dataset"], "model": r["label"], "seed": r["seed"], "status": r["status"],
            **{m: r["test"][m] if ok else "" for m in metrics},
            "best_epoch": r.get("best_epoch", ""), "epochs": r.get("epochs", ""),
            "capped": capped(r) if ok else "", "max_epochs": max_epochs,
            "stopping_step": stopping_step,
            "seconds_per_epoch": r.get("seconds_per_epoch", ""),
            "peak_rss_mb": r.get("peak_rss_mb", ""), "peak_gpu_mb": r.get("peak_gpu_mb") or "",
            "valid_metric": valid_metric, "best_valid": best_valid, "error": r.get("error", ""),
            "history_mask": (r.get("config") or {}).get("history_mask", ""),
            **{f"{p}:{m}": protocols.get(p, {}).get(m, "") for p in HISTORY_MASKS
               for m in metrics},
            "history_first_share": check.get("history_first_share", ""),
            "negative_score_share": check.get("negative_score_share", ""),
            "paired_with": pair.get("a", ""), "paired_users": pair.get("users", ""),
            "paired_note": pair.get("error") or ", ".join(
                f"checkpoint not found: {path}" for path in pair.get("missing", ())),
            **{f"paired_{key}:{m}": tested[m][key] if m in tested else ""
               for m in metrics for key in ("diff", "p", "p_holm")},
        })
    write_text_atomic(out / "results.csv", pd.DataFrame(rows).to_csv(index=False))
    write_text_atomic(out / "results.md",
                      markdown_table(records, metrics, published or {}, note, pairs))
    plot(records, metrics, out)


def holm(p_values):
    """Holm's step-down adjustment of ``p_values`` (one family), in their order."""
    order = sorted(range(len(p_values)), key=p_values.__getitem__)
    adjusted, running = [0.0] * len(p_values), 0.0
    for rank, i in enumerate(order):
        running = max(running, min(1.0, (len(p_values) - rank) * p_values[i]))
        adjusted[i] = running
    return adjusted


def holm_corrected(pairs, metrics):
    """``pairs`` with ``p_holm`` beside each metric's ``p``: Holm over the comparisons of one
    dataset and metric (every other model and seed against the first model)."""
    pairs = [{**p, "metrics": {m: dict(v) for m, v in p.get("metrics", {}).items()}}
             for p in pairs]
    for dataset in dict.fromkeys(p["dataset"] for p in pairs):
        for m in metrics:
            family = [p["metrics"][m] for p in pairs
                      if p["dataset"] == dataset and m in p["metrics"]]
            for tested, adjusted in zip(family, holm([t["p"] for t in family])):
                tested["p_holm"] = adjusted
    return pairs


def interval(values):
    """The 95% t-interval of the mean of ``values`` (seeds), or None for fewer than 2."""
    if len(values) < 2:
        return None
    from scipy import stats

    half = stats.t.ppf(0.975, len(values) - 1) * statistics.stdev(values) / len(values) ** 0.5
    mean = statistics.mean(values)
    return mean - half, mean + half


def metric_cell(values):
    """A table cell: the mean over seeds and, for several, its 95% interval."""
    if not values:
        return "failed"
    low_high = interval(values)
    mean = f"{statistics.mean(values):.4f}"
    return f"{mean} [{low_high[0]:.4f}, {low_high[1]:.4f}]" if low_high else mean


def capped(record):
    """Whether the cell's best epoch is its last: stopped by ``epochs``, maybe not converged."""
    return record.get("best_epoch") is not None and record["best_epoch"] == record["epochs"] - 1


def markdown_table(records, metrics, published, note=None, pairs=()):
    """Test metrics as the mean over n seeds with its 95% t-interval (when several), best per
    column in bold, the mean best validation score that selected the models, ELECRec's gain, the
    published numbers beside this run's, the paired tests (``pairs``, Holm-corrected), the cells
    whose best epoch was their last and the models trained under other budgets; the benchmark
    file's ``note`` (such as what the numbers are not) first."""
    lines = [TITLE, ""] + ([f"> {note.strip()}", ""] if note else [])
    lines += ["Test metrics: mean over the n seeds that finished, [95% t-interval] for n > 1.", ""]
    for dataset in dict.fromkeys(r["dataset"] for r in records):
        rows = [r for r in records if r["dataset"] == dataset]
        labels = list(dict.fromkeys(r["label"] for r in rows))
        means, cells = {}, {}
        for label in labels:
            ok = [r for r in rows if r["label"] == label and r["status"] == "ok"]
            for m in metrics:
                values = [r["test"][m] for r in ok]
                means[label, m] = statistics.mean(values) if values else None
                cells[label, m] = metric_cell(values)
        valid = next((metric for metric, _ in map(selection, rows) if metric), "")
        extra = [f"valid {valid}"] if valid else []
        lines += [f"## {dataset}", "",
                  "| " + " | ".join(["model", "n", *metrics, *extra, "epochs", "s/epoch"]) + " |",
                  "|---" * (len(metrics) + len(extra) + 4) + "|"]
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
            epochs = f"{statistics.mean(r['epochs'] for r in ok):.0f}" if ok else "-"
            speed = f"{statistics.mean(r['seconds_per_epoch'] for r in ok):.3g}" if ok else "-"
            # joined as cells: with no metrics (every cell failed) no empty column appears
            lines.append("| " + " | ".join([escaped(label), str(len(ok)), *row, epochs, speed])
                         + " |")
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
        here = [p for p in pairs if p["dataset"] == dataset]
        lines += paired_table(here, metrics)
        failed = [r for r in rows if r["status"] != "ok"]
        last = [r for r in rows if r["status"] == "ok" and capped(r)]
        notes = [f"- failed: {r['label']} seed {r['seed']}: {r['error']}" for r in failed]
        notes += [f"- best epoch is the last ({r['epochs']} epochs, capped, maybe not "
                  f"converged): {r['label']} seed {r['seed']}" for r in last]
        notes += budget_notes([r for r in rows if r["status"] == "ok"])
        notes += [f"- no paired test of {p['b']} seed {p['seed']}: {p['error']}"
                  for p in here if "error" in p]
        notes += missing_note([p for p in here if "missing" in p])
        lines += [""] + notes if notes else []  # a list, not the table's last row
        lines.append("")
    return "\n".join(lines)


def budget_notes(rows):
    """One line naming each budget (epochs, stopping_step) and its cells where the cells of a
    dataset ran under more than one: their figures compare training lengths as well."""
    cells = {}
    for r in rows:
        cells.setdefault(budget(r), {}).setdefault(r["label"], []).append(str(r["seed"]))
    if len(cells) < 2:
        return []
    return ["- unequal budgets: " + "; ".join(
        f"epochs {epochs}, stopping_step {patience}: " + ", ".join(
            f"{label} (seed {', '.join(seeds)})" for label, seeds in labels.items())
        for (epochs, patience), labels in cells.items())]


def missing_note(pairs):
    """One line for the paired tests whose checkpoints are not found, with the first of them."""
    if not pairs:
        return []
    seeds = {}
    for p in pairs:
        seeds.setdefault(p["b"], []).append(str(p["seed"]))
    return [f"- no paired test, checkpoint not found (such as {pairs[0]['missing'][0]}): "
            + "; ".join(f"{label} seed {', '.join(s)}" for label, s in seeds.items())]


def p_text(p):
    return "< 0.001" if p < 0.001 else f"{p:.3f}"


def paired_table(pairs, metrics):
    """The paired per-user tests that ran, one row per model and seed: A - B, the Holm p."""
    tested = [p for p in pairs if "metrics" in p and p["metrics"]]
    if not tested:
        return []
    first = tested[0]["a"]
    frame = pd.DataFrame([{
        "model (B)": escaped(p["b"]), "seed": p["seed"], "users": p["users"],
        **{m: f"{p['metrics'][m]['diff']:+.4f} (p {p_text(p['metrics'][m]['p_holm'])})"
           for m in metrics if m in p["metrics"]}} for p in tested])
    return ["", f"Paired per-user test on the test split, {escaped(first)} (A) against each "
            "model (B) of the same seed: the mean difference A - B over the users and the "
            "two-sided paired t-test's p, Holm-corrected over this dataset's "
            f"{len(tested)} comparisons per metric (`python -m recbole_elecrec.compare`):", "",
            frame.to_markdown(index=False)]


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
            lines.append(f"| {escaped(label)} | to re-score |" + " |" * (len(metrics) + 1))
            continue
        first = statistics.mean(r["history_check"]["history_first_share"] for r in scored)
        for p in HISTORY_MASKS:
            values = [f"{statistics.mean(r['test_by_protocol'][p][m] for r in scored):.4f}"
                      for m in metrics]
            own = p == scored[0]["config"]["history_mask"]
            lines.append(f"| {escaped(label)} | {p}{' (configured)' if own else ''} | "
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
        lines.append(f"| {escaped(label)}: published | "
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
        lines.append(f"| {escaped(label)}: this run | " + " | ".join(row) + " |")
    return lines


def plot(records, metrics, out):
    """Per dataset, one colour per model: ``metrics_<dataset>.png``, the test metrics (each
    seed a dot, the mean a bar with its 95% t-interval), and ``curves_<dataset>.png``, the
    validation curves (each seed a thin line, the mean over seeds a line in a band of one
    standard deviation, each seed's test figure a star at its best epoch) and, for ELECRec
    models, the discriminator's loss the same way (ln 2: it cannot tell replaced items)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from matplotlib.ticker import MaxNLocator

    ok = [r for r in records if r["status"] == "ok"]
    for dataset in dict.fromkeys(r["dataset"] for r in ok):
        rows = [r for r in ok if r["dataset"] == dataset]
        runs = {label: [r for r in rows if r["label"] == label]
                for label in dict.fromkeys(r["label"] for r in rows)}
        colours = dict(zip(runs, plt.get_cmap("tab10").colors * len(runs)))
        fig, ax = plt.subplots(figsize=(1.2 * len(metrics) * len(runs) / 2 + 3, 4))
        width = 0.8 / len(runs)
        for i, (label, cells) in enumerate(runs.items()):
            x = [j + i * width for j in range(len(metrics))]
            values = [[r["test"][m] for r in cells] for m in metrics]
            means = [statistics.mean(v) for v in values]
            half = [mean - interval(v)[0] if len(v) > 1 else 0.0
                    for mean, v in zip(means, values)]
            ax.bar(x, means, width, color=colours[label], alpha=0.6, label=label,
                   yerr=half if any(half) else None, capsize=3)
            for xj, v in zip(x, values):
                ax.plot([xj] * len(v), v, "o", color=colours[label], markeredgecolor="black",
                        markersize=3)
        ax.set_xticks([j + 0.4 - width / 2 for j in range(len(metrics))], metrics)
        ax.set_title(f"{dataset}: test metrics (bars: mean over seeds with 95% interval, "
                     "dots: seeds)", fontsize=9)
        ax.legend(fontsize=7)
        fig.tight_layout()
        save_plot(fig, out / f"metrics_{dataset}.png")
        plt.close(fig)

        valid_metric = rows[0]["config"]["valid_metric"].lower()
        elecrec = {label: cells for label, cells in runs.items()
                   if cells[0]["model"] == "ELECRec"}
        fig, axes = plt.subplots(1, 1 + bool(elecrec), figsize=(7 * (1 + bool(elecrec)), 4.5),
                                 squeeze=False)
        ax = axes[0][0]
        for label, cells in runs.items():
            seed_curves(ax, cells, lambda h: h.get("valid", {}).get(valid_metric),
                        colours[label], label)
            for r in cells:
                if valid_metric in r["test"] and r.get("best_epoch") is not None:
                    ax.plot(r["best_epoch"], r["test"][valid_metric], "*",
                            color=colours[label], markersize=7)
        ax.set(title=f"{dataset}: validation {valid_metric} (stars: test at the best epoch)",
               xlabel="epoch")
        ax.legend(fontsize=7)
        if elecrec:
            ax = axes[0][1]
            for label, cells in elecrec.items():
                seed_curves(ax, cells, lambda h: h.get("dis_loss"), colours[label], label)
            ax.axhline(0.6931, color="grey", linestyle=":", linewidth=1, label="ln 2")
            ax.set(title=f"{dataset}: ELECRec discriminator loss", xlabel="epoch")
            ax.legend(fontsize=7)
        for ax in axes[0]:
            ax.xaxis.set_major_locator(MaxNLocator(integer=True))
        fig.tight_layout()
        save_plot(fig, out / f"curves_{dataset}.png")
        plt.close(fig)


def seed_curves(ax, cells, value, colour, label):
    """Each cell's curve of ``value(epoch's history)`` thin; with several seeds, their mean over
    the seeds that reached each epoch as a line in a band of one standard deviation."""
    curves = [{h["epoch"]: value(h) for h in r["history"] if value(h) is not None}
              for r in cells]
    for curve in curves:
        ax.plot(list(curve), list(curve.values()), color=colour, linewidth=0.6,
                alpha=0.5 if len(curves) > 1 else 1.0, label=None if len(curves) > 1 else label)
    if len(curves) > 1:
        frame = pd.DataFrame(curves).T.sort_index()
        mean, std = frame.mean(axis=1), frame.std(axis=1).fillna(0.0)
        ax.plot(mean.index, mean, color=colour, linewidth=1.8, label=f"{label} (mean)")
        ax.fill_between(mean.index, mean - std, mean + std, color=colour, alpha=0.2)


def save_plot(fig, path):
    """Write ``fig`` to ``path`` whole or not at all."""
    with atomic_path(path) as partial:
        fig.savefig(partial, dpi=100, format="png")
