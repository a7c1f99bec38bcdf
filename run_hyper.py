"""Hyperparameter search for ELECRec or any RecBole model (RecBole's HyperTuning, hyperopt).

    python run_hyper.py --model=ELECRec --dataset=Beauty --params_file=hyper/ELECRec.hyper
    python run_hyper.py --model=SASRec --dataset=Beauty --params_file=my.hyper --algo=bayes --max_evals=20

A params file has one line per setting, as in RecBole: `name choice [a,b,c]`,
`name uniform low,high`, `name loguniform low,high` or `name quniform low,high,q`. Settings that
stay fixed go in --config_files or pass through as --key=value.
"""

import argparse
import sys

from recbole_elecrec.cli import quiet_recbole_warnings
from recbole_elecrec.hyper import search


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", "-m", default="ELECRec")
    parser.add_argument("--dataset", "-d", default="ml-100k")
    parser.add_argument("--params_file", required=True, help="search space (RecBole's format)")
    parser.add_argument("--config_files", help="fixed YAML config files, separated by spaces")
    parser.add_argument("--algo", default="exhaustive", choices=["exhaustive", "random", "bayes"])
    parser.add_argument("--max_evals", type=int, default=100, help="trials for random / bayes")
    parser.add_argument("--early_stop", type=int, default=10, help="stop after this many trials "
                        "without improvement")
    parser.add_argument("--output_file", help="result file (default: hyper_MODEL_DATASET.result)")
    args, passthrough = parser.parse_known_args()
    sys.argv = [sys.argv[0]] + passthrough  # RecBole's Config reads --key=value from argv
    quiet_recbole_warnings()
    config_files = args.config_files.split() if args.config_files else None
    try:
        tuner = search(args.model, args.dataset, args.params_file, config_files, args.algo,
                       args.max_evals, args.early_stop, args.output_file)
    except (ValueError, KeyError, FileNotFoundError) as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    print(f"best params: {tuner.best_params}")
    print(f"best valid score: {tuner.best_score}")
    print(f"best test result: {tuner.params2result[tuner.params2str(tuner.best_params)]['test_result']}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
