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
(``training_state`` under ``OUT/states/``). A finished cell of other settings (the file
changed) is refused. A failing cell is recorded with its error and the others go on (the
command then exits with status 1). A cell runs in a process that ends with its runner, and is
held while it runs: a second runner on the same folder leaves it alone. From the cells come
``results.csv``, ``results.md`` (with the paired tests of the first model against the others,
kept in ``OUT/pairs/``) and PNG plots; files of those names that this command did not write are
refused.

Here: the command. ``spec`` reads a benchmark file into cells, ``runner`` runs them and
``report`` writes the summaries.
"""

import argparse
import signal
from pathlib import Path

from recbole_elecrec.errors import command


@command
def main(argv=None):
    """The command line: run a benchmark file, then print how many cells finished; exit
    status 1 when a cell it ran failed (the tables are written all the same)."""
    parser = argparse.ArgumentParser(prog="python -m recbole_elecrec.benchmark",
                                     description="Run a YAML benchmark: models x datasets x seeds.")
    parser.add_argument("spec", help="benchmark YAML file")
    parser.add_argument("--out", help="output folder (default: results/<spec name>/)")
    parser.add_argument("--jobs", type=int, default=1,
                        help="cells run at once (default 1; each gets cores / jobs threads)")
    parser.add_argument("--summaries_only", action="store_true",
                        help="run nothing; rewrite the tables and plots from the finished cells")
    args = parser.parse_args(argv)
    # imported here: reading a benchmark file (``spec``) needs neither torch nor RecBole
    from recbole_elecrec.benchmark.runner import run_benchmark, stop_cells

    for signum in (signal.SIGTERM, signal.SIGINT):
        signal.signal(signum, stop_cells)
    records = run_benchmark(args.spec, args.out, args.summaries_only, args.jobs)
    counts = {status: sum(r["status"] == status for r in records)
              for status in ("ok", "failed", "running")}
    out = Path(args.out or Path("results") / Path(args.spec).stem)  # as run_benchmark places it
    elsewhere = f", {counts['running']} run by another process" if counts["running"] else ""
    print(f"{counts['ok']} cells ok, {counts['failed']} failed{elsewhere}: tables in "
          f"{out / 'results.md'}")
    return 1 if counts["failed"] and not args.summaries_only else 0
