"""A library call leaves the caller's process as it found it; only a command sets process-wide
things (warning filters, the command line), and determinism is only ever turned on."""

import logging
import os
import sys
import warnings

import pytest
import torch

from conftest import small_settings
from recbole_elecrec.config import Config
from recbole_elecrec.errors import command


@pytest.fixture
def determinism():
    """torch's deterministic-algorithms switch, restored after the test."""
    before = (torch.are_deterministic_algorithms_enabled(),
              torch.is_deterministic_algorithms_warn_only_enabled())
    yield
    torch.use_deterministic_algorithms(before[0], warn_only=before[1])


@pytest.mark.parametrize("reproducibility", [False, True])
def test_build_changes_no_warning_filter_and_never_turns_determinism_off(
        data_path, workdir, determinism, reproducibility):
    from recbole_elecrec.quick_start import build

    torch.use_deterministic_algorithms(True)  # the caller's own choice, not warn-only
    filters = list(warnings.filters)
    build("ELECRec", "tiny", config_dict=small_settings(
        data_path, epochs=1, reproducibility=reproducibility))
    assert warnings.filters == filters
    assert torch.are_deterministic_algorithms_enabled()
    assert not torch.is_deterministic_algorithms_warn_only_enabled()


def test_reproducibility_turns_determinism_on_and_the_log_says_so(data_path, workdir,
                                                                  determinism, caplog):
    from recbole_elecrec.quick_start import build

    torch.use_deterministic_algorithms(False)
    with caplog.at_level(logging.INFO):
        build("ELECRec", "tiny", config_dict=small_settings(data_path, reproducibility=True))
    assert torch.are_deterministic_algorithms_enabled()
    assert "torch deterministic algorithms: turned on" in caplog.text
    torch.use_deterministic_algorithms(False)
    build("ELECRec", "tiny", config_dict=small_settings(data_path, reproducibility=False))
    assert not torch.are_deterministic_algorithms_enabled()


def test_a_script_s_command_line_settings_are_read_as_recbole_reads_them(data_path, workdir,
                                                                         monkeypatch):
    monkeypatch.setattr(sys, "argv", ["my_script.py", "--epochs=7", "--learning_rate=0.01"])
    config = Config("ELECRec", "tiny", config_dict=small_settings(data_path, epochs=3))
    assert (config["epochs"], config["learning_rate"]) == (7, 0.01)  # above config_dict

    seen = {}

    @command
    def main(argv=None):  # a command passes its settings itself: the command line is its own
        seen["epochs"] = Config("ELECRec", "tiny",
                                config_dict=small_settings(data_path, epochs=3))["epochs"]
        return 0

    assert main() == 0 and seen["epochs"] == 3


def test_a_command_s_warning_filters_end_with_it():
    filters = list(warnings.filters)

    @command
    def main(argv=None):
        assert warnings.filters != filters  # RecBole's deprecation warnings quieted
        return 0

    assert main() == 0
    assert warnings.filters == filters


def test_an_evaluation_trainer_keeps_the_working_folder(data_path, workdir, monkeypatch):
    from recbole_elecrec.trainer import evaluation_trainer
    from conftest import make_model

    config, _, model = make_model(data_path)

    def chdir(path):
        raise AssertionError(f"the working folder changed to {path}")

    monkeypatch.setattr(os, "chdir", chdir)
    trainer = evaluation_trainer(config, model)
    assert trainer.checkpoint_dir != config["checkpoint_dir"]  # a temporary one, gone
    assert not os.path.exists(trainer.checkpoint_dir)
    assert sorted(os.listdir(workdir)) == []


@pytest.mark.parametrize("setting, message", [
    ({"shared_updates": "thrice"}, "shared_updates must be one of ['once', 'twice']"),
    ({"softmax_chunk_rows": -1}, "softmax_chunk_rows must be >= 0"),
    ({"temperature": 0}, "temperature must be positive"),
])
def test_trainer_and_shared_settings_are_refused_by_the_rules(data_path, workdir, setting,
                                                              message):
    with pytest.raises(ValueError, match=message.replace("[", r"\[")):
        Config("ELECRec", "tiny", config_dict=small_settings(data_path, **setting))
