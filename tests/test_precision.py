"""``precision: bf16``: the training step's products in bf16, weights, losses and gradients' sums in
float32, close to the float32 step; refused where the device has no bf16."""

import pytest
import torch

from conftest import make_model
from recbole_elecrec.model import sasrec_plus
from recbole_elecrec.model.item_softmax import item_softmax
from recbole_elecrec.model.sampler import GeneratorSampler

needs_bf16 = pytest.mark.skipif(not sasrec_plus.has_bf16("cpu"),
                                reason="this CPU has neither AVX-512-BF16 nor AMX")


def relative_error(got, expected):
    return float((got - expected).norm() / expected.norm())


@pytest.mark.parametrize("rows", [0, 7])
def test_bf16_products_give_the_float32_loss_and_gradients_within_bf16_rounding(rows):
    torch.manual_seed(0)
    hidden = torch.randn(40, 16, requires_grad=True)
    table = (torch.randn(300, 16) * 0.3).requires_grad_()
    targets = torch.randint(0, 300, (40,))
    results = {}
    for dtype in (None, torch.bfloat16):
        loss, _ = item_softmax(hidden, table, targets, targets > 0, rows=rows, dtype=dtype)
        loss.backward()
        results[dtype] = loss.detach(), hidden.grad, table.grad
        hidden.grad = table.grad = None
    (loss32, *grads32), (loss16, *grads16) = results[None], results[torch.bfloat16]
    assert loss16.dtype == grads16[0].dtype == grads16[1].dtype == torch.float32
    assert relative_error(loss16, loss32) < 1e-2
    for got, expected in zip(grads16, grads32):
        assert relative_error(got, expected) < 3e-2


def test_bf16_draws_follow_the_float32_softmax():
    """The products' rounding moves the logits by ~1e-2, not the distribution drawn from."""
    torch.manual_seed(1)
    rows = 100_000
    hidden = torch.randn(1, 8).expand(rows, -1).contiguous()
    table = torch.randn(23, 8) * 0.5
    targets = torch.ones(rows, dtype=torch.long)
    everywhere = torch.ones(rows, dtype=torch.bool)
    sampler = GeneratorSampler(0.5, 1.0, 1.0, "inverse_cdf")
    _, drawn = item_softmax(hidden, table, targets, everywhere, everywhere, sampler, 5000,
                            torch.bfloat16)
    got = torch.bincount(drawn, minlength=23).double() / rows
    expected = torch.zeros(23, dtype=torch.float64)
    expected[1:] = torch.softmax((hidden[0] @ table[1:].t()).double(), -1)
    assert float((got - expected).abs().max()) < 0.01


NO_DROPOUT = {f"{net}_{kind}_dropout_prob": 0.0 for net in ("gen", "dis")
              for kind in ("hidden", "attn")}


def step(model, batch):
    """One forward and backward pass: the losses, and the gradients of all parameters in one
    vector."""
    model.zero_grad()
    losses = model.calculate_loss(batch)
    sum(losses).backward()
    return ([float(loss.detach()) for loss in losses],
            torch.cat([p.grad.flatten() for p in model.parameters() if p.grad is not None]))


@needs_bf16
@pytest.mark.parametrize("attention", ["recbole", "fused"])
def test_a_bf16_step_is_close_to_the_float32_one_with_float32_weights(data_path, attention):
    # no draws (sample_ratio 0): both steps show the discriminator the same items
    _, (train, _, _), bf16 = make_model(data_path, precision="bf16", sample_ratio=0.0,
                                        attention=attention, **NO_DROPOUT)
    _, _, float32 = make_model(data_path, sample_ratio=0.0, attention=attention, **NO_DROPOUT)
    float32.load_state_dict(bf16.state_dict())
    assert bf16.low_precision == torch.bfloat16 and float32.low_precision is None
    batch = next(iter(train))
    (losses16, grads16), (losses32, grads32) = step(bf16, batch), step(float32, batch)
    assert all(p.dtype == torch.float32 for p in bf16.parameters())
    assert grads16.dtype == torch.float32 and grads16.shape == grads32.shape
    assert losses16 == pytest.approx(losses32, rel=2e-2)
    assert relative_error(grads16, grads32) < 0.05


@needs_bf16
def test_bf16_training_lowers_the_loss_as_float32_does(data_path):
    losses = {}
    for precision in ("float32", "bf16"):
        torch.manual_seed(0)
        _, (train, _, _), model = make_model(data_path, "SASRecPlus", precision=precision,
                                             **NO_DROPOUT)
        optimizer = torch.optim.Adam(model.parameters(), lr=1e-2)
        batch = next(iter(train))
        curve = []
        for _ in range(30):
            optimizer.zero_grad()
            loss = model.calculate_loss(batch)
            loss.backward()
            optimizer.step()
            curve.append(float(loss.detach()))
        losses[precision] = curve
    assert losses["bf16"][-1] < 0.6 * losses["bf16"][0]
    assert losses["bf16"] == pytest.approx(losses["float32"], rel=1e-2)


def test_bf16_is_refused_where_the_device_has_none(data_path, monkeypatch):
    monkeypatch.setattr(sasrec_plus, "has_bf16", lambda device: False)
    with pytest.raises(ValueError, match="precision bf16 needs a CPU with AVX-512-BF16 or AMX"):
        make_model(data_path, precision="bf16")


@pytest.mark.parametrize("settings,message", [
    ({"precision": "fp16"}, "precision must be one of"),
    ({"precision": "bf16", "backbone": "GRU4Rec"}, "precision bf16 runs SASRec's encoders"),
])
def test_other_precisions_and_backbones_are_refused(data_path, settings, message):
    with pytest.raises(ValueError, match=message):
        make_model(data_path, **settings)
