"""The package's commands as ``python -m`` modules, each starting with no more than it needs."""

import subprocess
import sys

from conftest import write_elecrec_file


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
