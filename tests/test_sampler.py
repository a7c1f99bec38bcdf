"""The sampler draws from softmax(prob_power * logits) and replaces at rate sample_ratio."""

import pytest
import torch

from recbole_elecrec.model.sampler import GeneratorSampler

EVERY_COLUMN = torch.ones(5, dtype=torch.bool)


def frequencies(sampler, logits, draws, allowed=EVERY_COLUMN):
    """Shares of ``draws`` draws by ``sampler`` from softmax(logits) [1 C] among ``allowed``."""
    torch.manual_seed(0)
    log_probs = logits.log_softmax(-1).expand(draws, -1).contiguous()
    picks, lost = sampler.sample_items(log_probs.exp(), allowed)
    sampler.resample(picks, lost, allowed, lambda rows: log_probs[rows].clone())
    return torch.bincount(picks, minlength=logits.size(-1)).double() / draws


@pytest.mark.parametrize("method", GeneratorSampler.METHODS)
@pytest.mark.parametrize("power", [1.0, 4.4, 0.3])
def test_draws_follow_the_sharpened_softmax(method, power):
    logits = torch.tensor([[0.5, -1.0, 2.0, 0.0, 1.0]])
    sampler = GeneratorSampler(0.5, power, 1.0, method)
    expected = torch.softmax(power * logits.double(), -1)[0]
    got = frequencies(sampler, logits, 200_000)
    # 5 standard errors of a binomial share: fails for a wrong distribution, not by chance
    tolerance = 5 * torch.sqrt(expected * (1 - expected) / 200_000) + 1e-4
    assert torch.all((got - expected).abs() <= tolerance), (got, expected)


@pytest.mark.parametrize("method", GeneratorSampler.METHODS)
def test_larger_power_sharpens(method):
    logits = torch.tensor([[0.5, -1.0, 2.0, 0.0, 1.0]])
    soft = frequencies(GeneratorSampler(0.5, 1.0, 1.0, method), logits, 50_000)
    sharp = frequencies(GeneratorSampler(0.5, 4.0, 1.0, method), logits, 50_000)
    assert sharp[2] > 0.9 > 0.6 > soft[2]


@pytest.mark.parametrize("method", GeneratorSampler.METHODS)
def test_allowed_items_far_below_the_best_one_are_still_drawn(method):
    """Their probabilities underflow to 0 next to the best item's; the draw is among them all the
    same, weighed from their log-probabilities."""
    logits = torch.tensor([[0.0, 300.0, 1.0, 0.0, -1.0]])
    allowed = torch.tensor([False, False, True, True, True])
    got = frequencies(GeneratorSampler(0.5, 2.0, 1.0, method), logits, 50_000, allowed)
    expected = torch.zeros(5, dtype=torch.float64)
    expected[2:] = torch.softmax(2.0 * logits[0, 2:].double(), -1)
    assert torch.all((got - expected).abs() < 0.01), (got, expected)


@pytest.mark.slow
@pytest.mark.parametrize("method", GeneratorSampler.METHODS)
def test_draws_over_many_blocks_follow_the_softmax(method):
    """A catalogue spanning several inverse-CDF blocks and a partial last block."""
    torch.manual_seed(1)
    columns = 2 * GeneratorSampler.BLOCK + 44
    logits = torch.randn(1, columns) * 1.5
    logits[0, [5, 130, 290]] += 4.0  # heavy items in the first, second and last block
    expected = torch.softmax(2.0 * logits.double(), -1)[0]
    allowed = torch.ones(columns, dtype=torch.bool)
    got = frequencies(GeneratorSampler(0.5, 2.0, 1.0, method), logits, 300_000, allowed)
    tolerance = 5 * torch.sqrt(expected * (1 - expected) / 300_000) + 1e-4
    assert torch.all((got - expected).abs() <= tolerance)


@pytest.mark.parametrize("ratio", [0.0, 0.45, 0.8, 1.0])
def test_replacement_rate_matches_sample_ratio(ratio):
    torch.manual_seed(0)
    keep = GeneratorSampler(ratio, 1.0, 1.0, "multinomial").keep_mask(torch.ones(400, 500))
    assert abs((~keep).double().mean().item() - ratio) < 0.005


@pytest.mark.parametrize("method", GeneratorSampler.METHODS)
def test_items_come_from_the_catalogue_never_padding(method):
    torch.manual_seed(0)
    log_probs = torch.zeros(1000, 30)
    log_probs[:, 0] = 50.0  # the padding column would win every draw if it were a candidate
    for ratio in (1.0, 0.3):
        sampler = GeneratorSampler(0.5, 1.0, ratio, method)
        allowed = sampler.allowed(30, log_probs.device)
        items, lost = sampler.sample_items(log_probs.softmax(-1), allowed)
        sampler.resample(items, lost, allowed, lambda rows: log_probs.log_softmax(-1)[rows])
        assert items.min() >= 1 and items.max() <= 29
    sampler = GeneratorSampler(0.5, 1.0, 0.3, method)
    subset, lost = sampler.sample_items(torch.full((5000, 30), 1 / 30),
                                        sampler.allowed(30, log_probs.device))
    assert not lost.any()
    assert len(subset.unique()) == int(30 * 0.3) - 1  # one fresh subset per step


def test_the_draw_keeps_float64_to_a_sliver_of_the_weights():
    """The inverse CDF sums in float64 (exact for any catalogue) over block masses and one block
    per row, never over the [rows x items] weights: a device slow at float64 (most GPUs) draws
    at float32 speed."""
    from torch.utils._python_dispatch import TorchDispatchMode

    class Float64Sizes(TorchDispatchMode):
        def __init__(self):
            super().__init__()
            self.largest = 0

        def __torch_dispatch__(self, func, types, args=(), kwargs=None):
            out = func(*args, **(kwargs or {}))
            for tensor in out if isinstance(out, (tuple, list)) else (out,):
                if isinstance(tensor, torch.Tensor) and tensor.dtype == torch.float64:
                    self.largest = max(self.largest, tensor.numel())
            return out

    rows, items = 64, 50_000
    weights = torch.rand(rows, items)
    sampler = GeneratorSampler(0.5, 1.0, 1.0, "inverse_cdf")
    with Float64Sizes() as sizes:
        drawn = sampler.draw(weights)
    assert drawn.shape == (rows,) and 0 <= drawn.min() and drawn.max() < items
    blocks = -(-items // GeneratorSampler.BLOCK)
    assert 0 < sizes.largest <= rows * max(blocks, GeneratorSampler.BLOCK)
    assert sizes.largest * 50 < rows * items
