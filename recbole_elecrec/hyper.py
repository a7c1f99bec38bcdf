"""Hyperparameter search with RecBole's HyperTuning (hyperopt) over ELECRec or any RecBole model.

    python -m recbole_elecrec.hyper --dataset=Beauty --params_file=hyper/ELECRec.hyper
    python -m recbole_elecrec.hyper --model=SASRec --params_file=my.hyper --algo=bayes

A params file has one line per setting, as in RecBole: `name choice [a,b,c]`,
`name uniform low,high`, `name loguniform low,high` or `name quniform low,high,q`. Settings that
stay fixed go in --config_files or pass through as --key=value.
"""

import argparse
import logging
import sys
from functools import partial

from recbole.trainer import HyperTuning

from recbole_elecrec.cli import quiet_recbole_warnings
from recbole_elecrec.quick_start import run


def objective_function(model, dataset, config_dict=None, config_file_list=None, saved=True):
    """One trial: train with the searched settings, report what HyperTuning reads."""
    root = logging.getLogger()
    for handler in root.handlers[:]:  # each trial logs to a file of its own
        root.removeHandler(handler)
    result = run(model, dataset, config_file_list, config_dict, saved=saved)
    config = result["config"]
    return {
        "model": result["model"],
        "best_valid_score": result["best_valid"][config["valid_metric"].lower()],
        "valid_score_bigger": config["valid_metric_bigger"],
        "best_valid_result": result["best_valid"],
        "test_result": result["test"],
    }


def search(model, dataset, params_file, config_file_list=None, algo="exhaustive", max_evals=100,
           early_stop=10, output_file=None):
    """Run the search; writes RecBole's result file and returns the HyperTuning object."""
    tuner = HyperTuning(
        partial(objective_function, model, dataset),
        params_file=params_file,
        fixed_config_file_list=config_file_list,
        algo=algo,
        max_evals=max_evals,
        early_stop=early_stop,
    )
    tuner.run()
    tuner.export_result(output_file=output_file or f"hyper_{model}_{dataset}.result")
    return tuner


def main(argv=None):
    """The command line: search, then print the best settings and their results."""
    parser = argparse.ArgumentParser(prog="python -m recbole_elecrec.hyper", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--model", "-m", default="ELECRec")
    parser.add_argument("--dataset", "-d", default="ml-100k")
    parser.add_argument("--params_file", required=True, help="search space (RecBole's format)")
    parser.add_argument("--config_files", help="fixed YAML config files, separated by spaces")
    parser.add_argument("--algo", default="exhaustive", choices=["exhaustive", "random", "bayes"])
    parser.add_argument("--max_evals", type=int, default=100, help="trials for random / bayes")
    parser.add_argument("--early_stop", type=int, default=10, help="stop after this many trials "
                        "without improvement")
    parser.add_argument("--output_file", help="result file (default: hyper_MODEL_DATASET.result)")
    args, passthrough = parser.parse_known_args(argv)
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
    best = tuner.params2result[tuner.params2str(tuner.best_params)]
    print(f"best test result: {best['test_result']}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
