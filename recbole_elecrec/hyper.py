"""Hyperparameter search over ELECRec or any RecBole model: RecBole's HyperTuning (hyperopt, one
trial at a time), or Ray Tune (--tool=Ray: trials in parallel, ASHA stopping on validation).

    python -m recbole_elecrec.hyper --dataset=Beauty --params_file=hyper/ELECRec.hyper
    python -m recbole_elecrec.hyper --model=SASRec --params_file=my.hyper --algo=bayes
    python -m recbole_elecrec.hyper --tool=Ray --algo=random --max_evals=8 --params_file=my.hyper

A params file has one line per setting, as in RecBole: `name choice [a,b,c]`,
`name uniform low,high`, `name loguniform low,high` or `name quniform low,high,q`; its values are
read as Python literals (RecBole's own parser eval()s them) and may hold spaces. Blank lines and
lines starting with # are skipped; any other line that is not a setting to search is an error.
Settings that stay fixed go in --config_files or pass through as --key=value.
"""

import argparse
import ast
import itertools
import json
import logging
import math
import sys
from functools import partial
from pathlib import Path

from recbole.trainer import HyperTuning

from recbole_elecrec.errors import command, error_message
from recbole_elecrec.config import Config
from recbole_elecrec.rules import check_names
from recbole_elecrec.settings_file import settings_from_args
from recbole_elecrec.files import atomic_path, check_replaceable, check_writable_dir
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

    space = {}
    for name, (kind, values) in read_params(file).items():
        if kind == "choice":
            space[name] = hp.choice(name, values)
        else:
            space[name] = getattr(hp, kind)(name, *values)
    return space


def read_params(file):
    """A params file's settings to search: {name: (type, choice's options or range's numbers)}."""
    return {name: (kind, values) for name, kind, values, _ in params_lines(file)}


def params_lines(file):
    """The settings a params file searches, [(name, type, values, where in the file)], or one
    clear error."""
    try:
        lines = Path(file).read_text(encoding="utf-8").splitlines()
    except OSError as error:
        raise ValueError(f"params_file: cannot read {file} ({error.strerror})") from None
    except UnicodeDecodeError:
        raise ValueError(f"params_file: {file} is not UTF-8 text") from None
    params, first_lines = [], {}
    for number, line in enumerate(lines, start=1):
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        where = f"params_file: {file}, line {number}"
        parts = line.split(None, 2)  # the values may hold spaces: [0.1, 0.2]
        if len(parts) < 3:  # RecBole skips such a line: its setting would not be searched
            raise ValueError(f"{where}: expected 'NAME TYPE VALUES' (such as "
                             f"'learning_rate choice [0.001,0.01]'), got '{line.strip()}'")
        name, kind, value = parts
        if name in first_lines:
            raise ValueError(f"{where}: {name} is searched twice (line {first_lines[name]} too)")
        first_lines[name] = number
        try:
            check_names([name])
        except ValueError as error:
            raise ValueError(f"{where}: {error}") from None
        params.append((name, kind, param_values(kind, value.strip(), where), where))
    if not params:
        raise ValueError(f"params_file: {file} names no setting to search (one a line: "
                         "NAME TYPE VALUES)")
    return params


def param_values(kind, value, where):
    """The options of a choice, or the numbers of a range, of one params file line."""
    if kind == "choice":
        try:
            options = ast.literal_eval(value)
        except (ValueError, TypeError, SyntaxError, MemoryError, RecursionError):
            options = None
        if not isinstance(options, list) or not options:
            raise ValueError(f"{where}: choice needs a list of Python literals, such as "
                             f"[0.1,0.2] or ['a','b'], got {value}")
        return options
    if kind in BOUNDS:
        try:
            bounds = [float(bound) for bound in value.split(",")]
        except ValueError:
            bounds = []
        if len(bounds) != BOUNDS[kind]:
            raise ValueError(f"{where}: {kind} needs {BOUNDS[kind]} numbers separated by "
                             f"commas, got {value}")
        return bounds
    raise ValueError(f"{where}: unknown type '{kind}' (choice, uniform, loguniform or quniform)")


def check_search(model, dataset, params_file, config_file_list=None, settings=None,
                 algo=None):
    """Refuse bad settings before the first trial, whose error would come amid hyperopt's
    output: the fixed settings (``config_file_list``, then ``settings``), and with them each
    option of a choice and each end of a range (loguniform's bounds are logarithms). An option
    refused beside the defaults is refused only if no values of the other searched settings
    make it valid: the defaults it was refused against may be ones the file searches too.
    ``algo`` exhaustive runs every combination of the choices once; a range has none (hyperopt
    would run one random trial of it)."""
    settings = settings or {}
    Config(model, dataset, config_file_list=config_file_list, config_dict=settings)
    lines = params_lines(params_file)
    tried = {name: tried_values(kind, values) for name, kind, values, _ in lines}
    for name, kind, values, where in lines:
        if name in settings:
            raise ValueError(f"{where}: {name} is searched and also fixed as --{name}")
        others = {other: options for other, options in tried.items() if other != name}
        for value in tried[name]:
            error = config_error(model, dataset, config_file_list, {**settings, name: value})
            if error and not any(
                    config_error(model, dataset, config_file_list,
                                 {**settings, **combination, name: value}) is None
                    for combination in combinations(others)):
                raise ValueError(f"{where}: {name} {value}: {error}")
        if algo == "exhaustive" and kind != "choice":
            raise ValueError(f"{where}: {name} is a {kind} range; --algo=exhaustive searches "
                             "choices only (use --algo=random, or a choice)")


def tried_values(kind, values):
    """The values of a params file line that a check tries: a choice's options, a range's ends."""
    ends = values if kind == "choice" else values[:2]
    return [math.exp(end) for end in ends] if kind == "loguniform" else ends


