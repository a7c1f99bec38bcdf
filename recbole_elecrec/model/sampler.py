"""ELECRec's sampler: draws replacement items from the generator's next-item distribution."""

import torch

from recbole_elecrec.errors import diverged


class GeneratorSampler:
    """Draws one item per position from softmax(prob_power * logits) and picks which positions
    get it (each with probability ``sample_ratio``; the others keep the true target).

    ``method`` is how each categorical draw is made; both sample the same distribution:
    ``multinomial`` (the reference: ``torch.multinomial`` on softmax(logits) ** prob_power) or
    ``inverse_cdf`` (one uniform per row against float64 cumulative sums of the float32
    weights, taken over blocks of items and then inside the chosen block: float64 touches
    rows x (items / BLOCK + BLOCK) values, never the [rows x items] matrix, so a device slow at
    float64 draws at float32 speed; several times faster than ``multinomial`` on CPU).
    """

    METHODS = ("multinomial", "inverse_cdf")
    BLOCK = 128  # items per block of the two-level inverse CDF
    ROWS = 2048  # rows drawn at a time: bounds the temporary [rows x items] probabilities

    def __init__(self, sample_ratio, prob_power, item_sample_ratio, method):
        self.sample_ratio = sample_ratio
        self.prob_power = prob_power
        self.item_sample_ratio = item_sample_ratio
        self.method = method

    def allowed(self, n_items, device):
        """Which item ids may be drawn: None for every real item (never the padding id 0), or a
        [n_items] bool mask of a fresh random ``item_sample_ratio`` share of them."""
        if self.item_sample_ratio >= 1.0:
            return None
        size = max(1, int(n_items * self.item_sample_ratio) - 1)
        allowed = torch.zeros(n_items, dtype=torch.bool, device=device)
        allowed[torch.randperm(n_items - 1, device=device)[:size] + 1] = True
        return allowed

    def sample_items(self, probs, allowed=None):
        """One column per row of the generator's softmax ``probs`` [M C], which it overwrites,
        among the ``allowed`` columns (see ``allowed``), and which rows were lost: their allowed
        probabilities all underflowed to 0 (or are NaN: training diverged), so their draw (a
        placeholder, 0) awaits ``resample``. Nothing here waits for the device."""
        if allowed is None:
            probs[:, 0] = 0.0
        else:
            probs.mul_(allowed)
        top = probs.amax(-1, keepdim=True)
        if self.prob_power != 1.0:  # relative to the best allowed item, which weighs 1
            probs.div_(top.clamp_min(torch.finfo(probs.dtype).tiny)).pow_(self.prob_power)
        lost = ~(top[:, 0] > 0)
        probs.masked_fill_(lost.unsqueeze(1), 0.0)
        probs[:, 0] += lost  # some mass for the lost rows' placeholder draws
        return self.draw(probs), lost

    def resample(self, items, lost, allowed, log_probs_of, rows=256):
        """Draw again, in place in ``items``, at the ``lost`` rows of ``sample_items``, weighed
        from their log-softmax ``log_probs_of(row indices)``, ``rows`` rows at a time; refused
        where those are not finite (training diverged)."""
        lost_rows = lost.nonzero().squeeze(1)  # the one wait for the device
        if not lost_rows.numel():
            return items
        not_finite = torch.zeros((), dtype=torch.bool, device=items.device)
        for part in lost_rows.split(rows):
            weights = self.weights(log_probs_of(part), allowed)
            bad = ~torch.isfinite(weights).all(-1, keepdim=True)
            not_finite |= bad.any()
            weights.masked_fill_(bad, 0.0)[:, :1] += bad  # a placeholder draw, as in sample_items
            items[part] = self.draw(weights)
        if not_finite:  # read once, whatever the number of parts
            raise diverged("the generator's next-item scores are not finite")
        return items

    def weights(self, log_probs, allowed=None):
        """Weights proportional to softmax(prob_power * logits) over the ``allowed`` columns, 0
        elsewhere, in place of ``log_probs`` [M C]: exp(prob_power * (log_probs - the row's best
        allowed one)), so the best allowed item weighs 1 and a row never underflows to zeros."""
        if allowed is None:
            log_probs[:, 0] = -torch.inf
        else:
            log_probs.masked_fill_(~allowed, -torch.inf)
        log_probs -= log_probs.max(-1, keepdim=True).values
        if self.prob_power != 1.0:
            log_probs.mul_(self.prob_power)
        return log_probs.exp_()

    def draw(self, weights):
        """One column index per row of ``weights`` [N C] (>= 0, not all 0), with probability
        proportional to its weight."""
        return torch.cat([self._draw(rows) for rows in weights.split(self.ROWS)])

    def _draw(self, weights):
        if self.method == "multinomial":
            return torch.multinomial(weights, 1).squeeze(-1)
        return self._inverse_cdf(weights)

    def _inverse_cdf(self, weights):
        n, c = weights.shape
        size = self.BLOCK
        whole = c - c % size
        block_mass = [weights[:, :whole].view(n, -1, size).sum(-1)]
        if whole < c:
            block_mass.append(weights[:, whole:].sum(-1, keepdim=True))
        block_mass = torch.cat(block_mass, dim=1).double()  # [N blocks]
        cumulative = block_mass.cumsum(-1)
        u = torch.rand(n, 1, dtype=cumulative.dtype, device=weights.device) * cumulative[:, -1:]
        block = search(cumulative, u)
        u -= cumulative.gather(1, block) - block_mass.gather(1, block)  # mass left in the block
        columns = block * size + torch.arange(size, device=weights.device)  # [N size]
        inside = weights.gather(1, columns.clamp(max=c - 1)).double() * (columns < c)
        return (block * size + search(inside.cumsum_(-1), u)).squeeze(-1)

    def keep_mask(self, targets):
        """True where the true target is kept (probability 1 - sample_ratio), per position."""
        return torch.rand(targets.shape, device=targets.device) < 1 - self.sample_ratio


def search(cumulative, u):
    """Per row, the first column whose cumulative mass [M K] exceeds ``u`` [M 1]: a column with
    mass, also where rounding leaves ``u`` at or past the row's total."""
    u = torch.minimum(u, cumulative[:, -1:].nextafter(torch.zeros_like(u)))
    return torch.searchsorted(cumulative, u, right=True)
