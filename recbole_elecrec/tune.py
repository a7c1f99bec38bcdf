"""Hyperparameter search with Ray Tune: trials in parallel, on one machine or a cluster.

Each trial is a run of this package's pipeline that reports its validation score after every
validation epoch, so the ASHA scheduler stops the trials that trail early; the best trial is the
one with the best validation score (``valid_metric``), and only its model is then evaluated on
the test split, once. RecBole's own Ray path reports once per trial, after training, and selects
on the test metric.

    python run_hyper.py --tool=Ray --model=ELECRec --dataset=ml-100k --params_file=hyper/ELECRec.hyper
"""

import csv
import io
import math
import os
import time
from pathlib import Path

from recbole_elecrec.files import first_line, write_text_atomic

# what each trial reports; BEST is the running best, which selects the trial
SCORE, BEST = "valid_score", "best_valid_score"
TRIALS_CSV = "trials.csv"


def import_ray():
    """Ray Tune's modules, or one clear error where they are not installed."""
    try:
        import ray
        from ray import air, tune
        from ray.tune.schedulers import ASHAScheduler
        from ray.tune.search import BasicVariantGenerator
    except ImportError as error:
        raise ValueError(f"--tool=Ray needs Ray Tune ({error}): pip install -e \".[ray]\"") from None
    return ray, air, tune, ASHAScheduler, BasicVariantGenerator


def ray_space(params, tune, grid=False):
    """Ray Tune's search space for ``params`` ({name: (kind, arguments)}, as ``hyper.read_params``
    gives them in RecBole's format): ``loguniform low,high`` bounds the log of the value, as in
    RecBole (hyperopt); with ``grid``, every combination of the choices once (the command
    refuses ranges with it: ``hyper.check_search``)."""
    space = {}
    for name, (kind, arguments) in params.items():
        if kind == "choice":
            space[name] = tune.grid_search(arguments) if grid else tune.choice(arguments)
        elif kind == "uniform":
            space[name] = tune.uniform(*arguments)
        elif kind == "loguniform":
            space[name] = tune.loguniform(*(math.exp(bound) for bound in arguments))
        else:  # quniform
            space[name] = tune.quniform(*arguments)
    return space


def trial(values, model, dataset, config_files, settings):
    """One trial (in a Ray worker, in the trial's own folder): train with the fixed settings
    (``config_files``, then ``settings``) and the searched ``values``, reporting after every
    validation epoch."""
    from ray import tune

    from recbole_elecrec.errors import command_settings
    from recbole_elecrec.quick_start import build

    if hasattr(tune, "get_context"):  # Ray 2.40 and later
        folder, send = tune.get_context().get_trial_dir(), tune.report
    else:  # Ray 2.6
        from ray.air import session
        folder, send = session.get_trial_dir(), session.report
    os.chdir(folder)  # Ray 2.40 and later start trials in a folder of their own session
    # a worker's command line is Ray's: the trial runs as a process of the command
    with command_settings():
        _, trainer, (train_data, valid_data, _) = build(
            model, dataset, config_files, config_dict={**settings, **values})

        def report(epoch_idx, valid_score):
            send({SCORE: valid_score, BEST: trainer.best_valid_score, "epoch": epoch_idx,
                  "checkpoint": os.path.abspath(trainer.saved_model_file)})

        trainer.fit(train_data, valid_data, show_progress=False, callback_fn=report)


def is_trial_table(path):
    """Whether ``path`` holds a table ``TrialTable`` wrote (its header)."""
    line = first_line(path)
    return line is not None and line.startswith("trial,state,")


def check_resources(ray, cpus_per_trial, gpus_per_trial):
    """A trial that asks for more than the machine or cluster has would wait forever: refuse."""
    have = ray.cluster_resources()
    for option, key, wanted in (("cpus_per_trial", "CPU", cpus_per_trial),
                                ("gpus_per_trial", "GPU", gpus_per_trial)):
        if wanted > have.get(key, 0):
            raise ValueError(f"--{option}={wanted:g} is more than Ray has ({have.get(key, 0):g} "
                             f"{key}s): no trial could start")