def combinations(options, limit=256):
    """Up to ``limit`` settings ({name: value}) taking one value of each of ``options``."""
    names = list(options)
    for values in itertools.islice(itertools.product(*options.values()), limit):
        yield dict(zip(names, values))


def config_error(model, dataset, config_file_list, settings):
    """The line a Config of these settings is refused with, or None."""
    try:
        Config(model, dataset, config_file_list=config_file_list, config_dict=settings)
    except ValueError as error:
        return error_message(error)
    return None


def is_search_result(path):
    """Whether ``path`` holds a search result as RecBole's export_result writes it (each trial's
    settings, then 'Valid result:')."""
    try:
        with open(path, encoding="utf-8") as file:
            return [file.readline(4096) for _ in range(2)][1] == "Valid result:\n"
    except (OSError, UnicodeDecodeError):
        return False


def objective_function(model, dataset, settings, config_dict, config_file_list=None, saved=True):
    """One trial: train with the fixed ``settings`` and the searched ``config_dict``, report
    what HyperTuning reads."""
    root = logging.getLogger()
    for handler in root.handlers[:]:  # each trial logs to a file of its own
        root.removeHandler(handler)
    result = run(model, dataset, config_file_list, {**settings, **config_dict}, saved=saved)
    config = result["config"]
    return {
        "model": result["model"],
        "best_valid_score": result["best_valid"][config["valid_metric"].lower()],
        "valid_score_bigger": config["valid_metric_bigger"],
        "best_valid_result": result["best_valid"],
        "test_result": result["test"],
    }


def search(model, dataset, params_file, config_file_list=None, algo="exhaustive", max_evals=100,
           early_stop=10, output_file=None, settings=None):
    """Run the search; writes RecBole's result file and returns the HyperTuning object."""
    tuner = LiteralHyperTuning(
        partial(objective_function, model, dataset, settings or {}),
        params_file=params_file,
        fixed_config_file_list=config_file_list,
        algo=algo,
        max_evals=max_evals,
        early_stop=early_stop,
    )
    tuner.run()
    with atomic_path(output_file or f"hyper_{model}_{dataset}.result") as unfinished:
        tuner.export_result(output_file=str(unfinished))
    return tuner


@command
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
    parser.add_argument("--tool", default="hyperopt", choices=["hyperopt", "Ray"])
    ray = parser.add_argument_group("--tool=Ray (exhaustive: the choices' grid; random: "
                                    "--max_evals draws; early_stop does not apply)")
    ray.add_argument("--output_dir", help="trials' folders and trials.csv (default: "
                     "hyper_MODEL_DATASET/)")
    ray.add_argument("--cpus_per_trial", type=float, default=1)
    ray.add_argument("--gpus_per_trial", type=float, default=0)
    ray.add_argument("--max_concurrent", type=int, help="trials at once (default: as the "
                     "resources allow)")
    ray.add_argument("--grace_period", type=int, default=1, help="validations before ASHA may "
                     "stop a trial")
    ray.add_argument("--reduction_factor", type=float, default=4, help="ASHA's")
    ray.add_argument("--address", help="an existing Ray cluster (default: a local one)")
    args, passthrough = parser.parse_known_args(argv)
    settings = settings_from_args(passthrough)
    config_files = args.config_files.split() if args.config_files else None
    if args.tool == "Ray":
        return ray_main(args, config_files, settings)
    output_file = args.output_file or f"hyper_{args.model}_{args.dataset}.result"
    # written after the last trial
    check_replaceable(output_file, "output_file", is_search_result, "a search result")
    check_search(args.model, args.dataset, args.params_file, config_files, settings, args.algo)
    tuner = search(args.model, args.dataset, args.params_file, config_files, args.algo,
                   args.max_evals, args.early_stop, output_file, settings)
    print(f"best params: {tuner.best_params}")
    print(f"best valid score: {tuner.best_score}")
    best = tuner.params2result[tuner.params2str(tuner.best_params)]
    print(f"best test result: {best['test_result']}")
    return 0


def ray_main(args, config_files, settings):
    """--tool=Ray: search with Ray Tune, then print one JSON line (``tune.search``'s summary)."""
    from recbole_elecrec.quick_start import check_dataset
    from recbole_elecrec.tune import TRIALS_CSV, import_ray, is_trial_table, search as ray_search

    output_dir = args.output_dir or f"hyper_{args.model}_{args.dataset}"
    import_ray()
    if args.algo == "bayes":
        raise ValueError("--algo=bayes is hyperopt's: use exhaustive or random with --tool=Ray")
    for name in ("max_evals", "cpus_per_trial", "grace_period", "reduction_factor"):
        if not getattr(args, name) > (1 if name == "reduction_factor" else 0):
            raise ValueError(f"--{name} must be above {1 if name == 'reduction_factor' else 0}")
    check_writable_dir(output_dir, "output_dir")
    check_replaceable(Path(output_dir) / TRIALS_CSV, "output_dir", is_trial_table,
                      "a trial table of this command")
    check_search(args.model, args.dataset, args.params_file, config_files, settings, args.algo)
    config = Config(args.model, args.dataset, config_file_list=config_files,
                    config_dict=settings)
    check_dataset(config)  # prepared once, here, not by every trial
    summary = ray_search(
        config, read_params(args.params_file), args.max_evals, output_dir, args.algo,
        [str(Path(f).resolve()) for f in config_files or []], args.grace_period,
        args.reduction_factor, args.cpus_per_trial, args.gpus_per_trial, args.max_concurrent,
        args.address)
    print(json.dumps(summary))
    return 0


if __name__ == "__main__":
    sys.exit(main())
