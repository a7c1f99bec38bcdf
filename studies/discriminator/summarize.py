"""The discriminator study's table: for each setting (a benchmark label), its validation and test
figures, the probe's AUC on the test users, the discriminator's loss, and paired tests against
the control on the same seed.

    python studies/discriminator/summarize.py RESULTS_DIR [--control SASRec+]

RESULTS_DIR is a benchmark output folder (``run_benchmark.py ... --out RESULTS_DIR``). The probe
(``python -m recbole_elecrec.probe CKPT --split test``) and the paired tests
(``python -m recbole_elecrec.compare``, under the ``reference`` and ``exclude`` protocols) of
each finished cell are kept in RESULTS_DIR/study.json, so a rerun only adds the new cells'.
Writes RESULTS_DIR/study.md and RESULTS_DIR/dis_loss.png.
"""

import argparse
import json
import statistics
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

from recbole_elecrec.compare import compare  # noqa: E402
from recbole_elecrec.probe import probe  # noqa: E402

PROTOCOLS = ("reference", "exclude")
METRICS = ("hit@10", "ndcg@10")


def finished_cells(folder):
    cells = [json.loads(path.read_text()) for path in sorted((folder / "cells").glob("*.json"))]
    return [cell for cell in cells if cell.get("status") == "ok"]


def checkpoint(cell, folder):
    path = Path(cell["checkpoint"])
    return path if path.is_absolute() else folder / path


def cell_key(cell):
    return f"{cell['dataset']}|{cell['label']}|{cell['seed']}"


def measure(cells, folder, control, cache):
    """Probe each ELECRec cell and pair it with the control's cell of the same dataset and seed
    (results kept in ``cache``)."""
    controls = {(c["dataset"], c["seed"]): c for c in cells if c["label"] == control}
    for cell in cells:
        key = cell_key(cell)
        if cell["model"] != "ELECRec" or key in cache:
            continue
        figures = probe(checkpoint(cell, folder), split="test")["negatives"]["generator"]
        entry = {"auc": figures["auc"], "paired": {}}
        partner = controls.get((cell["dataset"], cell["seed"]))
        for protocol in PROTOCOLS if partner else ():
            paired = compare(checkpoint(cell, folder), checkpoint(partner, folder),
                             history_mask=protocol)["metrics"]
            entry["paired"][protocol] = {m: {"diff": paired[m]["diff"], "p": paired[m]["p"]}
                                         for m in METRICS}
        cache[key] = entry
        print(f"{key}: AUC {entry['auc']:.3f}", flush=True)


def mean(values):
    values = [v for v in values if v is not None]
    return f"{statistics.mean(values):.4f}" if values else ""


def table(cells, cache, control):
    """Markdown rows: one per dataset and label, means over seeds, and per-seed paired tests."""
    head = ["dataset", "setting", "seeds", "best epoch", "valid ndcg@20",
            *[f"{p} {m}" for p in PROTOCOLS for m in METRICS], "AUC (test)",
            "dis_loss (best epoch)", f"ndcg@10 - {control} (reference), p per seed"]
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    groups = {}
    for cell in cells:
        groups.setdefault((cell["dataset"], cell["label"]), []).append(cell)
    for (dataset, label), group in groups.items():
        group.sort(key=lambda c: c["seed"])
        studied = [cache.get(cell_key(c)) for c in group]
        best = [next((h for h in c["history"] if h["epoch"] == c["best_epoch"]), {}) for c in group]
        paired = [f"{s['paired']['reference']['ndcg@10']['diff']:+.4f} "
                  f"(p {s['paired']['reference']['ndcg@10']['p']:.3f})"
                  for s in studied if s and s["paired"]]
        row = [dataset, label, str(len(group)), ", ".join(str(c["best_epoch"]) for c in group),
               mean(c["best_valid"]["ndcg@20"] for c in group),
               *[mean(c["test_by_protocol"][p][m] for c in group) for p in PROTOCOLS
                 for m in METRICS],
               mean(s and s["auc"] for s in studied) if any(studied) else "",
               mean(h.get("dis_loss") for h in best) if any("dis_loss" in h for h in best) else "",
               "; ".join(paired)]
        lines.append("| " + " | ".join(row) + " |")
    return lines


def plot_dis_loss(cells, path):
    """The discriminator's training loss per epoch, one line per ELECRec setting (lowest seed)."""
    figure, axis = plt.subplots(figsize=(8, 5))
    shown = set()
    for cell in sorted(cells, key=lambda c: c["seed"]):
        key = (cell["dataset"], cell["label"])
        if cell["model"] != "ELECRec" or key in shown:
            continue
        shown.add(key)
        epochs = [h["epoch"] for h in cell["history"] if "dis_loss" in h]
        losses = [h["dis_loss"] for h in cell["history"] if "dis_loss" in h]
        axis.plot(epochs, losses, label=f"{cell['label']} (seed {cell['seed']})")
    axis.axhline(0.6931, color="grey", linestyle="--", linewidth=0.8, label="ln 2")
    axis.set(xlabel="epoch", ylabel="discriminator BCE (before its weight)",
             title="Discriminator training loss")
    axis.legend(fontsize=7)
    figure.tight_layout()
    figure.savefig(path, dpi=120)
    plt.close(figure)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("results", type=Path, help="a benchmark output folder")
    parser.add_argument("--control", default="SASRec+", help="label of the control model")
    args = parser.parse_args()
    cache_file = args.results / "study.json"
    cache = json.loads(cache_file.read_text()) if cache_file.exists() else {}
    cells = finished_cells(args.results)
    measure(cells, args.results, args.control, cache)
    cache_file.write_text(json.dumps(cache, indent=1, sort_keys=True) + "\n")
    (args.results / "study.md").write_text("\n".join(table(cells, cache, args.control)) + "\n")
    plot_dis_loss(cells, args.results / "dis_loss.png")
    print((args.results / "study.md").read_text())


if __name__ == "__main__":
    main()
