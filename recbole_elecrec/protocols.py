"""Every full-ranking protocol from one set of scores, and the check for a history-first ranking.

The protocol alone can move a model's figures several times over (docs/studies.md, Yelp): the
paper's (``reference``) scores history items 0, so a model whose scores are mostly below 0 ranks
each user's history first and hits only the targets that repeat a history item.
"""

import torch
from recbole.evaluator.collector import Collector, DataStruct

HISTORY_MASKS = ("none", "exclude", "reference")
# above this share of users ranked history-first under ``reference``, its figures measure the
# mask more than the model: the warning points to ``exclude`` (a 1-in-10 user share is far above
# what a model that ranks new items shows: 0 for the authors' Beauty model)
HISTORY_FIRST_WARNING = 0.1


class ProtocolCollector(Collector):
    """RecBole's Collector that collects every protocol's ``rec.topk`` from one set of scores,
    and the per-user figures of the history-first check.

    The protocols differ only at the history and the padding item 0. One top-k of the scores
    with both at -inf (``exclude``'s ranking) holds every protocol's top K once the history's
    and the padding's own scores (``none``), or the history at 0 and the padding's own score
    (``reference``), are added to it: small top-ks of [users, K + the longest history]. This
    costs less than RecBole's collection of one protocol, which builds an [users, items] matrix
    of the positives. The configured protocol's figures go where RecBole's would; only the order
    of tied scores may differ from RecBole's.
    """

    enabled = False  # until ``start``: RecBole's own collection

    def start(self, enabled):
        """Begin an evaluation; ``enabled``: whether ``collect_protocols`` will see its batches.
        Returns whether it will (only RecBole's ranking metrics, which read rec.topk alone):
        then it is the one call that collects each batch, and RecBole's ``eval_batch_collect``
        collects nothing."""
        self.protocol = self.config["history_mask"]
        self.k = max(self.config["topk"])
        self.enabled = enabled and self.register.need("rec.topk") and not any(
            self.register.need(key) for key in ("rec.meanrank", "rec.score", "rec.items",
                                                 "data.label"))
        self.structs = {p: DataStruct() for p in HISTORY_MASKS if p != self.protocol}
        self.history_first, self.negative = [], []
        return self.enabled

    def eval_batch_collect(self, scores_tensor, interaction, positive_u, positive_i):
        if not self.enabled:
            super().eval_batch_collect(scores_tensor, interaction, positive_u, positive_i)

    def collect_protocols(self, scores, history_index, positive_u, positive_i):
        """Collect every protocol of one batch from a model's raw ``scores`` [users, items];
        returns them masked by the configured protocol (in place): ``none`` never ranks the
        padding item 0, ``exclude`` also scores the history -inf, ``reference`` (the paper code)
        scores the history 0 and ranks the padding item like any other.

        Beside ``scores``, memory grows with the history and the top-k only: history
        membership is looked up in the sorted (row, item) keys of ``history_index``."""
        device, (n_rows, n_items) = scores.device, scores.shape
        rows, items = (t.to(device) for t in history_index)
        # each row's distinct history items, left-aligned in [rows, longest history]
        keys = torch.unique(rows * n_items + items)
        h_rows, h_items = keys // n_items, keys % n_items
        lengths = torch.bincount(h_rows, minlength=n_rows)
        column = torch.arange(len(keys), device=device) - (lengths.cumsum(0) - lengths)[h_rows]
        longest = int(lengths.max()) if len(keys) else 0
        own_items = torch.zeros(n_rows, longest, dtype=torch.long, device=device)
        own_items[h_rows, column] = h_items
        own_scores = torch.full((n_rows, longest), -torch.inf, device=device)
        own_scores[h_rows, column] = scores[h_rows, h_items]
        own_zeros = torch.full((n_rows, longest), -torch.inf, device=device)
        own_zeros[h_rows, column] = 0.0
        padding = scores[:, :1].clone()
        self.negative.append(negative_share(scores).cpu())

        k = min(self.k, n_items)
        scores[:, 0] = -torch.inf  # exclude's ranking, in place
        scores[h_rows, h_items] = -torch.inf
        values, index = scores.topk(k, dim=1)
        zero = torch.zeros_like(padding, dtype=torch.long)
        pool = {"none": (torch.cat((values, own_scores), 1), torch.cat((index, own_items), 1)),
                "reference": (torch.cat((values, padding, own_zeros), 1),
                              torch.cat((index, zero, own_items), 1))}
        top = {p: i.gather(1, v.topk(k, dim=1).indices) for p, (v, i) in pool.items()}
        top["exclude"] = index

        positive_u, positive_i = positive_u.to(device), positive_i.to(device)
        positives = torch.bincount(positive_u, minlength=n_rows).int()[:, None]
        for protocol in HISTORY_MASKS:
            hits = torch.zeros(n_rows, k, dtype=torch.int, device=device)
            hits.index_put_((positive_u,), (top[protocol][positive_u] == positive_i[:, None]).int(),
                            accumulate=True)
            struct = self.data_struct if protocol == self.protocol else self.structs[protocol]
            struct.update_tensor("rec.topk", torch.cat((hits, positives), 1))
        # history first: the first min(K, history length) ranks are all history items
        leading = in_keys(keys, top[self.protocol], n_items).int().cumprod(1).sum(1)
        wanted = lengths.clamp(max=k)
        self.history_first.append(((leading >= wanted) & (wanted > 0)).float().cpu())
        if self.protocol == "none":  # from exclude's ranking back to the configured one
            scores[h_rows, h_items] = own_scores[h_rows, column]
        elif self.protocol == "reference":
            scores[:, :1] = padding
            scores[h_rows, h_items] = 0.0
        return scores

    def results(self, evaluator, gather):
        """({protocol: metrics} of the other protocols, the check); ``gather`` joins a per-user
        tensor over every rank (the identity in one process)."""
        by_protocol = {}
        for protocol, struct in self.structs.items():
            struct["rec.topk"] = struct["rec.topk"].cpu()
            by_protocol[protocol] = dict(evaluator.evaluate(struct))
        history_first = gather(torch.cat(self.history_first))
        negative = gather(torch.cat(self.negative))
        check = {"protocol": self.protocol, "topk": self.k,
                 "history_first_share": round(history_first.mean().item(), 4),
                 "negative_score_share": round(negative.mean().item(), 4)}
        return by_protocol, check


