"""Top-K recommendations from a saved model, for new item sequences or the dataset's users.

    python -m recbole_elecrec.recommend --checkpoint=saved/ELECRec-X.pth --items "12 7 33" --k 10
    python -m recbole_elecrec.recommend --checkpoint=saved/ELECRec-X.pth --input sequences.txt
    python -m recbole_elecrec.recommend --checkpoint=saved/ELECRec-X.pth --user 196 42

Works for any sequential model saved by RecBole or this package. Input sequences hold raw item
tokens (as in the dataset's atomic file), oldest first; a user is a raw user token of the data the
model was trained on. Output is one JSON line per sequence or user, printed once every one has
been answered (a bad one prints nothing).
"""

import argparse
import json
import sys
import warnings

import torch
from recbole.data.interaction import Interaction
from recbole.utils import ModelType

from recbole_elecrec.errors import command, quiet_recbole_warnings
from recbole_elecrec.files import read_lines
from recbole_elecrec.protocols import HISTORY_MASKS, mask
from recbole_elecrec.quick_start import load_data_and_model


class Recommender:
    """A trained sequential model with its dataset's token maps and, for ``recommend_user``, the
    test split's rows (RecBole's ``test_data``)."""

    def __init__(self, model, dataset, config, test_data=None):
        if config["MODEL_TYPE"] != ModelType.SEQUENTIAL:
            raise ValueError(f"{config['model']} is not a sequential model")
        self.model = model.eval()
        self.config = config
        self.iid_field = dataset.iid_field
        self.tokens = dataset.field2id_token[self.iid_field]
        self.token_ids = dataset.field2token_id[self.iid_field]
        self.user_ids = dataset.field2token_id[dataset.uid_field]
        self.test_rows = test_data._dataset if test_data is not None else None
        self.reads_user = self._reads_user()

    def _reads_user(self):
        """Whether the model also reads the user (FPMC, Caser: a user embedding): scored once on
        a one-item sequence, which has no user."""
        try:
            self._scores(self._sequence([1]))
        except KeyError as error:
            if error.args[:1] != (self.config["USER_ID_FIELD"],):
                raise
            return True
        return False

    @classmethod
    def from_checkpoint(cls, path):
        config, model, dataset, _, _, test_data = load_data_and_model(path)
        return cls(model, dataset, config, test_data)

    def known_items(self, items, skip_unknown=False):
        """The tokens of ``items`` the model knows; an unknown one is an error, or skipped."""
        known = []
        for token in map(str, items):
            if self.token_ids.get(token, 0) != 0:
                known.append(token)
            elif skip_unknown:
                warnings.warn(f"skipping unknown item token '{token}'")
            else:
                raise ValueError(f"unknown item token '{token}' (not in the training data)")
        if not known:
            raise ValueError("the sequence holds no known item")
        return known

    def _sequence(self, ids):
        """The model's input row for the item ids ``ids`` (oldest first; the last
        MAX_ITEM_LIST_LENGTH of them)."""
        max_len = self.config["MAX_ITEM_LIST_LENGTH"]
        window = ids[-max_len:]
        seq = torch.zeros(1, max_len, dtype=torch.long)
        seq[0, : len(window)] = torch.tensor(window)
        return Interaction({self.iid_field + self.config["LIST_SUFFIX"]: seq,
                            self.config["ITEM_LIST_LENGTH_FIELD"]: torch.tensor([len(window)])})

    @torch.no_grad()
    def _scores(self, interaction):
        """Every item's score [1, items] for one row."""
        interaction = interaction.to(self.config["device"])
        return self.model.full_sort_predict(interaction).view(1, -1).cpu()

    def _top(self, scores, k):
        """Top-``k`` ``(token, score)`` pairs of ``scores`` [items]; the padding item and items
        scored -inf never among them."""
        scores[0] = -torch.inf
        top = torch.topk(scores, min(k, int(torch.isfinite(scores).sum())))
        return [(self.tokens[i], float(s)) for s, i in zip(top.values, top.indices.tolist())]

    def recommend(self, items, k=10, exclude_seen=True, skip_unknown=False):
        """Top-``k`` ``(token, score)`` pairs after the sequence ``items`` (oldest first)."""
        if self.reads_user:
            user = self.config["USER_ID_FIELD"]
            raise ValueError(f"{self.config['model']} scores a sequence with its user's "
                             f"embedding (it reads {user}), and a sequence given here has no "
                             "user: give a user of the data (--user), or use a model that scores "
                             "the items alone, such as ELECRec, SASRec or GRU4Rec")
        ids = [self.token_ids[token] for token in self.known_items(items, skip_unknown)]
        scores = self._scores(self._sequence(ids))[0]
        if exclude_seen:
            scores[torch.tensor(ids)] = -torch.inf
        return self._top(scores, k)

    def user_row(self, user):
        """The test split's row of the raw user token ``user``: the history the test scores the
        user on (every interaction before the held-out one, as RecBole's ``case_study`` reads
        it); the first, where the split holds several."""
        if self.test_rows is None:
            raise ValueError("this Recommender has no test data: build it with from_checkpoint")
        uid = self.user_ids.get(str(user), 0)
        if uid == 0:
            raise ValueError(f"unknown user token '{user}' (not in the training data)")
        rows = (self.test_rows.inter_feat[self.test_rows.uid_field] == uid).nonzero().view(-1)
        if not len(rows):
            raise ValueError(f"user '{user}' has no row in the test split")
        return self.test_rows[rows[:1]]

    def user_history(self, user):
        """The raw item tokens the model reads for ``user`` (``user_row``), oldest first."""
        row = self.user_row(user)
        length = int(row[self.config["ITEM_LIST_LENGTH_FIELD"]][0])
        ids = row[self.iid_field + self.config["LIST_SUFFIX"]][0, :length].tolist()
        return [self.tokens[i] for i in ids]

    def recommend_user(self, user, k=10, history_mask=None):
        """Top-``k`` ``(token, score)`` pairs for the dataset's user ``user`` (a raw token) after
        its test-time history (``user_row``), ranked as the test ranks it: the user's history
        masked by ``history_mask`` (default: the model's own protocol; under ``reference``
        history items score 0, under ``none`` they rank like any other). The padding item, which
        ``reference`` ranks, is never recommended."""
        protocol = history_mask or self.config["history_mask"]
        if protocol not in HISTORY_MASKS:
            raise ValueError(f"history_mask must be one of {list(HISTORY_MASKS)}, "
                             f"got '{protocol}'")
        row = self.user_row(user)
        scores = self._scores(row)
        if protocol != "none":
            if not hasattr(self.test_rows, "history_index"):
                raise ValueError(f"history_mask '{protocol}' needs a sequential model without a "
                                 f"dataset class of its own; {self.config['model']} has one")
            mask(scores, self.test_rows.history_index(row), protocol)
        return self._top(scores[0], k)


