"""The generator's softmax over the item table, for a bounded number of rows at a time.

Training needs, at N scored positions, the next-item cross-entropy over all n_items and, at the
replaced positions, a draw from softmax(prob_power x logits). Written densely, autograd keeps a
[N x n_items] log-softmax for the backward pass and the sampler reads it again, so memory grows
with N x n_items. Here the positions are taken ``rows`` at a time: each chunk's log-softmax gives
its losses, then its softmax the draws and the gradients (softmax - one-hot, times the item table
and the states), which backward only scales, and is freed. At most [rows x n_items] of them exist at once,
and the matrix products are the dense computation's three. With a low-precision ``dtype``
(``precision: bf16``) the logits' and the states' gradient products take their inputs in it; the
log-softmax, the draws, the loss and the table's gradient stay in the inputs' float32 (a bf16
table gradient needs an [n_items H] temporary per chunk to sum, which cost more than it saved).
"""

import math
from pathlib import Path

import torch
from torch.autograd.function import once_differentiable

L2_SIZE_FILE = "/sys/devices/system/cpu/cpu0/cache/index2/size"
# 'auto': the chunk's float32 [rows x n_items] block about this many times the L2 cache, as a
# power of two in AUTO_ROWS; measured fastest from 12k to 100k items (docs/speed.md): smaller
# chunks re-read the item table more often, larger ones leave the cache for each of their passes
AUTO_L2_TIMES, AUTO_ROWS, AUTO_ROWS_OFF_CPU = 4, (32, 256), 256


class ItemSoftmax(torch.autograd.Function):
    """Summed cross-entropy of ``targets`` at the ``scored`` rows of ``hidden`` [N H] over the
    item table ``table`` [n_items H], and one draw by ``sampler`` for each row where ``draw`` [N]
    is True. Returns (loss, drawn item ids, in row order); only the loss has a gradient, formed
    in forward for the inputs that need one (``item_softmax`` detaches them with grad mode off).
    The logits' and the states' gradient products take their inputs in ``dtype`` (None: kept)."""

    @staticmethod
    def forward(ctx, hidden, table, targets, scored, draw, sampler, rows, dtype):
        need_hidden, need_table = ctx.needs_input_grad[:2]
        low = (lambda tensor: tensor) if dtype in (None, table.dtype) else (
            lambda tensor: tensor.to(dtype))
        product_table = low(table)  # cast once a step
        with_grad = need_hidden or need_table
        rows = rows or len(hidden)
        chunks = torch.arange(len(hidden), device=hidden.device).split(rows)
        # the draws' rows, per chunk: read from the device once a step, not once a chunk
        picked_rows = draw.nonzero().squeeze(1)
        sizes = torch.bincount(picked_rows // rows, minlength=len(chunks)).tolist()
        allowed = sampler.allowed(table.size(0), table.device) if picked_rows.numel() else None
        all_scored = bool(scored.all())
        loss, drawn, lost = hidden.new_zeros(()), [], []
        grad_hidden = torch.zeros_like(hidden) if need_hidden else None
        grad_table = torch.zeros_like(table) if need_table else None
        for chunk, picked, size in zip(chunks, picked_rows.split(sizes), sizes):
            states, chunk_targets = hidden[chunk], targets[chunk]
            log_probs = (low(states) @ product_table.t()).log_softmax(-1, dtype=table.dtype)
            target_log_prob = log_probs.gather(1, chunk_targets.unsqueeze(1)).squeeze(1)
            loss -= (target_log_prob * scored[chunk]).sum()
            if with_grad or size:
                probs = log_probs.exp_()  # the softmax
            if size:
                items, chunk_lost = sampler.sample_items(probs[picked - chunk[0]], allowed)
                drawn.append(items)
                lost.append(chunk_lost)
            if with_grad:  # d(-log p_target)/d logits = softmax - one-hot
                probs[torch.arange(len(chunk), device=probs.device), chunk_targets] -= 1
                if not all_scored:
                    probs.mul_(scored[chunk].unsqueeze(1).to(probs.dtype))
                if need_hidden:
                    grad_hidden[chunk] = (low(probs) @ product_table).to(hidden.dtype)
                if need_table:  # float32, summed in place
                    grad_table.addmm_(probs.t(), states)
        ctx.save_for_backward(grad_hidden, grad_table)
        if drawn:
            drawn = sampler.resample(torch.cat(drawn), torch.cat(lost), allowed, lambda lost_rows: (
                hidden[picked_rows[lost_rows]] @ table.t()).log_softmax(-1), rows)
        else:
            drawn = targets.new_zeros(0)
        ctx.mark_non_differentiable(drawn)
        return loss, drawn

    @staticmethod
    @once_differentiable  # the gradients are constants formed in forward
    def backward(ctx, grad_loss, _grad_drawn):
        grad_hidden, grad_table = ctx.saved_tensors
        return (None if grad_hidden is None else grad_hidden * grad_loss,
                None if grad_table is None else grad_table * grad_loss,
                None, None, None, None, None, None)


def l2_cache_bytes(path=L2_SIZE_FILE):
    """The CPU's L2 cache size as Linux gives it ('2048K'), or 2 MB where it does not."""
    units = {"K": 1 << 10, "M": 1 << 20, "G": 1 << 30}
    try:
        text = Path(path).read_text(encoding="ascii").strip().upper()
        return int(text[:-1]) * units[text[-1]] if text[-1] in units else int(text)
    except (OSError, ValueError, IndexError):
        return 2 << 20


def chunk_rows(setting, n_items, device, cache_bytes=None):
    """``softmax_chunk_rows`` as a number of rows: 'auto' sizes the chunk to the CPU's L2 cache
    (``AUTO_L2_TIMES``); off the CPU, whose cache it is not, it is ``AUTO_ROWS_OFF_CPU``."""
    if setting != "auto":
        return setting
    if torch.device(device).type != "cpu":
        return AUTO_ROWS_OFF_CPU
    cache = l2_cache_bytes() if cache_bytes is None else cache_bytes
    rows = 2 ** round(math.log2(AUTO_L2_TIMES * cache / (4 * n_items)))
    return min(max(rows, AUTO_ROWS[0]), AUTO_ROWS[1])


def item_softmax(hidden, table, targets, scored, draw=None, sampler=None, rows=0, dtype=None):
    """The summed cross-entropy and the draws (see ``ItemSoftmax``), ``rows`` positions at a time
    (0: all at once), the products' inputs in ``dtype`` (None: ``table``'s). ``hidden`` and
    ``table`` get the gradients of a dense log-softmax; with grad mode off none are formed (a
    Function sees its inputs' requires_grad, not the grad mode)."""
    if draw is None:
        draw = torch.zeros_like(targets, dtype=torch.bool)
    if not torch.is_grad_enabled():
        hidden, table = hidden.detach(), table.detach()
    return ItemSoftmax.apply(hidden, table, targets, scored, draw, sampler, rows, dtype)
