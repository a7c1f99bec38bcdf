"""Paired comparison of two trained models on the same users: is a difference more than noise?

    python -m recbole_elecrec.compare A.pth B.pth [--split test] [--resamples 2000]

Each checkpoint is evaluated with its own saved config (as ``load_data_and_model`` restores it);
RecBole's top-k metrics are kept per user, and for every metric both means, the mean difference
A - B, a paired-bootstrap 95% interval of it and the two-sided p-value of a paired t-test
(scipy's) are printed, then one JSON
line of the same figures. It speaks to the test set's sampling noise, not to seed-to-seed noise.
"""

import argparse
import inspect
import json
import sys
from pathlib import Path

import numpy as np
from recbole.evaluator.base_metric import TopkMetric
from scipy import stats

from recbole_elecrec.errors import command
from recbole_elecrec.protocols import HISTORY_MASKS
from recbole_elecrec.quick_start import load_data_and_model
from recbole_elecrec.trainer import evaluation_trainer


class PerUserEvaluator:
    """RecBole's Evaluator that also keeps every top-k metric per user (``per_user``)."""

    def __init__(self, evaluator):
        self.evaluator = evaluator
        self.per_user = {}

    def evaluate(self, dataobject):
        for name, metric in self.evaluator.metric_class.items():
            if not isinstance(metric, TopkMetric):
                continue
            pos_index, pos_len = metric.used_info(dataobject)
            takes_len = len(inspect.signature(metric.metric_info).parameters) == 2
            values = metric.metric_info(pos_index, pos_len) if takes_len else metric.metric_info(pos_index)
            for k in metric.topk:
                self.per_user[f"{name}@{k}"] = values[:, k - 1].astype(float)
        return self.evaluator.evaluate(dataobject)


def per_user_metrics(model_file, split="test", history_mask=None):
    """Evaluate ``model_file`` on ``split`` under ``history_mask`` (default: its saved one);
    returns (config, user tokens, {metric: per-user array}, the (user, item) tokens of the
    split's held-out interactions, sorted)."""
    config, model, dataset, _, valid_data, test_data = load_data_and_model(model_file)
    if history_mask:
        config["history_mask"] = history_mask
    loader = test_data if split == "test" else valid_data
    trainer = evaluation_trainer(config, model)
    trainer.evaluator = PerUserEvaluator(trainer.evaluator)
    trainer.evaluate(loader, load_best_model=False)
    # each batch's users in the order the evaluation stacked their rows (the loader's fixed
    # order), and the items each is tested on
    uid, iid = config["USER_ID_FIELD"], config["ITEM_ID_FIELD"]
    users, held_out = [], []
    for interaction, _, positive_u, positive_i in loader:
        batch = interaction[uid].cpu().numpy()
        users.append(batch)
        held_out.append((batch[positive_u.cpu().numpy()], positive_i.cpu().numpy()))
    tested = sorted(zip(dataset.id2token(uid, np.concatenate([u for u, _ in held_out])),
                        dataset.id2token(iid, np.concatenate([i for _, i in held_out]))))
    return (config, dataset.id2token(uid, np.concatenate(users)), trainer.evaluator.per_user,
            tested)


# user indices drawn at once by the bootstrap (their memory: 8 bytes each)
BOOTSTRAP_DRAWS = 2 ** 22


