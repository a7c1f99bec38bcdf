"""The package's commands as ``python -m`` modules, each starting with no more than it needs;
and what every command that reads a checkpoint takes from it (settings, token-to-id mapping)."""

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import torch

from conftest import small_settings, write_elecrec_file
from recbole_elecrec.trainer import get_trainer


def imported_modules(importtime_stderr):
    """Top-level names of the modules that ``python -X importtime`` reports."""
    names = set()
    for line in importtime_stderr.splitlines():
        if line.startswith("import time:") and "|" in line:
            names.add(line.rsplit("|", 1)[1].strip().split(".")[0])
    return names


def test_prepare_command_imports_neither_torch_nor_recbole(tmp_path):
    # a data-preparation machine need not have torch
    write_elecrec_file(tmp_path / "small.txt", n_users=5)
    result = subprocess.run(
        [sys.executable, "-X", "importtime", "-m", "recbole_elecrec.data", "prepare", "small",
         "--source", str(tmp_path / "small.txt"), "--data_path", str(tmp_path)],
        capture_output=True, text=True, cwd=tmp_path,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    assert "wrote" in result.stdout and (tmp_path / "small" / "small.inter").is_file()
    modules = imported_modules(result.stderr)
    assert "recbole_elecrec" in modules and not modules & {"torch", "recbole", "numpy", "pandas"}


def test_benchmark_runner_is_a_module(tmp_path):
    result = subprocess.run(
        [sys.executable, "-m", "recbole_elecrec.benchmark", "missing.yaml"],
        capture_output=True, text=True, cwd=tmp_path,
    )
    assert result.returncode == 2 and result.stderr.startswith("error:")
    assert "missing.yaml" in result.stderr


class Interrupted(Exception):
    pass


@pytest.fixture
def own_data_run(data_path, workdir):
    """A tiny ELECRec run on a copy of the data, named by a relative data_path, stopped after the
    first of two epochs: (its best model, its training_state, the data's .inter file)."""
    from recbole_elecrec.quick_start import build

    shutil.copytree(data_path / "tiny", workdir / "data" / "tiny")
    state = workdir / "state.pth"
    settings = small_settings("data", epochs=2, training_state=str(state),
                              history_mask="exclude", seq_alignment="recbole")
    _, trainer, (train, valid, _) = build("ELECRec", "tiny", config_dict=settings)

    def stop(epoch_idx, valid_score):
        raise Interrupted  # as if killed once the state is written

    with pytest.raises(Interrupted):
        trainer.fit(train, valid, callback_fn=stop)
    return Path(trainer.saved_model_file).resolve(), state, workdir / "data" / "tiny" / "tiny.inter"


def test_eval_only_evaluates_with_the_checkpoints_settings(own_data_run, workdir, caplog):
    from recbole_elecrec.quick_start import evaluate_checkpoint, load_data_and_model
    from recbole_elecrec.trainer import TrainerMixin

    best, _, _ = own_data_run
    elsewhere = workdir / "elsewhere"
    elsewhere.mkdir()
    os.chdir(elsewhere)  # the relative data_path it was trained with is saved resolved
    result = evaluate_checkpoint(best)
    assert [path.name for path in elsewhere.iterdir()] == ["log"]  # no saved/, log_tensorboard/
    assert result["config"]["checkpoint_dir"] == load_data_and_model(best)[0]["checkpoint_dir"]
    assert (result["config"]["history_mask"], result["config"]["seq_alignment"]) == (
        "exclude", "recbole")
    # the scores the checkpoint's own settings give, loaded as compare and probe load it
    config, model, _, _, _, test = load_data_and_model(best)
    trainer = get_trainer(config["MODEL_TYPE"], "ELECRec")(config, model)
    assert isinstance(trainer, TrainerMixin)
    assert result["test"] == dict(trainer.evaluate(test, load_best_model=False))

    # an evaluation setting given applies, a model or data setting does not: both are logged
    caplog.clear()
    given = evaluate_checkpoint(best, config_dict={"history_mask": "none", "train_batch_size": 8})
    assert given["config"]["history_mask"] == "none"
    assert given["config"]["train_batch_size"] == 32
    assert given["config"]["seq_alignment"] == "recbole"
    assert given["test"] == result["test_by_protocol"]["none"]
    lines = [r.getMessage() for r in caplog.records if "settings given" in r.getMessage()]
    assert len(lines) == 1
    assert "applied (evaluation settings): history_mask 'none' (the checkpoint's: 'exclude')" \
        in lines[0]
    assert "train_batch_size 8 (the checkpoint's: 32)" in lines[0].split("ignored")[1]


def test_a_reordered_data_file_is_refused_by_every_reader(own_data_run, workdir):
    from recbole_elecrec.quick_start import evaluate_checkpoint, load_data_and_model
    from recbole_elecrec.recommend import Recommender

    best, state, inter = own_data_run
    Recommender.from_checkpoint(best)  # the same data: loads
    header, *rows = inter.read_text().splitlines(keepends=True)
    inter.write_text(header + "".join(reversed(rows)))  # the same interactions, other ids
    message = "item and user ids differ from those the model was trained with"
    for read in (Recommender.from_checkpoint, load_data_and_model, evaluate_checkpoint):
        with pytest.raises(ValueError, match=message):
            read(best)
    before = state.read_bytes()
    with pytest.raises(ValueError, match=f"state.pth: dataset tiny's {message}"):
        build_state_run(state)
    assert state.read_bytes() == before


def build_state_run(state):
    from recbole_elecrec.quick_start import build

    settings = small_settings("data", epochs=2, training_state=str(state),
                              history_mask="exclude", seq_alignment="recbole")
    return build("ELECRec", "tiny", config_dict=settings)


def test_a_checkpoint_without_a_token_fingerprint_loads_with_a_warning(own_data_run, workdir,
                                                                        caplog):
    from recbole_elecrec.quick_start import load_data_and_model

    best, _, _ = own_data_run
    checkpoint = torch.load(best, weights_only=False)
    del checkpoint["token_fingerprint"]  # as saved before fingerprints
    torch.save(checkpoint, workdir / "old.pth")
    load_data_and_model(workdir / "old.pth")
    assert any("old.pth has no token fingerprint" in r.getMessage() for r in caplog.records)


def read_checkpoint_commands(best):
    """compare, probe and recommend of ``best``, as their scripts call them: their exit codes."""
    from recbole_elecrec import compare, probe, recommend

    return [compare.main([str(best), str(best), "--resamples=5"]),
            probe.main([str(best), "--batches=1"]),
            recommend.main([f"--checkpoint={best}", "--items=1 2"])]


def test_commands_reading_a_checkpoint_write_nothing_into_the_working_folder(own_data_run,
                                                                            workdir, capsys):
    best, _, _ = own_data_run
    (workdir / "empty").mkdir()
    os.chdir(workdir / "empty")
    assert read_checkpoint_commands(best) == [0, 0, 0], capsys.readouterr().err
    assert list((workdir / "empty").iterdir()) == []


@pytest.mark.skipif(os.geteuid() == 0, reason="root writes into a read-only folder anyway "
                    "(the test above shows that nothing is written there)")
def test_commands_reading_a_checkpoint_run_in_a_read_only_folder(own_data_run, workdir, capsys):
    best, _, _ = own_data_run
    (workdir / "read_only").mkdir(mode=0o555)
    os.chdir(workdir / "read_only")
    assert read_checkpoint_commands(best) == [0, 0, 0], capsys.readouterr().err
