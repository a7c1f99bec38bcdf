"""Run settings that fail only once data, model or training exist: each ends in one error line
naming the setting, or works."""

import json
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest
import scipy.sparse
import torch

import recbole
from conftest import REPO, TINY, make_model

RUN = [arg for arg in TINY if not arg.startswith("--epochs")]


def run_main(main, args, capsys):
    """``main(args)``'s status, stdout and its one ``error:`` line (None without one)."""
    code = main(args)
    out, err = capsys.readouterr()
    assert "Traceback" not in err, err[-3000:]
    errors = [line for line in err.splitlines() if line.startswith("error:")]
    assert len(errors) <= 1, err[-3000:]
    return code, out, errors[0] if errors else None


def tiny_run(data_path, *args):
    return [*RUN, f"--data_path={data_path}", "--dataset=tiny", *args]


def test_gauc_is_written_as_the_number_it_is(data_path, workdir, capsys):
    from recbole_elecrec.cli import main

    code, out, error = run_main(main, tiny_run(data_path, "--epochs=1", "--valid_metric=GAUC",
                                               "--metrics=['Hit', 'NDCG', 'GAUC']"), capsys)
    assert code == 0 and error is None
    summary = json.loads(out.splitlines()[-1])
    gauc = summary["test"]["gauc"]
    assert isinstance(gauc, float) and gauc == round(gauc, 4)  # 0.5583, not 0.55830001831...
    result = json.loads(Path(summary["result_file"]).read_text())
    assert result["test"]["gauc"] == gauc and isinstance(result["best_valid"]["gauc"], float)


@pytest.mark.parametrize("args", [["--sampling_method=inverse_cdf"],
                                  ["--sampling_method=multinomial"],
                                  ["--model=SASRecPlus"]])
def test_a_diverging_run_names_learning_rate(data_path, workdir, capsys, args):
    from recbole_elecrec.cli import main

    code, out, error = run_main(main, tiny_run(data_path, "--epochs=2", "--learning_rate=1e30",
                                               *args), capsys)
    assert code == 2 and out == ""
    assert error.startswith("error: training diverged:") and "lower learning_rate" in error


def test_the_sampler_refuses_scores_that_are_not_finite():
    from recbole_elecrec.model.sampler import GeneratorSampler

    sampler = GeneratorSampler(0.5, 1.0, 1.0, "inverse_cdf")
    probs = torch.full((3, 8), float("nan"))
    items, lost = sampler.sample_items(probs.clone())
    assert lost.all() and (items == 0).all()  # placeholders, nothing read out of range
    with pytest.raises(ValueError, match="training diverged: the generator's next-item scores"):
        sampler.resample(items, lost, None, lambda rows: probs[rows].clone())


def test_recommend_refuses_a_model_that_reads_the_user(data_path, workdir, capsys):
    from recbole_elecrec.cli import main
    from recbole_elecrec.recommend import main as recommend

    code, out, _ = run_main(main, tiny_run(data_path, "--epochs=1", "--model=FPMC"), capsys)
    assert code == 0
    checkpoint = json.loads(out.splitlines()[-1])["checkpoint"]
    code, out, error = run_main(recommend, [f"--checkpoint={checkpoint}", "--items=1 2"], capsys)
    assert code == 2 and out == ""
    assert "FPMC scores a sequence with its user's embedding (it reads user_id)" in error


def test_ctrl_c_while_the_command_loads_ends_in_one_line(data_path, tmp_path):
    """The first seconds import torch and RecBole; a Ctrl-C then (or, on a fast machine, in the
    training that follows) ends the same way."""
    process = subprocess.Popen(
        [sys.executable, str(REPO / "run_recbole.py"), *tiny_run(data_path, "--epochs=100")],
        cwd=tmp_path, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        # as from a terminal: a suite started in the background runs with SIGINT ignored, and
        # a child inherits that
        preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL))
    time.sleep(0.7)
    process.send_signal(signal.SIGINT)
    out, err = process.communicate(timeout=120)
    assert process.returncode == 130, err[-3000:]
    assert "Traceback" not in err and err.strip().splitlines()[-1].startswith("interrupted")


def test_run_script_turns_an_interrupted_import_into_the_one_line(monkeypatch, capsys):
    from recbole_elecrec import errors

    def interrupted(name):
        raise KeyboardInterrupt

    monkeypatch.setattr(errors.importlib, "import_module", interrupted)
    assert errors.run_script("recbole_elecrec.cli") == 130
    assert capsys.readouterr().err.startswith("interrupted")


@pytest.mark.parametrize("message, words", [
    ("[enforce fail at alloc_cpu.cpp:127] err == 0. DefaultCPUAllocator: can't allocate memory: "
     "you tried to allocate 244000000000 bytes. Error code 12", "227.2 GiB asked for"),
    ("CUDA out of memory. Tried to allocate 20.00 GiB (GPU 0; 79.2 GiB total capacity)",
     "20.00 GiB asked for"),
])
def test_a_failed_allocation_is_one_line_naming_the_sizes(capsys, message, words):
    from recbole_elecrec.errors import command

    @command
    def main(argv=None):
        raise RuntimeError(message)

    assert main() == 2
    err = capsys.readouterr().err
    assert err.startswith(f"error: out of memory ({words})") and "hidden sizes" in err
    assert len(err.splitlines()) == 1


def test_other_runtime_errors_keep_their_traceback():
    from recbole_elecrec.errors import command

    @command
    def main(argv=None):
        raise RuntimeError("a bug")

    with pytest.raises(RuntimeError, match="a bug"):
        main()


def test_graph_models_are_refused_where_scipy_lacks_what_recbole_calls():
    from recbole_elecrec.rules import DOK_UPDATE_MODELS, check_runnable

    # the list is the RecBole models whose source calls dok_matrix._update
    calling = {path.stem for path in (Path(recbole.__file__).parent / "model").rglob("*.py")
               if "._update(" in path.read_text(encoding="utf-8")}
    assert {name.lower() for name in DOK_UPDATE_MODELS} == calling
    if hasattr(scipy.sparse.dok_matrix, "_update"):
        check_runnable("LightGCN")
    else:
        with pytest.raises(ValueError, match=r"LightGCN cannot run with scipy .*_update"):
            check_runnable("LightGCN")
    check_runnable("BPR")


def test_a_json_number_of_numpy_is_its_shortest_decimal():
    from recbole_elecrec.cli import json_value

    assert json.dumps([np.float32(0.5583), np.int64(3)], default=json_value) == "[0.5583, 3]"


def training_losses(data_path, dropout, bucket_rows=(1, 64)):
    """SASRec+'s training loss on one batch per ``length_bucket_rows``, from the same weights
    and random state."""
    settings = {f"gen_{kind}_dropout_prob": dropout for kind in ("hidden", "attn")}
    _, (train, _, _), model = make_model(data_path, model="SASRecPlus", **settings)
    batch = next(iter(train))
    losses = []
    for rows in bucket_rows:
        model.length_bucket_rows = rows
        torch.manual_seed(0)
        losses.append(model.calculate_loss(batch).item())
    return losses


def test_length_buckets_change_results_only_through_dropout(data_path, workdir):
    """As properties/model/SASRecPlus.yaml says: the same loss without dropout; with it, each
    chunk draws its own masks."""
    one, all_rows = training_losses(data_path, 0.0)
    assert one == pytest.approx(all_rows, rel=1e-6)
    one, all_rows = training_losses(data_path, 0.5)
    assert one != pytest.approx(all_rows, rel=1e-6)
