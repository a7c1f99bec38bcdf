"""The generator's softmax over the item table, read one chunk of items at a time.

Training needs, at N scored positions, the next-item cross-entropy over all n_items and, at the
replaced positions, a draw from softmax(prob_power x logits). Written densely, autograd keeps a
[N x n_items] log-softmax for the backward pass and the sampler reads it again, so memory grows
with N x n_items. Here the item table is read in chunks of ``chunk`` items: a first pass gives
each row's log-normaliser and the sampler's mass in each chunk; a second pass recomputes each
chunk's logits, draws inside the chunk each replaced row picked, and forms the gradients
(softmax - one-hot), which backward only scales. At most [N x chunk] logits exist at a time.
When the table is one chunk, its logits are computed once and both passes read them.
"""

import torch


class ItemSoftmax(torch.autograd.Function):
    """Summed cross-entropy of ``targets`` at the ``scored`` rows of ``hidden`` [N H] over the
    item table ``table`` [n_items H], and one draw by ``sampler`` for each row in ``draw`` [M]
    (row indices). Returns (loss, drawn item ids [M]); only the loss has a gradient."""

    @staticmethod
    def forward(ctx, hidden, table, targets, scored, draw, sampler, chunk):
        n_items = table.size(0)
        starts = range(0, n_items, chunk or n_items)
        width = starts.step
        with_grad = ctx.needs_input_grad[0] or ctx.needs_input_grad[1]
        allowed = sampler.allowed(n_items, table.device) if draw.numel() else None

        def logits_of(start, rows=slice(None)):
            return hidden[rows] @ table[start:start + width].t()

        # pass 1: log-normalisers, target logits, the sampler's mass per chunk
        kept = logits_of(0) if len(starts) == 1 else None
        lse, target_logit, mass = [], torch.zeros_like(targets, dtype=hidden.dtype), []
        for start in starts:
            logits = kept if kept is not None else logits_of(start)
            lse.append(logits.logsumexp(-1))
            inside = (targets >= start) & (targets < start + width)
            column = (targets - start).clamp(0, logits.size(1) - 1).unsqueeze(1)
            target_logit = torch.where(inside, logits.gather(1, column).squeeze(1), target_logit)
            if draw.numel() and len(starts) > 1:
                mass.append(sampler.log_mass(logits[draw], allowed[start:start + width]))
        lse = torch.stack(lse, 1).logsumexp(1)  # [N]
        loss = ((lse - target_logit) * scored).sum()

        # pass 2: the draws inside the chosen chunks, and the gradients
        drawn = torch.zeros_like(draw)
        chosen = sampler.choose(torch.stack(mass, 1)) if mass else torch.zeros_like(draw)
        grad_hidden = torch.zeros_like(hidden) if with_grad else None
        grad_table = torch.zeros_like(table) if with_grad else None
        for index, start in enumerate(starts if with_grad or draw.numel() else ()):
            picked = (chosen == index).nonzero().squeeze(1)
            if with_grad or kept is not None:
                logits = kept if kept is not None else logits_of(start)
                draw_logits = logits[draw[picked]]
            else:  # drawing only: the logits of the rows that picked this chunk
                draw_logits = logits_of(start, draw[picked])
            if picked.numel():
                drawn[picked] = start + sampler.sample_items(
                    draw_logits, allowed[start:start + width])
            if with_grad:
                probs = logits.sub_(lse.unsqueeze(1)).exp_()  # softmax, in place
                rows = ((targets >= start) & (targets < start + width)).nonzero().squeeze(1)
                probs[rows, targets[rows] - start] -= 1
                probs.mul_(scored.unsqueeze(1).to(probs.dtype))
                grad_hidden.addmm_(probs, table[start:start + width])
                grad_table[start:start + width] = probs.t() @ hidden
        ctx.save_for_backward(grad_hidden, grad_table)
        ctx.mark_non_differentiable(drawn)
        return loss, drawn

    @staticmethod
    def backward(ctx, grad_loss, _grad_drawn):
        grad_hidden, grad_table = ctx.saved_tensors
        return grad_hidden * grad_loss, grad_table * grad_loss, None, None, None, None, None


def item_softmax(hidden, table, targets, scored, draw=None, sampler=None, chunk=0):
    """The summed cross-entropy and the draws (see ``ItemSoftmax``); ``chunk`` 0 reads the whole
    table at once. ``hidden``/``table`` take their gradients as from a dense log-softmax."""
    if draw is None:
        draw = targets.new_zeros(0)
    loss, drawn = ItemSoftmax.apply(hidden, table, targets, scored, draw, sampler, chunk)
    return loss, drawn
