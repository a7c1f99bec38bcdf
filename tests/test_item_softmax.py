"""The softmax over the item table, a chunk of positions at a time: the dense cross-entropy's loss
and gradients, and draws from softmax(prob_power x logits), whatever the chunk size."""

import pytest
import torch

from recbole_elecrec.model.item_softmax import chunk_rows, item_softmax, l2_cache_bytes
from recbole_elecrec.model.sampler import GeneratorSampler

N_ITEMS = 23  # column 0 is the padding item


def dense_loss(hidden, table, targets, scored):
    log_probs = (hidden @ table.t()).log_softmax(-1)
    return -(log_probs.gather(1, targets.unsqueeze(1)).squeeze(1) * scored).sum()


@pytest.mark.parametrize("chunk", [0, 1, 5, N_ITEMS, 64])
@pytest.mark.parametrize("on_padding", [False, True])
def test_loss_and_gradients_match_a_dense_log_softmax(chunk, on_padding):
    torch.manual_seed(0)
    hidden = torch.randn(37, 6, dtype=torch.float64, requires_grad=True)
    table = torch.randn(N_ITEMS, 6, dtype=torch.float64, requires_grad=True)
    targets = torch.randint(0, N_ITEMS, (37,))
    targets[:5] = 0  # padded positions: item 0, in the loss only under the padding quirk
    scored = torch.ones_like(targets, dtype=torch.bool) if on_padding else targets > 0

    loss, drawn = item_softmax(hidden, table, targets, scored, rows=chunk)
    (0.7 * loss).backward()  # backward scales the gradients kept from forward
    got = loss.detach(), hidden.grad.clone(), table.grad.clone()
    hidden.grad, table.grad = None, None
    expected = dense_loss(hidden, table, targets, scored)
    (0.7 * expected).backward()

    assert drawn.numel() == 0
    torch.testing.assert_close(got[0], expected.detach(), atol=1e-10, rtol=0)
    torch.testing.assert_close(got[1], hidden.grad, atol=1e-10, rtol=0)
    torch.testing.assert_close(got[2], table.grad, atol=1e-10, rtol=0)


def draw_frequencies(sampler, chunk, grad, rows=150_000, seed=1):
    """Draws at ``rows`` copies of one position, and the sharpened softmax over real items."""
    torch.manual_seed(seed)
    hidden = torch.randn(1, 4).expand(rows, -1).contiguous().requires_grad_(grad)
    table = torch.randn(N_ITEMS, 4) * 0.8
    targets = torch.ones(rows, dtype=torch.long)
    scored = torch.ones(rows, dtype=torch.bool)
    with torch.set_grad_enabled(grad):
        _, drawn = item_softmax(hidden, table, targets, scored, scored, sampler, chunk)
    logits = (hidden[0].detach() @ table.t()).double()
    return torch.bincount(drawn, minlength=N_ITEMS).double() / rows, logits


def within_five_errors(got, expected, rows):
    """5 standard errors of a binomial share: fails for a wrong distribution, not by chance."""
    tolerance = 5 * torch.sqrt(expected * (1 - expected) / rows) + 1e-4
    return bool(torch.all((got - expected).abs() <= tolerance))


@pytest.mark.parametrize("method", GeneratorSampler.METHODS)
@pytest.mark.parametrize("chunk,power,grad", [(0, 1.0, True), (4096, 1.0, True), (7000, 2.0, False),
                                              (7000, 1.0, True), (5000, 4.4, True)])
def test_streamed_draws_follow_the_sharpened_softmax(method, chunk, power, grad):
    sampler = GeneratorSampler(0.5, power, 1.0, method)
    got, logits = draw_frequencies(sampler, chunk, grad)
    expected = torch.zeros(N_ITEMS, dtype=torch.float64)
    expected[1:] = torch.softmax(power * logits[1:], -1)
    assert got[0] == 0  # never the padding item
    assert within_five_errors(got, expected, 150_000), (got, expected)


