"""torch's CPU threads: the cores other work leaves free, unless the user chose, said in the log."""

import logging

import pytest
import torch

from conftest import small_settings
from recbole_elecrec import quick_start
from recbole_elecrec.quick_start import build, choose_threads, set_threads


@pytest.mark.parametrize("cores, load, processes, threads", [
    (2, 0.1, 1, 2),  # an idle small machine: every core
    (2, 2.4, 1, 1),  # a busy one: at least 1
    (2, 9.0, 1, 1),
    (16, 4.0, 1, 12),  # the cores not busy
    (16, 0.0, 4, 4),  # shared among the run's processes here
    (2, 0.0, 4, 1),
])
def test_threads_are_the_free_cores_shared(cores, load, processes, threads):
    assert choose_threads(cores, load, processes) == threads


@pytest.fixture
def torch_threads():
    before = torch.get_num_threads()
    yield
    torch.set_num_threads(before)


@pytest.mark.parametrize("given, omp, expected", [
    (1, "", "torch threads: 1 (the threads setting)"),
    (1, "3", "torch threads: 1 (the threads setting)"),
    (None, "3", "(OMP_NUM_THREADS)"),
    (None, "", "torch threads: 1 (2 cores, load 1.5"),
])
def test_a_setting_or_omp_num_threads_comes_first(monkeypatch, torch_threads, given, omp,
                                                   expected):
    monkeypatch.setenv("OMP_NUM_THREADS", omp)
    monkeypatch.setattr(quick_start, "free_threads",
                        lambda processes: (1, "2 cores, load 1.5, 1 process(es) of the run"))
    assert expected in set_threads({"threads": given, "nproc": None})


def test_the_choice_is_one_line_of_the_log(data_path, workdir, caplog, torch_threads):
    caplog.set_level(logging.INFO)
    build("ELECRec", "tiny", config_dict=small_settings(data_path, threads=1, epochs=1))
    assert torch.get_num_threads() == 1
    lines = [r for r in caplog.records if r.getMessage().startswith("torch threads:")]
    assert len(lines) == 1 and lines[0].levelno == logging.INFO