def in_keys(keys, index, n_items):
    """Whether each (row, ``index[row, j]``) pair is among the sorted ``row * n_items + item``
    ``keys``: a [rows, j] mask without a [rows, items] one."""
    if not len(keys):
        return torch.zeros_like(index, dtype=torch.bool)
    rows = torch.arange(len(index), device=index.device)[:, None]
    query = rows * n_items + index
    found = torch.searchsorted(keys, query).clamp(max=len(keys) - 1)
    return keys[found] == query


def negative_share(scores, cells=2 ** 22):
    """Each row's share of real items (1 on) scored below 0, counted over blocks of rows so
    that the comparison never holds more than ``cells`` booleans."""
    block = max(1, cells // max(1, scores.size(1)))
    # whole rows summed as int32, less item 0: a third faster than summing the [:, 1:] slice,
    # whose booleans torch copies into int64 first
    counts = torch.cat([(part < 0).sum(1, dtype=torch.int32) - (part[:, 0] < 0).int()
                        for part in scores.split(block)])
    return counts.float() / (scores.size(1) - 1)


def mask(scores, history_index, protocol):
    """``scores`` [users, items] masked by ``protocol``, in place (see ``collect_protocols``)."""
    if protocol != "reference":
        scores[:, 0] = -torch.inf
    if protocol != "none":
        scores[history_index] = 0.0 if protocol == "reference" else -torch.inf
    return scores


def history_first_warning(check):
    """One log line when the configured protocol is ``reference`` and it ranked the history first
    for a large share of users (HISTORY_FIRST_WARNING); None otherwise."""
    if check is None or check["protocol"] != "reference" \
            or check["history_first_share"] <= HISTORY_FIRST_WARNING:
        return None
    return (f"history_mask 'reference' ranked the user's history first (top "
            f"{check['topk']}) for {check['history_first_share']:.0%} of users, with "
            f"{check['negative_score_share']:.0%} of item scores below 0: its figures count "
            f"repeats of history items, not new items; read the 'exclude' figures "
            f"(test_by_protocol) instead")