@pytest.mark.parametrize("method", GeneratorSampler.METHODS)
@pytest.mark.parametrize("chunk", [0, 6000])
def test_an_item_subset_is_drawn_from_as_the_softmax_over_it(method, chunk):
    sampler = GeneratorSampler(0.5, 1.0, 0.5, method)
    got, logits = draw_frequencies(sampler, chunk, True, rows=100_000)
    subset = got.nonzero().squeeze(1)
    assert len(subset) == int(N_ITEMS * 0.5) - 1 and subset.min() >= 1  # one subset a step
    expected = torch.zeros(N_ITEMS, dtype=torch.float64)
    expected[subset] = torch.softmax(logits[subset], -1)
    assert within_five_errors(got, expected, 100_000), (got, expected)


@pytest.mark.parametrize("method", GeneratorSampler.METHODS)
def test_rows_whose_item_probabilities_underflow_are_drawn_from_their_logits(method):
    """The padding item outscores every real one by > 104, so their float32 softmax is 0: the
    draw among them comes from their logits, recomputed, as softmax(logits) over real items."""
    torch.manual_seed(2)
    rows = 40_000
    hidden = torch.ones(rows, 4)
    table = torch.randn(N_ITEMS, 4) * 0.3
    table[0] = 40.0  # padding: logit 160
    targets = torch.ones(rows, dtype=torch.long)
    scored = torch.ones(rows, dtype=torch.bool)
    _, drawn = item_softmax(hidden, table, targets, scored, scored,
                            GeneratorSampler(0.5, 1.0, 1.0, method), 5000)
    got = torch.bincount(drawn, minlength=N_ITEMS).double() / rows
    expected = torch.zeros(N_ITEMS, dtype=torch.float64)
    expected[1:] = torch.softmax((hidden[0] @ table[1:].t()).double(), -1)
    assert within_five_errors(got, expected, rows), (got, expected)


@pytest.mark.parametrize("method", GeneratorSampler.METHODS)
def test_a_step_waits_for_the_device_as_often_whatever_the_chunk_size(method):
    """Reading a device value (nonzero, item, bool) stalls a GPU's queue: a step reads a fixed
    few, not a few per chunk, also with rows that need a second draw."""
    from torch.utils._python_dispatch import TorchDispatchMode

    reads = {torch.ops.aten.nonzero.default, torch.ops.aten._local_scalar_dense.default,
             torch.ops.aten.is_nonzero.default}

    class Reads(TorchDispatchMode):
        def __init__(self):
            super().__init__()
            self.count = 0

        def __torch_dispatch__(self, func, types, args=(), kwargs=None):
            self.count += func in reads
            return func(*args, **(kwargs or {}))

    torch.manual_seed(0)
    hidden, table = torch.randn(90, 6), torch.randn(N_ITEMS, 6)
    hidden[:, 0] = hidden[:, 0].abs() + 1
    table[0] = torch.tensor([1e3, 0, 0, 0, 0, 0])  # padding outscores all: every draw is redone
    targets = torch.randint(1, N_ITEMS, (90,))
    sampler = GeneratorSampler(0.5, 1.0, 1.0, method)
    counts = []
    for rows in (0, 30, 1):
        with Reads() as device_reads:
            _, drawn = item_softmax(hidden, table, targets, targets > 0,
                                    torch.arange(90) % 3 > 0, sampler, rows=rows)
        assert drawn.shape == (60,) and drawn.min() >= 1
        counts.append(device_reads.count)
    assert counts[0] == counts[1] == counts[2] <= 6, counts


class ProductCount:
    """Counts the matrix products run inside it (mm, addmm, ...), at the dispatcher."""

    PRODUCTS = {"mm", "addmm", "addmm_", "bmm", "matmul"}

    def __enter__(self):
        from torch.utils._python_dispatch import TorchDispatchMode

        counter = self

        class Products(TorchDispatchMode):
            def __torch_dispatch__(self, func, types, args=(), kwargs=None):
                counter.count += func.overloadpacket.__name__ in ProductCount.PRODUCTS
                return func(*args, **(kwargs or {}))

        self.count, self.mode = 0, Products()
        self.mode.__enter__()
        return self

    def __exit__(self, *exc):
        self.mode.__exit__(*exc)


@pytest.mark.parametrize("grad_mode,need,products", [
    (False, (True, True), 1), (True, (True, True), 3), (True, (True, False), 2),
    (True, (False, True), 2), (True, (False, False), 1)])
