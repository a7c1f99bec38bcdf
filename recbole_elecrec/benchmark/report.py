"""A benchmark's summaries from its cells' records: results.csv, results.md (tables per dataset,
per protocol, against published numbers) and PNG plots."""

import csv
import io
import statistics

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


def markdown_table(records, metrics, published, note=None):
    """Test metrics as the mean over n seeds with its 95% t-interval (when several), best per
    column in bold, the mean best validation score that selected the models, ELECRec's gain, the
    published numbers beside this run's, and the cells whose best epoch was their last; the
    benchmark file's ``note`` (such as what the numbers are not) first."""
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
        failed = [r for r in rows if r["status"] != "ok"]
        last = [r for r in rows if r["status"] == "ok" and capped(r)]
        lines += [""] if failed or last else []  # a list, not the table's last row
        for r in failed:
            lines.append(f"- failed: {r['label']} seed {r['seed']}: {r['error']}")
        for r in last:
            lines.append(f"- best epoch is the last ({r['epochs']} epochs, capped, maybe not "
                         f"converged): {r['label']} seed {r['seed']}")
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
        save_plot(fig, out / f"metrics_{dataset}.png")
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
        save_plot(fig, out / f"curves_{dataset}.png")
        plt.close(fig)



def save_plot(fig, path):
    """Write ``fig`` to ``path`` whole or not at all."""
    with atomic_path(path) as partial:
        fig.savefig(partial, dpi=100, format="png")
