"""ELECRec's sampler: draws replacement items from the generator's next-item distribution."""

import torch


class GeneratorSampler:
    """Draws one item per position from softmax(prob_power * logits) and picks which positions
    get it (each with probability ``sample_ratio``; the others keep the true target).

    ``method`` is how the categorical draw is made; both sample the same distribution:
    ``multinomial`` (the reference: ``torch.multinomial`` on softmax(logits) ** prob_power) or
    ``inverse_cdf`` (one uniform per row against float64 cumulative sums of the float32
    probabilities, taken over blocks of items and then inside the chosen block, so no float64
    copy of the [rows x items] matrix is made; several times faster on CPU).
    """

    METHODS = ("multinomial", "inverse_cdf")
    BLOCK = 128  # items per block of the two-level inverse CDF
    ROWS = 2048  # rows drawn at a time: bounds the temporary [rows x items] probabilities

    def __init__(self, sample_ratio, prob_power, item_sample_ratio, method):
        self.sample_ratio = sample_ratio
        self.prob_power = prob_power
        self.item_sample_ratio = item_sample_ratio
        self.method = method

    def sample_items(self, logits):
        """One item id per row of the generator's logits [N n_items] (column 0 is padding), or
        of its log-softmax, which gives the same distribution.

        Candidates are all real items, or a fresh random ``item_sample_ratio`` share of them.
        """
        n_items = logits.size(-1)
        if self.item_sample_ratio >= 1.0:
            return self.draw(logits[:, 1:]) + 1
        size = max(1, int(n_items * self.item_sample_ratio) - 1)
        candidates = torch.randperm(n_items - 1, device=logits.device)[:size] + 1
        return candidates[self.draw(logits[:, candidates])]

    def draw(self, logits):
        """One column index per row of ``logits`` [N C], from softmax(prob_power * logits)."""
        return torch.cat([self._draw(rows) for rows in logits.split(self.ROWS)])

    def _draw(self, logits):
        if self.method == "multinomial":
            probs = torch.softmax(logits, dim=-1) ** self.prob_power
            return torch.multinomial(probs, 1).squeeze(-1)
        return self._inverse_cdf(logits)

    def _inverse_cdf(self, logits):
        n, c = logits.shape
        size = self.BLOCK
        probs = (logits - logits.max(-1, keepdim=True).values).mul_(self.prob_power).exp_()
        whole = c - c % size
        block_mass = [probs[:, :whole].view(n, -1, size).sum(-1)]
        if whole < c:
            block_mass.append(probs[:, whole:].sum(-1, keepdim=True))
        block_mass = torch.cat(block_mass, dim=1).double()  # [N blocks]
        cumulative = block_mass.cumsum(-1)
        u = torch.rand(n, 1, dtype=cumulative.dtype, device=logits.device) * cumulative[:, -1:]
        block = torch.searchsorted(cumulative, u, right=True).clamp_(max=block_mass.size(1) - 1)
        u -= cumulative.gather(1, block) - block_mass.gather(1, block)  # mass left in the block
        columns = block * size + torch.arange(size, device=logits.device)  # [N size]
        inside = probs.gather(1, columns.clamp(max=c - 1)).double() * (columns < c)
        offset = torch.searchsorted(inside.cumsum_(-1), u, right=True).clamp_(max=size - 1)
        return (block * size + offset).squeeze(-1).clamp_(max=c - 1)

    def keep_mask(self, targets):
        """True where the true target is kept (probability 1 - sample_ratio), per position."""
        return torch.rand(targets.shape, device=targets.device) < 1 - self.sample_ratio
