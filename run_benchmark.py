"""Run a YAML benchmark of models x datasets x seeds; see recbole_elecrec/benchmark.py.

    python run_benchmark.py benchmarks/smoke.yaml [--out results/smoke]
"""

import argparse
import signal
import sys

from recbole_elecrec.benchmark import run_benchmark, stop_cells


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("spec", help="benchmark YAML file")
    parser.add_argument("--out", help="output folder (default: results/<spec name>/)")
    parser.add_argument("--jobs", type=int, default=1,
                        help="cells run at once (default 1; each gets cores / jobs threads)")
    parser.add_argument("--summaries_only", action="store_true",
                        help="run nothing; rewrite the tables and plots from the finished cells")
    args = parser.parse_args()
    for signum in (signal.SIGTERM, signal.SIGINT):
        signal.signal(signum, stop_cells)
    try:
        records = run_benchmark(args.spec, args.out, args.summaries_only, args.jobs)
    except (ValueError, FileNotFoundError) as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    failed = sum(r["status"] != "ok" for r in records)
    print(f"{len(records) - failed} cells ok, {failed} failed")
    return 0


if __name__ == "__main__":
    sys.exit(main())
