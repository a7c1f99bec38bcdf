"""Hyperparameter search with RecBole's HyperTuning (hyperopt) over ELECRec or any RecBole model.

    python -m recbole_elecrec.hyper --dataset=Beauty --params_file=hyper/ELECRec.hyper
    python -m recbole_elecrec.hyper --model=SASRec --params_file=my.hyper --algo=bayes

A params file has one line per setting, as in RecBole: `name choice [a,b,c]`,
`name uniform low,high`, `name loguniform low,high` or `name quniform low,high,q`; its values are
read as Python literals (RecBole's own parser eval()s them). Settings that stay fixed go in
--config_files or pass through as --key=value.
"""

import argparse
import ast
import logging
import sys
from functools import partial
from pathlib import Path

from recbole.trainer import HyperTuning

from recbole_elecrec.cli import quiet_recbole_warnings
from recbole_elecrec.quick_start import run


BOUNDS = {"uniform": 2, "loguniform": 2, "quniform": 3}  # numbers after the name: low,high[,q]


class LiteralHyperTuning(HyperTuning):
    """RecBole's HyperTuning, reading its params file with ``read_space``."""

    @staticmethod
    def _build_space_from_file(file):
        return read_space(file)


def read_space(file):
    """The hyperopt search space of a params file in RecBole's format, or one clear error."""
    from hyperopt import hp

    try:
        lines = Path(file).read_text(encoding="utf-8").splitlines()
    except OSError as error:
        raise ValueError(f"params_file: cannot read {file} ({error.strerror})") from None
    except UnicodeDecodeError:
        raise ValueError(f"params_file: {file} is not UTF-8 text") from None
    space = {}
    for number, line in enumerate(lines, start=1):
        parts = line.strip().split(" ")
        if len(parts) < 3:  # RecBole skips these too
            continue
        name, kind, value = parts[0], parts[1], "".join(parts[2:])
        where = f"params_file: {file}, line {number}"
        if kind == "choice":
            try:
                options = ast.literal_eval(value)
            except (ValueError, TypeError, SyntaxError, MemoryError, RecursionError):
                options = None
            if not isinstance(options, list) or not options:
                raise ValueError(f"{where}: choice needs a list of Python literals, such as "
                                 f"[0.1,0.2] or ['a','b'], got {value}")
            space[name] = hp.choice(name, options)
        elif kind in BOUNDS:
            try:
                bounds = [float(bound) for bound in value.split(",")]
            except ValueError:
                bounds = []
            if len(bounds) != BOUNDS[kind]:
                raise ValueError(f"{where}: {kind} needs {BOUNDS[kind]} numbers separated by "
                                 f"commas, got {value}")
            space[name] = getattr(hp, kind)(name, *bounds)
        else:
            raise ValueError(f"{where}: unknown type '{kind}' (choice, uniform, loguniform or "
                             "quniform)")
    return space


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
    tuner = LiteralHyperTuning(
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
