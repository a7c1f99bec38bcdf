"""run_hyper.py: a 2-trial search with RecBole's HyperTuning on the toy dataset, and params
files read as literals only."""

import subprocess
import sys

import pytest

from conftest import GPU_ID, REPO, small_settings

TOY = ["--data_path=" + str(REPO / "benchmarks" / "data"),
       "--load_col={'inter': ['user_id', 'item_id', 'timestamp']}", "--epochs=1",
       "--show_progress=False", f"--gpu_id={GPU_ID}"]


@pytest.mark.slow
def test_two_trial_search(tmp_path):
    space = tmp_path / "space.hyper"
    space.write_text("sample_ratio choice [0.3,0.6]\n")
    result = subprocess.run(
        [sys.executable, str(REPO / "run_hyper.py"), "--model=ELECRec", "--dataset=toy",
         f"--params_file={space}", "--output_file=out.result", *TOY],
        capture_output=True, text=True, cwd=tmp_path,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    blocks = (tmp_path / "out.result").read_text().strip().split("\n\n")
    assert sorted(b.splitlines()[0] for b in blocks) == ["sample_ratio:0.3", "sample_ratio:0.6"]
    for block in blocks:
        assert "Valid result:" in block and "Test result:" in block and "ndcg@20" in block
    best = [l for l in result.stdout.splitlines() if l.startswith("best params:")]
    assert best and ("0.3" in best[0] or "0.6" in best[0])


def run_hyper(cwd, space, *args):
    return subprocess.run(
        [sys.executable, str(REPO / "run_hyper.py"), "--model=ELECRec", "--dataset=toy",
         f"--params_file={space}", *args, *TOY],
        capture_output=True, text=True, cwd=cwd,
    )


def test_params_file_values_run_no_code(tmp_path):
    space = tmp_path / "space.hyper"
    space.write_text("sample_ratio choice [0.3,0.6]\n"
                     "dis_loss_weight choice [__import__('os').system('touch marker')]\n")
    result = run_hyper(tmp_path, space)
    errors = [line for line in result.stderr.splitlines() if line.startswith("error:")]
    assert result.returncode == 2 and len(errors) == 1, result.stderr[-3000:]
    assert "line 2: choice needs a list of Python literals" in errors[0]
    assert not (tmp_path / "marker").exists()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["space.hyper"]


def test_params_file_format(tmp_path):
    from hyperopt.pyll.stochastic import sample

    from recbole_elecrec.hyper import read_space

    space = tmp_path / "space.hyper"
    space.write_text("a choice [1, 'x y', [64, 32], None]\nb uniform 0.1, 0.2\n"
                     "# a comment\nc  loguniform -3,-1\nd quniform 1,9,2\n\n")
    drawn = sample(read_space(space))
    assert drawn["a"] in (1, "x y", (64, 32), None) and 0.1 <= drawn["b"] <= 0.2
    assert 0.04 <= drawn["c"] <= 0.37 and drawn["d"] in (0, 2, 4, 6, 8, 10)
    for line, words in [("a choice 0.3", "choice needs a list"), ("a uniform 1", "2 numbers"),
                        ("a quniform 1,2,x", "3 numbers"), ("a normal 0,1", "unknown type"),
                        ("a choice", "expected 'NAME TYPE VALUES'"),
                        ("not_a setting", "expected 'NAME TYPE VALUES'"),
                        ("epoch choice [1]", "did you mean 'epochs'"),
                        ("", "names no setting to search")]:
        space.write_text(line + "\n")
        with pytest.raises(ValueError, match=words):
            read_space(space)


def test_a_setting_given_as_text_runs_no_code(data_path, workdir):
    from recbole_elecrec.config import Config

    # as a params file's choice ['...'] reaches a trial: a string in the config dict
    code = "__import__('os').system('touch marker')"
    config = Config("ELECRec", "tiny", config_dict=small_settings(data_path, note=code,
                                                                    topk="[5, 20]"))
    assert config["note"] == code and config["topk"] == [5, 20]
    assert not (workdir / "marker").exists()


def hyper_main(capsys, cwd, monkeypatch, *args):
    """run_hyper.py in this process, in ``cwd``: (exit status, stdout, the error lines)."""
    from recbole_elecrec.hyper import main

    monkeypatch.chdir(cwd)
    code = main(["--model=ELECRec", "--dataset=toy", *args, *TOY])
    output = capsys.readouterr()
    return code, output.out, [l for l in output.err.splitlines() if l.startswith("error:")]


def test_an_output_file_the_search_did_not_write_is_kept(tmp_path, capsys, monkeypatch):
    from types import SimpleNamespace

    from recbole_elecrec.hyper import LiteralHyperTuning, is_search_result

    (tmp_path / "space.hyper").write_text("sample_ratio choice [0.3,0.6]\n")
    mine = tmp_path / "notes.txt"
    mine.write_text("my notes\n")
    (tmp_path / "link.result").symlink_to(mine)
    for name in ("notes.txt", "link.result"):
        code, stdout, errors = hyper_main(capsys, tmp_path, monkeypatch,
                                          "--params_file=space.hyper", f"--output_file={name}")
        assert code == 2 and stdout == "" and len(errors) == 1, errors
        assert f"output_file: {name} exists and is not a search result" in errors[0]
    assert mine.read_text() == "my notes\n"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["link.result", "notes.txt", "space.hyper"]

    # a search's own result, as RecBole writes it, may be replaced
    own = tmp_path / "own.result"
    LiteralHyperTuning.export_result(SimpleNamespace(params2result={"sample_ratio:0.3": {
        "best_valid_result": {"ndcg@20": 0.1}, "test_result": {"ndcg@20": 0.1}}}), own)
    assert is_search_result(own) and not is_search_result(mine)


@pytest.mark.parametrize("tool", ["hyperopt", "Ray"])
def test_exhaustive_search_of_a_range_is_refused(tmp_path, capsys, monkeypatch, tool):
    (tmp_path / "space.hyper").write_text("sample_ratio choice [0.3,0.6]\n"
                                          "learning_rate uniform 0.001,0.01\n")
    code, stdout, errors = hyper_main(capsys, tmp_path, monkeypatch, "--params_file=space.hyper",
                                      "--algo=exhaustive", f"--tool={tool}")
    assert code == 2 and stdout == "" and len(errors) == 1, errors
    assert "space.hyper, line 2: learning_rate is a uniform range" in errors[0]
    assert "--algo=exhaustive searches choices only" in errors[0]
    assert [p.name for p in tmp_path.iterdir()] == ["space.hyper"]


def test_an_option_is_checked_with_the_values_the_file_searches(tmp_path):
    """gen_hidden_size 32 is refused beside the default dis_hidden_size 64 (model_shared_type
    full needs them equal), not where the file searches dis_hidden_size 32 too."""
    from recbole_elecrec.hyper import check_search

    settings = {"data_path": str(REPO / "benchmarks" / "data")}
    space = tmp_path / "space.hyper"
    space.write_text("model_shared_type choice ['full']\ngen_hidden_size choice [32]\n"
                     "dis_hidden_size choice [32]\n")
    check_search("ELECRec", "toy", space, settings=settings)
    space.write_text("model_shared_type choice ['full']\ngen_hidden_size choice [32]\n")
    with pytest.raises(ValueError, match="line 2: gen_hidden_size 32: model_shared_type 'full' "
                                         "needs gen_hidden_size == dis_hidden_size"):
        check_search("ELECRec", "toy", space, settings=settings)
