"""python -m recbole_elecrec.probe: can a trained discriminator tell true items from others?"""

import math
import subprocess
import sys

import torch

from recbole_elecrec.probe import head_probabilities, summarize
from recbole_elecrec.quick_start import load_data_and_model
from conftest import last_json


def probe(cwd, *args):
    return subprocess.run([sys.executable, "-m", "recbole_elecrec.probe", *map(str, args)],
                          capture_output=True, text=True, cwd=cwd)


def test_a_head_that_sees_the_replacements_scores_perfectly(elecrec_run, monkeypatch):
    cwd, out, _ = elecrec_run
    config, model, _, train_data, _, _ = load_data_and_model(cwd / out["checkpoint"])
    # replacements are the padding id, and the planted head reads "is this position padding"
    # (and none is lost: see GeneratorSampler.sample_items)
    model.sampler.sample_items = lambda probs, *_: (torch.zeros(len(probs), dtype=torch.long),
                                                    torch.zeros(len(probs), dtype=torch.bool))
    encode = model._encode
    monkeypatch.setattr(model, "_encode", lambda network, seq, pos: (
        (seq > 0).float().unsqueeze(-1) if network is model.discriminator
        else encode(network, seq, pos)))
    head = torch.nn.Linear(1, 1)
    head.weight.data.fill_(10.0)
    head.bias.data.fill_(-5.0)
    model.dis_projection = head
    figures = summarize(*head_probabilities(model, train_data, "generator"))
    assert (figures["auc"], figures["acc_true"], figures["acc_replaced"]) == (1.0, 1.0, 1.0)
    total, p = figures["true"] + figures["replaced"], config["sample_ratio"]
    assert abs(figures["replaced"] / total - p) < 4 * math.sqrt(p * (1 - p) / total)


def test_probe_refuses_other_models_and_missing_files(sasrec_run, tmp_path):
    cwd, out = sasrec_run
    for target, message in [(cwd / out["checkpoint"], "holds model SASRec"),
                            (tmp_path / "missing.pth", "missing.pth")]:
        result = probe(cwd, target)
        assert result.returncode == 2
        assert result.stderr.startswith("error:") and message in result.stderr
        assert len(result.stderr.strip().splitlines()) == 1


def test_the_test_split_probes_each_test_users_test_item(elecrec_run):
    cwd, out, _ = elecrec_run
    result = last_json(probe(cwd, cwd / out["checkpoint"], "--split", "test"))
    config, _, _, _, _, test_data = load_data_and_model(cwd / out["checkpoint"])
    users = sum(len(batch[0]) for batch in test_data)
    for figures in result["negatives"].values():
        assert figures["true"] + figures["replaced"] == users  # one item per test user


def test_last_position_keeps_each_rows_last_true():
    from recbole_elecrec.model.elecrec import last_position
    mask = torch.tensor([[1, 1, 0, 1], [0, 0, 0, 0], [0, 1, 1, 0]], dtype=torch.bool)
    expected = torch.tensor([[0, 0, 0, 1], [0, 0, 0, 0], [0, 0, 1, 0]], dtype=torch.bool)
    assert torch.equal(last_position(mask), expected)