def test_gradients_are_formed_only_with_grad_mode_on_and_only_those_needed(grad_mode, need,
                                                                           products):
    """One product per chunk for the loss, one more per input that needs a gradient: none under
    no_grad (the probe), whatever the inputs' requires_grad."""
    torch.manual_seed(0)
    hidden = torch.randn(30, 6, dtype=torch.float64, requires_grad=need[0])
    table = torch.randn(N_ITEMS, 6, dtype=torch.float64, requires_grad=need[1])
    targets = torch.randint(1, N_ITEMS, (30,))
    with torch.set_grad_enabled(grad_mode), ProductCount() as counted:
        loss, _ = item_softmax(hidden, table, targets, targets > 0, rows=10)
    assert counted.count == 3 * products
    assert loss.requires_grad == (grad_mode and any(need))
    torch.testing.assert_close(loss.detach(), dense_loss(hidden, table, targets, targets > 0).detach(),
                               atol=1e-10, rtol=0)
    if loss.requires_grad:
        loss.backward()
        expected = [tensor.grad for tensor in (hidden, table)]
        for tensor in (hidden, table):
            tensor.grad = None
        dense_loss(hidden, table, targets, targets > 0).backward()
        for tensor, got in zip((hidden, table), expected):
            assert (got is None) == (not tensor.requires_grad)
            if got is not None:
                torch.testing.assert_close(got, tensor.grad, atol=1e-10, rtol=0)


def test_the_gradients_are_not_differentiable_again():
    """They are constants formed in forward: a second derivative would silently be 0."""
    hidden = torch.randn(8, 6, dtype=torch.float64, requires_grad=True)
    table = torch.randn(N_ITEMS, 6, dtype=torch.float64, requires_grad=True)
    targets = torch.randint(1, N_ITEMS, (8,))
    loss, _ = item_softmax(hidden, table, targets, targets > 0)
    scale = torch.ones((), dtype=torch.float64, requires_grad=True)
    (grad_hidden,) = torch.autograd.grad(loss, hidden, scale, create_graph=True)
    with pytest.raises(RuntimeError, match="twice"):
        grad_hidden.sum().backward()


@pytest.mark.parametrize("text,size", [("2048K\n", 2 << 20), ("1M", 1 << 20), ("524288", 1 << 19),
                                       ("", 2 << 20), (None, 2 << 20)])
def test_the_l2_size_is_read_as_linux_gives_it_else_2_mb(tmp_path, text, size):
    path = tmp_path / "size"
    if text is not None:
        path.write_text(text)
    assert l2_cache_bytes(path) == size


@pytest.mark.parametrize("n_items,rows", [(1_000, 256), (12_101, 128), (40_000, 64),
                                          (100_000, 32), (1_000_000, 32)])
def test_auto_chunks_are_about_four_l2_caches_as_a_power_of_two_from_32_to_256(n_items, rows):
    """The sizes measured fastest with a 2 MB L2 (docs/speed.md)."""
    assert chunk_rows("auto", n_items, "cpu", cache_bytes=2 << 20) == rows
    assert chunk_rows(96, n_items, "cpu") == 96  # a number is kept
    assert chunk_rows("auto", n_items, "meta") == 256  # off the CPU: not its cache


def test_auto_gives_the_loss_and_gradients_of_a_dense_log_softmax():
    torch.manual_seed(0)
    hidden = torch.randn(300, 6, dtype=torch.float64, requires_grad=True)
    table = torch.randn(N_ITEMS, 6, dtype=torch.float64, requires_grad=True)
    targets = torch.randint(1, N_ITEMS, (300,))
    rows = chunk_rows("auto", N_ITEMS, "cpu", cache_bytes=32 * 4 * N_ITEMS)  # 128 of 300 rows
    assert rows == 128
    loss, _ = item_softmax(hidden, table, targets, targets > 0, rows=rows)
    got = torch.autograd.grad(loss, (hidden, table))
    expected = torch.autograd.grad(dense_loss(hidden, table, targets, targets > 0), (hidden, table))
    for got_grad, expected_grad in zip(got, expected):
        torch.testing.assert_close(got_grad, expected_grad, atol=1e-10, rtol=0)