class TrialTable:
    """A Ray Tune callback that keeps ``path`` a CSV of every trial (its settings, best
    validation score, epochs, state), rewritten whole as each trial reports or ends: an
    interrupted search leaves its finished trials on disk."""

    def __init__(self, path, names, callback_class):
        self.path, self.names, self.rows = Path(path), names, {}
        # a subclass of ray.tune.Callback made here, so that importing this module needs no ray
        self.callback = type("TrialTableCallback", (callback_class,), {
            "on_trial_result": lambda _, iteration, trials, trial, result, **info:
                self.update(trial, result, "running"),
            "on_trial_complete": lambda _, iteration, trials, trial, **info:
                self.update(trial, trial.last_result, "finished"),
            "on_trial_error": lambda _, iteration, trials, trial, **info:
                self.update(trial, trial.last_result, "error"),
        })()

    def update(self, ray_trial, result, state):
        result = result or {}
        row = {"trial": ray_trial.trial_id, "state": state,
               **{name: ray_trial.config.get(name) for name in self.names},
               BEST: result.get(BEST), "epochs": result.get("training_iteration"),
               "checkpoint": result.get("checkpoint")}
        self.rows[ray_trial.trial_id] = row
        text = io.StringIO()
        writer = csv.DictWriter(text, fieldnames=list(row))
        writer.writeheader()
        writer.writerows(self.rows.values())
        write_text_atomic(self.path, text.getvalue())


def search(config, params, trials, out, algo="random", config_files=None, grace_period=1,
           reduction_factor=4, cpus_per_trial=1, gpus_per_trial=0, max_concurrent=None,
           address=None):
    """Run the search; returns the summary: the best trial's settings, validation score, test
    figures and checkpoint, and where the table of every trial is.

    ``config``: the fixed settings as a ``Config`` (its dataset ready); ``params``:
    ``hyper.read_params``'s; ``algo``: ``exhaustive`` (every combination of choices once) or
    ``random`` (``trials`` draws); ``config_files`` absolute (trials run in folders of their own
    under ``out``).
    """
    ray, air, tune, ASHAScheduler, BasicVariantGenerator = import_ray()
    from recbole_elecrec.quick_start import evaluate_checkpoint

    out = Path(out).resolve()
    model, dataset, bigger = config["model"], config["dataset"], config["valid_metric_bigger"]
    # the command line's settings, with the data where the trials' folders can find it
    settings = {**config.variable_config_dict, "data_path": str(Path(config["data_path"]).parent)}
    table = TrialTable(out / TRIALS_CSV, list(params), tune.Callback)
    start = time.time()
    ray.init(address=address, num_cpus=None if address else os.cpu_count(),
             include_dashboard=False, log_to_driver=False, logging_level="WARNING",
             ignore_reinit_error=True)
    try:
        check_resources(ray, cpus_per_trial, gpus_per_trial)
        # ASHA counts reports: one per validation
        scheduler = ASHAScheduler(
            max_t=max(1, config["epochs"] // config["eval_step"]), grace_period=grace_period,
            reduction_factor=reduction_factor)
        tuner = tune.Tuner(
            tune.with_resources(
                tune.with_parameters(trial, model=model, dataset=dataset,
                                     config_files=config_files, settings=settings),
                {"cpu": cpus_per_trial, "gpu": gpus_per_trial}),
            param_space=ray_space(params, tune, grid=algo == "exhaustive"),
            tune_config=tune.TuneConfig(metric=SCORE, mode="max" if bigger else "min",
                                        scheduler=scheduler,
                                        # the draws follow the seed: a search repeats
                                        search_alg=BasicVariantGenerator(
                                            random_state=config["seed"]),
                                        num_samples=1 if algo == "exhaustive" else trials,
                                        max_concurrent_trials=max_concurrent),
            run_config=getattr(tune, "RunConfig", air.RunConfig)(  # tune's from Ray 2.40
                name="trials", storage_path=str(out), verbose=0, callbacks=[table.callback]),
        )
        grid = tuner.fit()
        scored = [result for result in grid if result.metrics and BEST in result.metrics]
        if not scored:
            raise ValueError(f"no trial reported a validation score (see {out / 'trials'})")
        best = (max if bigger else min)(scored, key=lambda result: result.metrics[BEST])
    finally:
        ray.shutdown()
    tested = evaluate_checkpoint(best.metrics["checkpoint"])  # the one look at the test split
    return {
        "model": model, "dataset": dataset,
        "best_settings": {name: best.config[name] for name in params},
        "best_valid_score": best.metrics[BEST],
        "test": tested["test"],
        "checkpoint": best.metrics["checkpoint"],
        "trials": len(scored),
        "trials_csv": str(out / TRIALS_CSV),
        "wall_seconds": round(time.time() - start, 1),
    }
