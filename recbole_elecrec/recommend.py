"""Top-K recommendations for new item sequences from a saved model.

    python -m recbole_elecrec.recommend --checkpoint=saved/ELECRec-X.pth --items "12 7 33" --k 10
    python -m recbole_elecrec.recommend --checkpoint=saved/ELECRec-X.pth --input sequences.txt

Works for any sequential model saved by RecBole or this package. Input sequences hold raw item
tokens (as in the dataset's atomic file), oldest first; output is one JSON line per sequence,
printed once every sequence has been answered (a bad one prints nothing).
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
from recbole_elecrec.quick_start import load_data_and_model


class Recommender:
    """A trained sequential model with its dataset's token maps."""

    def __init__(self, model, dataset, config):
        if config["MODEL_TYPE"] != ModelType.SEQUENTIAL:
            raise ValueError(f"{config['model']} is not a sequential model")
        self.model = model.eval()
        self.config = config
        self.iid_field = dataset.iid_field
        self.tokens = dataset.field2id_token[self.iid_field]
        self.token_ids = dataset.field2token_id[self.iid_field]
        self.check_reads_no_user()

    def check_reads_no_user(self):
        """Score a one-item sequence once: a model that also reads the user (FPMC, Caser: a user
        embedding) cannot answer the sequences this command is given, which have no user."""
        try:
            self.recommend([self.tokens[1]], k=1)
        except KeyError as error:
            user = self.config["USER_ID_FIELD"]
            if error.args[:1] != (user,):
                raise
            raise ValueError(f"{self.config['model']} scores a sequence with its user's "
                             f"embedding (it reads {user}), and a sequence given here has no "
                             "user: use a model that scores the items alone, such as ELECRec, "
                             "SASRec or GRU4Rec") from None

    @classmethod
    def from_checkpoint(cls, path):
        config, model, dataset, *_ = load_data_and_model(path)
        return cls(model, dataset, config)

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

    @torch.no_grad()
    def recommend(self, items, k=10, exclude_seen=True, skip_unknown=False):
        """Top-``k`` ``(token, score)`` pairs after the sequence ``items`` (oldest first)."""
        ids = [self.token_ids[token] for token in self.known_items(items, skip_unknown)]
        max_len = self.config["MAX_ITEM_LIST_LENGTH"]
        window = ids[-max_len:]
        seq = torch.zeros(1, max_len, dtype=torch.long)
        seq[0, : len(window)] = torch.tensor(window)
        interaction = Interaction({
            self.iid_field + self.config["LIST_SUFFIX"]: seq,
            self.config["ITEM_LIST_LENGTH_FIELD"]: torch.tensor([len(window)]),
        }).to(self.config["device"])
        scores = self.model.full_sort_predict(interaction).view(-1).cpu()
        scores[0] = -torch.inf  # padding
        if exclude_seen:
            scores[torch.tensor(ids)] = -torch.inf
        k = min(k, int(torch.isfinite(scores).sum()))
        top = torch.topk(scores, k)
        return [(self.tokens[i], float(s)) for s, i in zip(top.values, top.indices.tolist())]


def read_input(path):
    """``--input``: one item sequence per non-empty line of a UTF-8 text file, or one clear
    error."""
    sequences = [line.split() for line in read_lines(path, "--input") if line.strip()]
    if not sequences:
        raise ValueError(f"--input {path} holds no sequence")
    return sequences


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
    parser.add_argument("--k", type=int, default=10, help="how many items (default 10)")
    parser.add_argument("--include_seen", action="store_true",
                        help="allow items of the sequence itself")
    parser.add_argument("--skip_unknown", action="store_true",
                        help="skip unknown item tokens with a warning instead of failing")
    args = parser.parse_args(argv)
    quiet_recbole_warnings()
    warnings.formatwarning = lambda message, *_args, **_kwargs: f"warning: {message}\n"
    if args.k <= 0:
        raise ValueError(f"--k must be positive, got {args.k}")
    sequences = read_input(args.input) if args.input else [args.items.split()]
    recommender = Recommender.from_checkpoint(args.checkpoint)
    print("\n".join(answer(recommender, sequences, args)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
