"""run_hyper.py: a 2-trial search with RecBole's HyperTuning on the toy dataset."""

import subprocess
import sys

import pytest

from conftest import REPO

TOY = ["--data_path=" + str(REPO / "benchmarks" / "data"),
       "--load_col={'inter': ['user_id', 'item_id', 'timestamp']}", "--epochs=1",
       "--show_progress=False", "--gpu_id="]


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
