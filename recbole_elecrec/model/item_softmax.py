"""The generator's softmax over the item table, for a bounded number of rows at a time.

Training needs, at N scored positions, the next-item cross-entropy over all n_items and, at the
replaced positions, a draw from softmax(prob_power x logits). Written densely, autograd keeps a
[N x n_items] log-softmax for the backward pass and the sampler reads it again, so memory grows
with N x n_items. Here the positions are taken ``rows`` at a time: each chunk's log-softmax gives
its losses, then its softmax the draws and the gradients (softmax - one-hot, times the item table
and the states), which backward only scales, and is freed. At most [rows x n_items] of them exist at once,
and the matrix products are the dense computation's three.
"""

import torch


class ItemSoftmax(torch.autograd.Function):
    """Summed cross-entropy of ``targets`` at the ``scored`` rows of ``hidden`` [N H] over the
    item table ``table`` [n_items H], and one draw by ``sampler`` for each row where ``draw`` [N]
    is True. Returns (loss, drawn item ids, in row order); only the loss has a gradient."""

    @staticmethod
    def forward(ctx, hidden, table, targets, scored, draw, sampler, rows):
        with_grad = ctx.needs_input_grad[0] or ctx.needs_input_grad[1]
        rows = rows or len(hidden)
        chunks = torch.arange(len(hidden), device=hidden.device).split(rows)
        # the draws' rows, per chunk: read from the device once a step, not once a chunk
        picked_rows = draw.nonzero().squeeze(1)
        sizes = torch.bincount(picked_rows // rows, minlength=len(chunks)).tolist()
        allowed = sampler.allowed(table.size(0), table.device) if picked_rows.numel() else None
        all_scored = bool(scored.all())
        loss, drawn, lost = hidden.new_zeros(()), [], []
        grad_hidden = torch.zeros_like(hidden) if with_grad else None
        grad_table = torch.zeros_like(table) if with_grad else None
        for chunk, picked, size in zip(chunks, picked_rows.split(sizes), sizes):
            states, chunk_targets = hidden[chunk], targets[chunk]
            log_probs = (states @ table.t()).log_softmax(-1)  # [rows n_items]
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
                grad_hidden[chunk] = probs @ table
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
    def backward(ctx, grad_loss, _grad_drawn):
        grad_hidden, grad_table = ctx.saved_tensors
        return grad_hidden * grad_loss, grad_table * grad_loss, None, None, None, None, None


def item_softmax(hidden, table, targets, scored, draw=None, sampler=None, rows=0):
    """The summed cross-entropy and the draws (see ``ItemSoftmax``), ``rows`` positions at a time
    (0: all at once). ``hidden`` and ``table`` get the gradients of a dense log-softmax."""
    if draw is None:
        draw = torch.zeros_like(targets, dtype=torch.bool)
    return ItemSoftmax.apply(hidden, table, targets, scored, draw, sampler, rows)
