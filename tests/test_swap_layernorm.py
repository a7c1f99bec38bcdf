"""studies/swap_layernorm.py: an ELECRec checkpoint that ranks with the generator's LayerNorm."""

import hashlib
import subprocess
import sys

import torch

from recbole_elecrec.quick_start import load_data_and_model
from conftest import REPO


def swap(cwd, *args):
    return subprocess.run([sys.executable, str(REPO / "studies" / "swap_layernorm.py"),
                           *map(str, args)], capture_output=True, text=True, cwd=cwd)


def digest(path):
    return hashlib.sha256(path.read_bytes()).hexdigest()


def test_the_copy_ranks_with_the_generator_network(elecrec_run, tmp_path):
    cwd, out, _ = elecrec_run
    source, target = cwd / out["checkpoint"], tmp_path / "swapped.pth"
    before = digest(source)
    result = swap(cwd, source, target)
    assert result.returncode == 0, result.stderr
    assert digest(source) == before

    _, model, _, _, _, test_data = load_data_and_model(source)
    _, swapped, _, _, _, _ = load_data_and_model(target)
    original, copy = model.state_dict(), swapped.state_dict()
    changed = {k for k in original if not torch.equal(original[k], copy[k])}
    # one epoch of training leaves the two LayerNorms different, so the copy is not the original
    assert changed == {"discriminator.LayerNorm.weight", "discriminator.LayerNorm.bias"}
    for name in ("weight", "bias"):
        assert torch.equal(copy[f"discriminator.LayerNorm.{name}"],
                           original[f"generator.LayerNorm.{name}"])

    # under `full` sharing the copy's ranking network is the generator network itself
    model.eval()
    swapped.eval()
    batch = next(iter(test_data))[0]
    seq, seq_len = batch[model.ITEM_SEQ], batch[model.ITEM_SEQ_LEN]
    with torch.no_grad():
        ranked = swapped.forward(seq, seq_len)
        swapped.discriminator = swapped.generator
        assert torch.equal(ranked, swapped.forward(seq, seq_len))
        assert not torch.allclose(ranked, model.forward(seq, seq_len))


def test_refusals_name_the_problem_and_write_nothing(elecrec_run, sasrec_run, tmp_path):
    (cwd, out, _), (sasrec_cwd, sasrec_out) = elecrec_run, sasrec_run
    taken = tmp_path / "taken.pth"
    taken.write_bytes(b"keep me")
    cases = [
        (sasrec_cwd / sasrec_out["checkpoint"], tmp_path / "a.pth", "holds model SASRec"),
        (tmp_path / "missing.pth", tmp_path / "b.pth", "checkpoint not found"),
        (cwd / out["checkpoint"], taken, "taken.pth exists"),
    ]
    for source, target, message in cases:
        result = swap(cwd, source, target)
        assert result.returncode == 2 and message in result.stderr
        assert len(result.stderr.strip().splitlines()) == 1
        assert not target.exists() or target.read_bytes() == b"keep me"
