"""Trained on one device, used on another: a checkpoint saved on a GPU serves on this machine."""

import json

import pytest
import torch

from recbole_elecrec.checkpoint.allowlist import load_checkpoint


@pytest.fixture
def gpu_checkpoint(elecrec_run, tmp_path):
    """The tiny run's checkpoint as a CUDA run saves it: its config says device cuda."""
    cwd, out, _ = elecrec_run
    checkpoint = load_checkpoint(cwd / out["checkpoint"])
    checkpoint["config"]["device"] = torch.device("cuda")
    checkpoint["config"]["use_gpu"] = True
    path = tmp_path / "trained_on_a_gpu.pth"
    torch.save(checkpoint, path)
    return path


@pytest.mark.skipif(torch.cuda.is_available(), reason="checks loading where CUDA is absent")
def test_a_gpu_checkpoint_loads_onto_this_machine(gpu_checkpoint, tmp_path, monkeypatch, capsys):
    from recbole_elecrec import cli, compare, probe, recommend
    from recbole_elecrec.quick_start import load_data_and_model

    monkeypatch.chdir(tmp_path)
    config, model, *_ = load_data_and_model(gpu_checkpoint)
    assert config["device"].type == "cpu" and not config["use_gpu"]
    assert {p.device.type for p in model.parameters()} == {"cpu"}

    for main, args in [(recommend.main, [f"--checkpoint={gpu_checkpoint}", "--items=1 2 3"]),
                       (probe.main, [str(gpu_checkpoint)]),
                       (compare.main, [str(gpu_checkpoint), str(gpu_checkpoint)]),
                       (cli.main, ["--eval_only", f"--checkpoint={gpu_checkpoint}"])]:
        code = main(args)
        captured = capsys.readouterr()
        assert code == 0, captured.err[-2000:]
        json.loads(captured.out.strip().splitlines()[-1])  # each ends with its JSON line