def read_input(path):
    """``--input``: one item sequence per non-empty line of a UTF-8 text file, or one clear
    error."""
    sequences = [line.split() for line in read_lines(path, "--input") if line.strip()]
    if not sequences:
        raise ValueError(f"--input {path} holds no sequence")
    return sequences


def answer_users(recommender, users, args):
    """The output lines for ``--user``, all of them or the error of the first bad user."""
    lines = []
    for user in users:
        top = recommender.recommend_user(user, args.k, args.history_mask)
        lines.append(json.dumps({"user": user, "items": recommender.user_history(user),
                                 "recommendations": [{"item": t, "score": s} for t, s in top]}))
    return lines


def answer(recommender, sequences, args):
    """The output lines, all of them or an error naming the first bad sequence."""
    lines = []
    for number, items in enumerate(sequences, start=1):
        try:
            items = recommender.known_items(items, args.skip_unknown)
            top = recommender.recommend(items, args.k, not args.include_seen)
        except ValueError as error:
            raise ValueError(f"sequence {number}: {error}") from None
        lines.append(json.dumps({"items": items,
                                 "recommendations": [{"item": t, "score": s} for t, s in top]}))
    return lines


@command
def main(argv=None):
    parser = argparse.ArgumentParser(prog="python -m recbole_elecrec.recommend",
                                     description="Top-K recommendations from a saved model.")
    parser.add_argument("--checkpoint", required=True, help="a RecBole checkpoint (.pth)")
    source = parser.add_mutually_exclusive_group(required=True)
    source.add_argument("--items", help="one sequence: item tokens separated by spaces")
    source.add_argument("--input", help="a file with one sequence per line")
    source.add_argument("--user", nargs="+", metavar="TOKEN",
                        help="users of the training data: each one's top K after its "
                             "test-time history")
    parser.add_argument("--k", type=int, default=10, help="how many items (default 10)")
    parser.add_argument("--include_seen", action="store_true",
                        help="allow items of the sequence itself (--items, --input)")
    parser.add_argument("--history_mask", choices=HISTORY_MASKS,
                        help="--user: mask the user's history so (default: the model's protocol)")
    parser.add_argument("--skip_unknown", action="store_true",
                        help="skip unknown item tokens with a warning instead of failing")
    args = parser.parse_args(argv)
    quiet_recbole_warnings()
    warnings.formatwarning = lambda message, *_args, **_kwargs: f"warning: {message}\n"
    if args.k <= 0:
        raise ValueError(f"--k must be positive, got {args.k}")
    if args.user and (args.include_seen or args.skip_unknown):
        raise ValueError("--include_seen and --skip_unknown are for sequences; with --user, "
                         "--history_mask says which history items may be recommended")
    if args.history_mask and not args.user:
        raise ValueError("--history_mask is for --user; with sequences, --include_seen")
    if not args.user:  # a bad file fails before the checkpoint loads
        sequences = read_input(args.input) if args.input else [args.items.split()]
    recommender = Recommender.from_checkpoint(args.checkpoint)
    lines = answer_users(recommender, args.user, args) if args.user else \
        answer(recommender, sequences, args)
    print("\n".join(lines))
    return 0


if __name__ == "__main__":
    sys.exit(main())
