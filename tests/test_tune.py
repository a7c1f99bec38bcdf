"""run_hyper.py --tool=Ray: trials in parallel under ASHA, the best chosen on validation, tested
once."""

import csv
import json
import subprocess
import sys

import pytest

from conftest import REPO

RAY_SEARCH = ["--tool=Ray", "--model=ELECRec", "--dataset=ml-100k", "--algo=exhaustive",
              "--cpus_per_trial=1", "--epochs=2", "--show_progress=False", "--gpu_id="]


@pytest.mark.slow
def test_a_two_trial_ray_search_selects_on_validation(tmp_path):
    pytest.importorskip("ray.tune")
    (tmp_path / "space.hyper").write_text("sample_ratio choice [0.3,0.6]\n")
    done = subprocess.run([sys.executable, str(REPO / "run_hyper.py"), *RAY_SEARCH,
                           "--params_file=space.hyper", "--output_dir=search",
                           "--grace_period=2"],  # ASHA stops no trial of two validations
                          capture_output=True, text=True, cwd=tmp_path)
    assert done.returncode == 0, done.stderr[-3000:]
    summary = json.loads(done.stdout.strip().splitlines()[-1])

    with open(tmp_path / "search" / "trials.csv", newline="") as table:
        trials = list(csv.DictReader(table))
    assert sorted(float(t["sample_ratio"]) for t in trials) == [0.3, 0.6]  # the grid, once each
    assert all(t["state"] == "finished" and t["epochs"] == "2" for t in trials)
    top = max(float(t["best_valid_score"]) for t in trials)
    best = [t for t in trials if t["checkpoint"] == summary["checkpoint"]]
    assert len(best) == 1 and float(best[0]["best_valid_score"]) == pytest.approx(top)
    assert summary["best_settings"] == {"sample_ratio": float(best[0]["sample_ratio"])}
    assert summary["best_valid_score"] == pytest.approx(top)
    assert set(summary["test"]) == {f"{m}@{k}" for m in ("hit", "ndcg") for k in (5, 10, 20)}

    # the trials trained and validated; none of them evaluated on the test split
    logs = list((tmp_path / "search" / "trials").glob("*/log/ELECRec/*.log"))
    assert len(logs) == 2
    for log in logs:
        text = log.read_text()
        assert "valid result" in text and "test result" not in text


def test_a_missing_ray_is_one_error_line(tmp_path, monkeypatch, capsys):
    from recbole_elecrec.hyper import main

    (tmp_path / "space.hyper").write_text("sample_ratio choice [0.3,0.6]\n")
    monkeypatch.chdir(tmp_path)
    monkeypatch.setitem(sys.modules, "ray", None)  # as where it is not installed
    code = main([*RAY_SEARCH, "--params_file=space.hyper"])
    err = capsys.readouterr().err
    assert code == 2
    assert err.startswith("error:") and len(err.strip().splitlines()) == 1, err
    assert 'pip install -e ".[ray]"' in err
    assert list(tmp_path.iterdir()) == [tmp_path / "space.hyper"]  # nothing written


def ray_main(capsys, cwd, monkeypatch, *args):
    """run_hyper.py --tool=Ray in this process, in ``cwd``: (exit status, stdout, error lines)."""
    from recbole_elecrec.hyper import main

    monkeypatch.chdir(cwd)
    code = main([*RAY_SEARCH, "--params_file=space.hyper", *args])
    output = capsys.readouterr()
    return code, output.out, [l for l in output.err.splitlines() if l.startswith("error:")]


def test_a_trials_csv_the_search_did_not_write_is_kept(tmp_path, capsys, monkeypatch):
    pytest.importorskip("ray.tune")
    from recbole_elecrec.tune import is_trial_table

    (tmp_path / "space.hyper").write_text("sample_ratio choice [0.3,0.6]\n")
    (tmp_path / "search").mkdir()
    mine = tmp_path / "search" / "trials.csv"
    mine.write_text("my,own,table\n1,2,3\n")
    code, stdout, errors = ray_main(capsys, tmp_path, monkeypatch, "--output_dir=search")
    assert code == 2 and stdout == "" and len(errors) == 1, errors
    assert "output_dir: search/trials.csv exists and is not a trial table" in errors[0]
    assert mine.read_text() == "my,own,table\n1,2,3\n"
    assert [p.name for p in (tmp_path / "search").iterdir()] == ["trials.csv"]
    mine.write_text("trial,state,sample_ratio,best_valid_score,epochs,checkpoint\n")
    assert is_trial_table(mine)  # the search's own table it replaces


def test_a_trial_asking_more_than_ray_has_is_refused():
    from types import SimpleNamespace

    from recbole_elecrec.tune import check_resources

    ray = SimpleNamespace(cluster_resources=lambda: {"CPU": 2.0})
    check_resources(ray, 2, 0)
    with pytest.raises(ValueError, match=r"--cpus_per_trial=8 is more than Ray has \(2 CPUs\)"):
        check_resources(ray, 8, 0)
    with pytest.raises(ValueError, match=r"--gpus_per_trial=1 is more than Ray has \(0 GPUs\)"):
        check_resources(ray, 1, 1)


@pytest.mark.slow
def test_a_search_asking_more_cpus_than_the_machine_has_is_refused(tmp_path, capsys,
                                                                     monkeypatch):
    pytest.importorskip("ray.tune")
    import os

    (tmp_path / "space.hyper").write_text("sample_ratio choice [0.3,0.6]\n")
    code, stdout, errors = ray_main(capsys, tmp_path, monkeypatch, "--output_dir=search",
                                    f"--cpus_per_trial={os.cpu_count() + 1}")
    assert code == 2 and stdout == "" and len(errors) == 1, errors
    assert f"--cpus_per_trial={os.cpu_count() + 1} is more than Ray has" in errors[0]
    assert not (tmp_path / "search").exists()
