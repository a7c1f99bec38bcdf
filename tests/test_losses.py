"""Generator and discriminator losses against values computed by hand on tiny tensors."""

import math

import pytest
import torch

from conftest import make_model
from test_model import batch


def sigmoid(x):
    return 1 / (1 + math.exp(-x))


def cross_entropy(hidden, table, target):
    scores = [sum(h * e for h, e in zip(hidden, row)) for row in table]
    return math.log(sum(math.exp(s) for s in scores)) - scores[target]


@pytest.mark.parametrize("dis_opt_version", ["full", "mask_only"])
@pytest.mark.parametrize("quirks", [False, True])
def test_losses_by_hand(data_path, workdir, monkeypatch, dis_opt_version, quirks):
    _, _, model = make_model(
        data_path, project_type="sum", temperature=2.0, dis_opt_version=dis_opt_version,
        gen_loss_on_padding=quirks, replace_padding=quirks, gen_loss_weight=0.7,
        dis_loss_weight=0.3, model_shared_type="none",
    )
    torch.manual_seed(3)
    width = 50 if quirks else 2
    gen_h = torch.randn(1, width, 16) * 0.3
    dis_h = torch.randn(1, width, 16) * 0.3
    monkeypatch.setattr(model, "_encode", lambda net, seq, pos: gen_h if net is model.generator else dis_h)
    # input (3, 4) -> targets (4, 9); the sampler proposes item 7 at the first and 9 (the
    # true one) at the second position; only the first position is kept
    drawn = torch.full((1, width), 11)
    drawn[0, -2:] = torch.tensor([7, 9])
    monkeypatch.setattr(model.sampler, "draw", lambda logits: drawn.flatten()[-len(logits):])
    keep = torch.zeros(1, width, dtype=torch.bool)
    keep[0, -2] = True
    monkeypatch.setattr(model.sampler, "keep_mask", lambda targets: keep.flatten()[-len(targets):])

    gen_loss, dis_loss = model.calculate_loss(batch(model, [[3, 4]], [9]))

    table = model.generator.item_embedding.weight.tolist()
    targets = [0] * (width - 2) + [4, 9]
    positions = range(width) if quirks else range(width - 2, width)
    expected_gen = sum(cross_entropy(gen_h[0, t].tolist(), table, targets[t]) for t in positions)
    expected_gen /= len(positions)
    # position -2 keeps its true item 4 (label 1); position -1 got 9 = the true item (label 1)
    logit = [sum(dis_h[0, t].tolist()) / 2.0 for t in (-2, -1)]
    terms = [math.log(sigmoid(logit[0]) + 1e-24), math.log(sigmoid(logit[1]) + 1e-24)]
    if dis_opt_version == "mask_only":
        terms = terms[1:]  # only the position that went through the sampler counts
    expected_dis = -sum(terms) / 2  # divided by the number of real targets
    assert gen_loss.item() == pytest.approx(0.7 * expected_gen, abs=1e-6)
    assert dis_loss.item() == pytest.approx(0.3 * expected_dis, abs=1e-6)
    assert model.step_stats["replaced"].item() == 0  # the drawn item was the true one

    # and the item table's gradient: autograd's of the same sum in float64
    weight = model.generator.item_embedding.weight
    gen_loss.backward()
    table64 = weight.detach().double().requires_grad_()
    scores = gen_h[0, list(positions)].double() @ table64.T
    picked = torch.tensor([targets[t] for t in positions])
    expected = torch.nn.functional.cross_entropy(scores, picked, reduction="mean") * 0.7
    expected.backward()
    torch.testing.assert_close(weight.grad.double(), table64.grad, atol=1e-6, rtol=1e-5)


def test_replaced_position_is_labelled_zero(data_path, workdir, monkeypatch):
    _, _, model = make_model(data_path, project_type="sum", gen_loss_on_padding=False,
                             replace_padding=False, dis_loss_weight=1.0)
    dis_h = torch.full((1, 2, 16), 0.1)
    gen_h = torch.zeros(1, 2, 16)
    monkeypatch.setattr(model, "_encode",
                        lambda net, seq, pos: gen_h if net is model.generator else dis_h)
    monkeypatch.setattr(model.sampler, "draw", lambda logits: torch.tensor([7, 7]))
    monkeypatch.setattr(model.sampler, "keep_mask",
                        lambda targets: torch.zeros_like(targets, dtype=torch.bool))
    _, dis_loss = model.calculate_loss(batch(model, [[3, 4]], [9]))
    # both positions hold item 7, neither is the true next item: -log(1 - sigmoid(1.6))
    assert dis_loss.item() == pytest.approx(-math.log(1 - sigmoid(1.6)), abs=1e-6)
    assert model.step_stats["replaced"].item() == 2


@pytest.mark.parametrize("quirks", [False, True])
def test_a_distributed_step_shares_one_all_reduce_for_both_losses(data_path, workdir, monkeypatch,
                                                                 quirks):
    """Under DDP each loss is divided by its count over the global batch; both counts travel in
    one all-reduce. Here a fake second rank holds 3 real targets and 5 scored positions more."""
    from recbole_elecrec.model import global_batch

    _, _, model = make_model(data_path, gen_loss_on_padding=quirks, replace_padding=quirks)
    calls = []

    def all_reduce(counts):
        calls.append(counts.clone())
        counts += torch.tensor([3.0, 5.0])

    monkeypatch.setattr(global_batch.dist, "is_initialized", lambda: True)
    monkeypatch.setattr(global_batch.dist, "all_reduce", all_reduce)
    monkeypatch.setattr(global_batch.dist, "get_world_size", lambda: 2)
    rows = model.training_rows(batch(model, [[3, 4], [5, 6, 7]], [9, 8]))
    model.calculate_loss(batch(model, [[3, 4], [5, 6, 7]], [9, 8]))

    assert len(calls) == 2  # one for training_rows above, one for the step
    real, scored = calls[0].tolist()
    assert real == 5 and scored == (2 * 50 if quirks else 5)
    assert rows.real_divisor.item() == (real + 3) / 2
    assert rows.scored_divisor.item() == (scored + 5) / 2
