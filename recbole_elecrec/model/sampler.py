"""ELECRec's sampler: draws replacement items from the generator's next-item distribution."""

import torch


class GeneratorSampler:
    """Draws one item per position from softmax(prob_power * logits) and picks which positions
    get it (each with probability ``sample_ratio``; the others keep the true target).

    ``method`` is how the categorical draw is made, both exact:
    ``multinomial`` (the reference: ``torch.multinomial`` on softmax(logits) ** prob_power) or
    ``inverse_cdf`` (one uniform per position against the float64 cumulative distribution).
    """

    METHODS = ("multinomial", "inverse_cdf")

    def __init__(self, sample_ratio, prob_power, item_sample_ratio, method):
        self.sample_ratio = sample_ratio
        self.prob_power = prob_power
        self.item_sample_ratio = item_sample_ratio
        self.method = method

    def sample_items(self, logits):
        """One item id per row of the generator's logits [N n_items] (column 0 is padding).

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
        if self.method == "multinomial":
            probs = torch.softmax(logits, dim=-1) ** self.prob_power
            return torch.multinomial(probs, 1).squeeze(-1)
        cdf = torch.softmax(logits.double() * self.prob_power, dim=-1).cumsum_(dim=-1)
        u = torch.rand(len(logits), 1, dtype=cdf.dtype, device=cdf.device) * cdf[:, -1:]
        return torch.searchsorted(cdf, u, right=True).squeeze(-1).clamp_(max=logits.size(-1) - 1)

    def keep_mask(self, shape, device):
        """True where the true target is kept (probability 1 - sample_ratio)."""
        return torch.rand(shape, device=device) < 1 - self.sample_ratio
