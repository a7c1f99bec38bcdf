"""Shared fixtures: a small generated dataset in ELECRec's format, and isolated run directories."""

import json
import os
import random
import subprocess
import sys
from pathlib import Path

import pytest
import torch

from recbole_elecrec.config import Config
from recbole_elecrec.data.prepare import prepare
from recbole_elecrec.quick_start import create_dataset

REPO = Path(__file__).resolve().parents[1]
# the authors' files for the paper checks (data/elecrec/Beauty.txt, checkpoints/*.pt): the folder
# named in ELECREC_SHARED, else ../shared beside the repository
SHARED_VARIABLE = "ELECREC_SHARED"
SHARED = Path(os.environ.get(SHARED_VARIABLE) or REPO.parent / "shared")


def needs_shared(*relative):
    """A paper check: slow (it reads the paper's data), and skipped unless every file
    ``relative`` to SHARED exists; the reason names what is missing."""
    missing = [str(SHARED / r) for r in relative if not (SHARED / r).is_file()]
    skip = pytest.mark.skipif(bool(missing), reason=(
        f"paper files not found: {', '.join(missing)} (set {SHARED_VARIABLE} to the folder that "
        "holds data/elecrec/ and checkpoints/; default ../shared beside the repository)"))
    return lambda test: pytest.mark.slow(skip(test))


def pytest_report_header(config):
    return f"paper files: {SHARED} ({SHARED_VARIABLE}; {'found' if SHARED.is_dir() else 'absent'})"


# The fast tier (`pytest -m "not slow"`, `make test-fast`) keeps the model, loss, sampler,
# protocol and parity tests. Slow: every test that trains through the command line (the
# fixtures below), reads the paper files (needs_shared), or lives in a module of whole-command,
# large-data or many-process tests (SLOW_MODULES)
TRAINING_FIXTURES = {"elecrec_run", "sasrec_run"}
SLOW_MODULES = {
    "test_bad_inputs", "test_benchmark", "test_cli", "test_compare", "test_data", "test_devices",
    "test_distributed", "test_entry_points", "test_hyper", "test_own_files", "test_packaging",
    "test_recommend_user", "test_run_settings", "test_scale", "test_speed", "test_training_state",
    "test_tune", "test_without_last_item",
}


def pytest_collection_modifyitems(config, items):
    for item in items:
        if (TRAINING_FIXTURES & set(getattr(item, "fixturenames", ()))
                or item.module.__name__ in SLOW_MODULES):
            item.add_marker(pytest.mark.slow)


# the one place the suite's runs take their device from: the GPU where there is one (set
# ELECREC_TEST_DEVICE=cpu to keep to the CPU), else the CPU
ON_GPU = torch.cuda.is_available() and os.environ.get("ELECREC_TEST_DEVICE") != "cpu"
GPU_ID = "0" if ON_GPU else ""

N_ITEMS = 60


def write_elecrec_file(path, n_users=80, n_items=N_ITEMS, seed=0, long_user=70):
    """Users with 4-20 items each, plus one user with ``long_user`` items (history > 50)."""
    rng = random.Random(seed)
    lines = []
    for user in range(1, n_users + 1):
        length = long_user if user == 1 else rng.randint(4, 20)
        items = [rng.randint(1, n_items) for _ in range(length)]
        lines.append(" ".join(map(str, [user] + items)))
    Path(path).write_text("\n".join(lines) + "\n")


@pytest.fixture(scope="session", autouse=True)
def no_command_line():
    """pytest's own arguments are no settings: a Config built in a test reads the command line
    as a user's script does (as RecBole's), so the tests run as a script given none."""
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(sys, "argv", sys.argv[:1])
        yield


@pytest.fixture(scope="session")
def data_path(tmp_path_factory):
    """A RecBole data_path holding the generated dataset 'tiny' (and 'tiny_big', more items)."""
    root = tmp_path_factory.mktemp("data")
    write_elecrec_file(root / "tiny.txt")
    write_elecrec_file(root / "tiny_big.txt", n_items=2 * N_ITEMS, seed=1)
    prepare("tiny", source=root / "tiny.txt", data_path=root)
    prepare("tiny_big", source=root / "tiny_big.txt", data_path=root)
    return root


@pytest.fixture
def workdir(tmp_path, monkeypatch):
    """Run in an empty directory (RecBole writes log/ and saved/ there)."""
    monkeypatch.chdir(tmp_path)
    return tmp_path


def small_settings(data_path, **overrides):
    settings = {
        "data_path": str(data_path),
        "load_col": {"inter": ["user_id", "item_id", "timestamp"]},
        "gen_hidden_size": 16, "dis_hidden_size": 16, "gen_inner_size": 32, "dis_inner_size": 32,
        "gen_n_heads": 2, "dis_n_heads": 2, "gen_n_layers": 1, "dis_n_layers": 1,
        "train_batch_size": 32, "eval_batch_size": 64, "show_progress": False,
        "gpu_id": GPU_ID, "use_gpu": ON_GPU,
    }
    settings.update(overrides)
    return settings


def make_model(data_path, model="ELECRec", dataset="tiny", **overrides):
    """(config, dataset, model) for the generated data."""
    from recbole.data import data_preparation
    from recbole_elecrec.utils import get_model

    config = Config(model, dataset, config_dict=small_settings(data_path, **overrides))
    data = create_dataset(config)
    train, valid, test = data_preparation(config, data)
    return config, (train, valid, test), get_model(model)(config, train._dataset)


# run_recbole.py as a user runs it: tiny settings, one epoch
TINY = ["--load_col={'inter': ['user_id', 'item_id', 'timestamp']}", "--show_progress=False",
        f"--gpu_id={GPU_ID}", "--epochs=1", "--train_batch_size=64"]


def run_cli(cwd, *args):
    return subprocess.run([sys.executable, str(REPO / "run_recbole.py"), *args],
                          capture_output=True, text=True, cwd=cwd)


def last_json(result):
    assert result.returncode == 0, result.stderr[-3000:]
    return json.loads(result.stdout.strip().splitlines()[-1])


def full_result(cwd, summary):
    """The full result (history, config) of a run whose stdout summary is ``summary``."""
    return json.loads((Path(cwd) / summary["result_file"]).read_text())


@pytest.fixture(scope="session")
def elecrec_run(data_path, tmp_path_factory):
    cwd = tmp_path_factory.mktemp("run")
    result = run_cli(cwd, "--model=ELECRec", "--dataset=tiny", f"--data_path={data_path}", *TINY)
    return cwd, last_json(result), result


@pytest.fixture(scope="session")
def sasrec_run(data_path, tmp_path_factory):
    cwd = tmp_path_factory.mktemp("sasrec")
    return cwd, last_json(run_cli(cwd, "--model=SASRec", "--dataset=tiny",
                                  f"--data_path={data_path}", *TINY))
