"""Hyperparameter search with RecBole's HyperTuning (hyperopt) over ELECRec or any RecBole model."""

import logging
from functools import partial

from recbole.trainer import HyperTuning

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
