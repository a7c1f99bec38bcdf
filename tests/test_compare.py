"""python -m recbole_elecrec.compare: per-user metrics of two checkpoints and a paired test."""

import math
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from recbole_elecrec.compare import paired_test
from conftest import TINY, last_json, run_cli


def compare(cwd, *args):
    return subprocess.run([sys.executable, "-m", "recbole_elecrec.compare", *map(str, args)],
                          capture_output=True, text=True, cwd=cwd)


def test_two_models_per_user_means_are_their_reported_metrics(elecrec_run, sasrec_run):
    (cwd_a, out_a, _), (cwd_b, out_b) = elecrec_run, sasrec_run
    result = last_json(compare(cwd_a, cwd_a / out_a["checkpoint"], cwd_b / out_b["checkpoint"]))
    assert (result["a"]["model"], result["b"]["model"], result["split"]) == (
        "ELECRec", "SASRec", "test")
    assert set(result["metrics"]) == set(out_a["test"])
    for name, r in result["metrics"].items():
        # RecBole reports metrics rounded to 4 places
        assert r["a"] == pytest.approx(out_a["test"][name], abs=5e-5)
        assert r["b"] == pytest.approx(out_b["test"][name], abs=5e-5)
        assert r["diff"] == pytest.approx(r["a"] - r["b"])
        assert r["ci95"][0] <= r["diff"] <= r["ci95"][1] and 0 <= r["p"] <= 1


def test_a_model_against_itself_differs_by_nothing(elecrec_run):
    cwd, out, _ = elecrec_run
    checkpoint = cwd / out["checkpoint"]
    result = last_json(compare(cwd, checkpoint, checkpoint, "--split", "valid", "--resamples", 50))
    for name, r in result["metrics"].items():
        assert r["a"] == pytest.approx(out["best_valid"][name], abs=5e-5)
        assert r["diff"] == 0 and r["ci95"] == [0, 0] and r["p"] == 1


def test_users_are_matched_by_id_not_by_position(tmp_path, monkeypatch):
    import recbole_elecrec.compare as module

    # the same per-user hits, listed in another user order by each checkpoint
    runs = {"a.pth": (["u1", "u2", "u3"], [1.0, 0.0, 0.0]),
            "b.pth": (["u3", "u1", "u2"], [0.0, 1.0, 0.0])}
    for name in runs:
        (tmp_path / name).touch()

    def fake(model_file, split, history_mask):
        users, hits = runs[Path(model_file).name]
        config = {"dataset": "d", "model": "m", "history_mask": "none"}
        return config, users, {"hit@1": np.array(hits)}, sorted((u, "i") for u in users)

    monkeypatch.setattr(module, "per_user_metrics", fake)
    r = module.compare(tmp_path / "a.pth", tmp_path / "b.pth", resamples=20)["metrics"]["hit@1"]
    assert r["diff"] == 0 and r["ci95"] == [0, 0] and r["p"] == 1


def test_paired_test_figures():
    # differences of +-1 around 0.0196 over 10,000 users: t = 1.96, the 5% two-sided level
    n, shift = 10_000, 0.0196
    a = np.where(np.arange(n) % 2 == 0, 1.0, -1.0) + shift
    r = paired_test(a, np.zeros(n), resamples=500)
    se = math.sqrt(n / (n - 1)) / math.sqrt(n)
    assert r["diff"] == pytest.approx(shift) and r["p"] == pytest.approx(0.05, abs=1e-3)
    # the bootstrap interval is about the normal one: diff +- 1.96 standard errors
    assert r["ci95"][0] == pytest.approx(shift - 1.96 * se, abs=0.3 * se)
    assert r["ci95"][1] == pytest.approx(shift + 1.96 * se, abs=0.3 * se)


