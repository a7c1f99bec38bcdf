"""studies/history_ranks.py: what the paper's protocol gives a ranking of the history first."""

import importlib.util
import json
import math
import subprocess
import sys

import pytest
import torch

from conftest import REPO, TINY, full_result, last_json, run_cli

SCRIPT = REPO / "studies" / "history_ranks.py"
spec = importlib.util.spec_from_file_location("history_ranks", SCRIPT)
history_ranks_module = importlib.util.module_from_spec(spec)
spec.loader.exec_module(history_ranks_module)
tie_metrics = history_ranks_module.tie_metrics

HEADER = "user_id:token\titem_id:token\ttimestamp:float\n"


def history_ranks(cwd, *args):
    return subprocess.run([sys.executable, str(SCRIPT),
                           *map(str, args)], capture_output=True, text=True, cwd=cwd)


def test_tie_metrics_by_hand():
    # user 1: 1 item above and tied with 2 more (rank 2, 3 or 4); user 2 misses
    figures = tie_metrics(torch.tensor([1, 0]), torch.tensor([2, 0]), torch.tensor([1.0, 0.0]))
    ndcg = [1 / math.log2(rank + 1) for rank in (2, 3, 4)]
    assert figures["first"]["ndcg@5"] == pytest.approx(ndcg[0] / 2)
    assert figures["last"]["ndcg@5"] == pytest.approx(ndcg[2] / 2)
    assert figures["random"]["ndcg@5"] == pytest.approx(sum(ndcg) / 3 / 2)
    assert figures["first"]["hit@5"] == figures["last"]["hit@5"] == 0.5
    # at K=5 every rank is inside; rank 4 of a target tied over 4..8 is partly outside
    tied = tie_metrics(torch.tensor([3]), torch.tensor([4]), torch.tensor([1.0]))
    assert tied["random"]["hit@5"] == pytest.approx(2 / 5)
    assert tied["last"]["hit@5"] == 0.0 and tied["first"]["hit@5"] == 1.0


def test_history_first_figures_of_a_toy_dataset(tmp_path):
    # user 1: 5 2 5 3 -> validation target 5 repeats its history {5, 2}; test target 3 does not
    # user 2: 7 8 9 8 -> validation target 9 is new; test target 8 repeats {7, 8, 9}
    rows = [(1, 5, 0), (1, 2, 1), (1, 5, 2), (1, 3, 3), (2, 7, 0), (2, 8, 1), (2, 9, 2), (2, 8, 3)]
    path = tmp_path / "toy" / "toy.inter"
    path.parent.mkdir()
    path.write_text(HEADER + "".join(f"{u}\t{i}\t{t}\n" for u, i, t in reversed(rows)))
    result = history_ranks(tmp_path, "toy", "--data_path", tmp_path)
    assert result.returncode == 0, result.stderr
    figures = json.loads(result.stdout.strip().splitlines()[-1])["history_first"]
    assert figures["valid"]["repeats"] == 1 and figures["test"]["repeats"] == 1
    valid, test = figures["valid"], figures["test"]
    assert valid["first"]["hit@5"] == test["first"]["hit@5"] == 0.5
    assert valid["last"]["ndcg@5"] == pytest.approx(0.5 / math.log2(3))  # rank 2 of 2
    assert test["random"]["ndcg@5"] == pytest.approx(
        sum(1 / math.log2(r + 1) for r in (1, 2, 3)) / 3 / 2)


def test_missing_data_and_a_checkpoint_of_another_dataset_are_refused(tmp_path, elecrec_run,
                                                                     data_path):
    result = history_ranks(tmp_path, "nowhere", "--data_path", tmp_path)
    assert result.returncode == 2 and "nowhere.inter not found" in result.stderr
    cwd, out, _ = elecrec_run
    result = history_ranks(tmp_path, "tiny_big", "--data_path", data_path,
                           "--checkpoint", cwd / out["checkpoint"])
    assert result.returncode == 2
    assert "was trained on tiny, not tiny_big" in result.stderr


def test_unmasked_figures_are_the_evaluators(elecrec_run, data_path):
    # the run kept RecBole's protocol (nothing masked): its best validation figures are the
    # script's "none" figures of the ranker, computed apart from RecBole's evaluator
    cwd, out, _ = elecrec_run
    result = history_ranks(cwd, "tiny", "--data_path", data_path,
                           "--checkpoint", cwd / out["checkpoint"])
    assert result.returncode == 0, result.stderr
    summary = json.loads(result.stdout.strip().splitlines()[-1])
    unmasked = summary["validation"]["ranker"]["none"]
    for metric, value in full_result(cwd, out)["best_valid"].items():
        assert unmasked[metric] == pytest.approx(value, abs=6e-5), metric
    assert set(summary["validation"]) == {"ranker", "generator"}


def test_masked_figures_bracket_the_trainers(elecrec_run, workdir, monkeypatch):
    # the trainer breaks ties (history items all at -inf or all at 0) in one fixed order, the
    # script gives the expected value over random orders: the trainer's figure must lie between
    # the script's "target last" and "target first" figures of the same protocol
    cwd, out, _ = elecrec_run
    checkpoint = cwd / out["checkpoint"]
    tie_metrics_calls = []

    def recording(*args):
        tie_metrics_calls.append(tie_metrics(*args))
        return tie_metrics_calls[-1]

    monkeypatch.setattr(history_ranks_module, "tie_metrics", recording)
    history_ranks_module.model_protocols(checkpoint, "tiny")
    ranker = dict(zip(("none", "exclude", "reference"), tie_metrics_calls))  # ranker's come first
    for protocol in ("exclude", "reference"):
        trainer = last_json(run_cli(workdir, "--eval_only", f"--checkpoint={checkpoint}",
                                    f"--history_mask={protocol}", *TINY))["best_valid"]
        for metric, value in trainer.items():
            first, last = ranker[protocol]["first"][metric], ranker[protocol]["last"][metric]
            assert last - 6e-5 <= value <= first + 6e-5, (protocol, metric, last, value, first)
        # the brackets are narrow enough to tell masked from unmasked figures
        assert any(not ranker[protocol]["last"][m] <= v <= ranker[protocol]["first"][m]
                   for m, v in ranker["none"]["random"].items()), protocol