def paired_test(a, b, resamples=2000, seed=0):
    """Mean of a and b, their mean difference, its 95% paired-bootstrap interval and the two-sided
    p-value of a paired t-test."""
    a, b = np.asarray(a, dtype=float), np.asarray(b, dtype=float)
    diff = a - b
    n, mean = len(diff), diff.mean()
    if n < 2 or np.all(diff == mean):  # no spread: the test has nothing to weigh
        p_value = 1.0 if mean == 0 else 0.0
    else:
        p_value = float(stats.ttest_rel(a, b).pvalue)
    rng = np.random.default_rng(seed)
    rows = max(1, BOOTSTRAP_DRAWS // n)  # resamples drawn at once
    boot = np.concatenate([diff[rng.integers(0, n, (min(rows, resamples - start), n))].mean(1)
                           for start in range(0, resamples, rows)])
    low, high = np.percentile(boot, [2.5, 97.5])
    return {"a": float(a.mean()), "b": float(b.mean()), "diff": float(mean),
            "ci95": [float(low), float(high)], "p": p_value}


def compare(file_a, file_b, split="test", resamples=2000, history_mask=None):
    """Per-metric paired comparison of two checkpoints evaluated on the same users and the same
    held-out items (data files of one name may differ, and models of other types split the data
    otherwise: anything else is refused), both under ``history_mask`` (default: each its saved
    one)."""
    if resamples < 1:
        raise ValueError(f"--resamples must be at least 1, got {resamples}")
    for path in (file_a, file_b):
        if not Path(path).is_file():
            raise FileNotFoundError(f"checkpoint not found: {path}")
    config_a, users_a, metrics_a, tested_a = per_user_metrics(file_a, split, history_mask)
    config_b, users_b, metrics_b, tested_b = per_user_metrics(file_b, split, history_mask)
    if sorted(users_a) != sorted(users_b) or tested_a != tested_b:
        differ = len(set(tested_a) ^ set(tested_b))
        raise ValueError(f"{file_a} ({config_a['dataset']}) and {file_b} ({config_b['dataset']}) "
                         f"were not evaluated on the same {split} users and {split} items "
                         f"({differ} of {len(tested_a) + len(tested_b)} (user, item) pairs are "
                         "one model's only): a paired test needs both")
    order = {user: i for i, user in enumerate(users_b)}
    align = np.array([order[user] for user in users_a])
    shared = [m for m in metrics_a if m in metrics_b]
    return {
        "a": {"model": config_a["model"], "checkpoint": str(file_a)},
        "b": {"model": config_b["model"], "checkpoint": str(file_b)},
        "dataset": config_a["dataset"], "split": split, "users": len(users_a),
        "history_mask": {"a": config_a["history_mask"], "b": config_b["history_mask"]},
        "metrics": {m: paired_test(metrics_a[m], metrics_b[m][align], resamples) for m in shared},
    }


@command
def main(argv=None):
    parser = argparse.ArgumentParser(prog="python -m recbole_elecrec.compare",
                                     description=__doc__.splitlines()[0])
    parser.add_argument("checkpoints", nargs="*", metavar="A B",
                        help="checkpoints A and B (.pth, as run_recbole.py saves them)")
    parser.add_argument("--split", choices=["test", "valid"], default="test")
    parser.add_argument("--resamples", type=int, default=2000, help="bootstrap resamples")
    parser.add_argument("--history_mask", choices=HISTORY_MASKS,
                        help="evaluate both under this protocol (default: each its saved one)")
    args = parser.parse_args(argv)
    if len(args.checkpoints) != 2:  # a pattern such as saved/ELECRec-*.pth matched several
        raise ValueError(
            f"compare takes two checkpoints, A and B; got {len(args.checkpoints)}"
            f"{': ' + ' '.join(args.checkpoints) if args.checkpoints else ''} (name one "
            "file each; the newest of a pattern: $(ls -t saved/ELECRec-*.pth | head -1))")
    result = compare(*args.checkpoints, args.split, args.resamples, args.history_mask)
    masks = result["history_mask"]
    print(f"{result['dataset']}, {result['split']}, {result['users']} users, history_mask "
          f"{masks['a'] if masks['a'] == masks['b'] else masks['a'] + ' / ' + masks['b']}: "
          f"A = {result['a']['model']}, B = {result['b']['model']}")
    print(f"{'metric':<10}{'A':>9}{'B':>9}{'A - B':>10}{'95% interval':>22}{'p':>9}")
    for name, r in result["metrics"].items():
        interval = f"[{r['ci95'][0]:+.4f}, {r['ci95'][1]:+.4f}]"
        p_value = "< 0.001" if r["p"] < 0.001 else f"{r['p']:.3f}"
        print(f"{name:<10}{r['a']:>9.4f}{r['b']:>9.4f}{r['diff']:>+10.4f}{interval:>22}"
              f"{p_value:>9}")
    print(json.dumps(result))
    return 0


if __name__ == "__main__":
    sys.exit(main())
