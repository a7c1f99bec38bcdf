"""``precision: bf16`` against float32 on Beauty: the bf16 cell's validation curve against the band
the float32 seeds span at each epoch (their seed noise), and its best validation and test figures
against theirs.

    python benchmarks/precision.py [--bf16 benchmarks/results/precision]
        [--float32 benchmarks/results/cpu] [--label ELECRec] [--metric ndcg@20]

Reads the benchmark runner's cell files (``benchmarks/precision.yaml`` and ``benchmarks/cpu.yaml``),
prints a markdown table every 5 epochs and a summary, and draws ``BF16/curves.png``.
"""

import argparse
import json
from pathlib import Path

HERE = Path(__file__).resolve().parent


def cells(folder, label):
    """The finished cells of ``label`` in a runner's output folder, by seed."""
    found = {}
    for path in sorted(Path(folder, "cells").glob("*.json")):
        cell = json.loads(path.read_text())
        if cell["label"] == label and cell["status"] == "ok":
            found[cell["seed"]] = cell
    if not found:
        raise SystemExit(f"{folder}: no finished '{label}' cell")
    return found


def curve(cell, metric):
    return [epoch["valid"][metric] for epoch in cell["history"]]


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--bf16", default=str(HERE / "results" / "precision"))
    parser.add_argument("--float32", default=str(HERE / "results" / "cpu"))
    parser.add_argument("--label", default="ELECRec", help="the float32 cells' label")
    parser.add_argument("--metric", default="ndcg@20")
    args = parser.parse_args()
    low = next(iter(cells(args.bf16, f"{args.label} bf16").values()))
    full = cells(args.float32, args.label)
    ours = curve(low, args.metric)
    theirs = [curve(cell, args.metric) for cell in full.values()]
    epochs = min(len(ours), *map(len, theirs))
    band = [(min(c[e] for c in theirs), max(c[e] for c in theirs)) for e in range(epochs)]
    outside = [max(lo - ours[e], ours[e] - hi, 0) for e, (lo, hi) in enumerate(band)]

    print(f"| epoch | bf16 (seed {low['seed']}) | float32 seeds {sorted(full)}: min | max |")
    print("|---:|---:|---:|---:|")
    for e in range(0, epochs, 5):
        print(f"| {e} | {ours[e]:.4f} | {band[e][0]:.4f} | {band[e][1]:.4f} |")
    inside = sum(distance == 0 for distance in outside)
    print(f"\nvalidation {args.metric}: inside the float32 seeds' band at {inside} of {epochs} "
          f"epochs; farthest outside {max(outside):.4f}")
    for name, cell in [(f"bf16 seed {low['seed']}", low)] + [
            (f"float32 seed {seed}", cell) for seed, cell in sorted(full.items())]:
        print(f"{name}: best epoch {cell['best_epoch']}, best valid {args.metric} "
              f"{cell['best_valid'][args.metric]:.4f}, test ndcg@10 {cell['test']['ndcg@10']:.4f},"
              f" hit@10 {cell['test']['hit@10']:.4f}, {cell['seconds_per_epoch']} s/epoch")
    plot(ours, theirs, full, args, low["seed"])


def plot(ours, theirs, full, args, seed):
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(7, 4))
    for other, values in zip(full, theirs):
        ax.plot(values, color="grey", alpha=0.6, label=f"float32 seed {other}")
    ax.plot(ours, color="C3", label=f"bf16 seed {seed}")
    ax.set(xlabel="epoch", ylabel=f"validation {args.metric}", title="ELECRec on Beauty")
    ax.legend()
    fig.tight_layout()
    fig.savefig(Path(args.bf16) / "curves.png", dpi=120)


if __name__ == "__main__":
    main()