def test_other_users_or_missing_files_are_refused(elecrec_run, data_path, tmp_path):
    cwd, out, _ = elecrec_run
    other = last_json(run_cli(tmp_path, "--model=SASRec", "--dataset=tiny_big",
                              f"--data_path={data_path}", *TINY))
    for args, words in [((cwd / out["checkpoint"], tmp_path / other["checkpoint"]),
                         ["not evaluated on the same test users"]),
                        ((cwd / out["checkpoint"], tmp_path / "missing.pth"),
                         ["checkpoint not found"])]:
        result = compare(cwd, *args)
        errors = [line for line in result.stderr.splitlines() if line.startswith("error:")]
        assert result.returncode == 2 and len(errors) == 1 and result.stdout == ""
        assert all(word in errors[0] for word in words)


def test_history_mask_evaluates_both_under_that_protocol(elecrec_run):
    from conftest import full_result

    cwd, out, _ = elecrec_run
    checkpoint = cwd / out["checkpoint"]
    result = last_json(compare(cwd, checkpoint, checkpoint, "--history_mask", "exclude",
                               "--resamples", 50))
    assert result["history_mask"] == {"a": "exclude", "b": "exclude"}
    expected = full_result(cwd, out)["test_by_protocol"]["exclude"]
    for name, r in result["metrics"].items():
        assert r["a"] == pytest.approx(expected[name], abs=5e-5)


def fake_evaluations(monkeypatch, tmp_path, tested):
    """Checkpoints a.pth and b.pth, evaluated on the same users and ``tested[name]`` items."""
    import recbole_elecrec.compare as module

    for name in tested:
        (tmp_path / name).touch()

    def fake(model_file, split, history_mask):
        items = tested[Path(model_file).name]
        users = [f"u{k}" for k in range(len(items))]
        config = {"dataset": "tiny", "model": "m", "history_mask": "none"}
        return config, users, {"hit@1": np.ones(len(items))}, sorted(zip(users, items))

    monkeypatch.setattr(module, "per_user_metrics", fake)
    return module


def test_the_same_users_tested_on_other_items_are_refused(tmp_path, monkeypatch):
    """Files of one dataset name that differ, or a model of another type splitting the data
    otherwise: the same users, other held-out items; no paired test."""
    module = fake_evaluations(monkeypatch, tmp_path, {"a.pth": ["i1", "i2", "i3"],
                                                      "b.pth": ["i1", "i2", "i9"]})
    with pytest.raises(ValueError, match=r"not evaluated on the same test users and test items "
                                         r"\(2 of 6 \(user, item\) pairs are one model's only\)"):
        module.compare(tmp_path / "a.pth", tmp_path / "b.pth", resamples=20)


@pytest.mark.parametrize("resamples", ["0", "-3"])
def test_resamples_below_one_is_one_error_line(tmp_path, monkeypatch, capsys, resamples):
    module = fake_evaluations(monkeypatch, tmp_path, {"a.pth": ["i1"], "b.pth": ["i1"]})
    code = module.main([str(tmp_path / "a.pth"), str(tmp_path / "b.pth"), "--resamples",
                        resamples])
    output = capsys.readouterr()
    assert code == 2 and output.out == ""
    assert output.err == f"error: --resamples must be at least 1, got {resamples}\n"


def test_models_of_same_named_data_from_other_files_are_refused(elecrec_run, tmp_path):
    from conftest import write_elecrec_file
    from recbole_elecrec.data.prepare import prepare

    cwd, out, _ = elecrec_run
    write_elecrec_file(tmp_path / "tiny.txt", seed=7)  # the same users and items, other rows
    prepare("tiny", source=tmp_path / "tiny.txt", data_path=tmp_path)
    other = last_json(run_cli(tmp_path, "--model=SASRec", "--dataset=tiny",
                              f"--data_path={tmp_path}", *TINY))
    result = compare(cwd, cwd / out["checkpoint"], tmp_path / other["checkpoint"])
    errors = [line for line in result.stderr.splitlines() if line.startswith("error:")]
    assert result.returncode == 2 and len(errors) == 1 and result.stdout == "", result.stderr
    assert "not evaluated on the same test users and test items" in errors[0]
