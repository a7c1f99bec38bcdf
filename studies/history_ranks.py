"""What the paper's protocol (history items score 0) gives a model that ranks history first.

    python studies/history_ranks.py Yelp [--data_path dataset] [--checkpoint MODEL.pth]

Without a model: the figures of a ranking that puts every item of the user's history first (all
tied at score 0) and every other item below, the ranking the paper's protocol gives any model
whose scores are all negative. Only targets that repeat a history item can be hit; the order among
the tied history items decides where, so each figure is given for the target first among them,
for a random order (expected value) and for the target last. Both splits: these are figures of
the data, not of a model.

With ``--checkpoint``, on the validation split only: the share of the model's item scores below 0
and its figures under the three protocols (``none``: nothing masked; ``exclude``: history items
score -inf; ``reference``: they score 0, ties in random order), for the network that ranks and,
for ELECRec, also for its generator. The last line is a JSON object of the figures.
"""

import argparse
import json
import sys
from contextlib import contextmanager
from pathlib import Path

import pandas as pd
import torch

KS = (5, 10, 20)
NAMES = [f"{metric}@{k}" for metric in ("hit", "ndcg") for k in KS]
DISCOUNT = 1 / torch.log2(torch.arange(2, max(KS) + 2, dtype=torch.double))  # rank 1..max(KS)


def tie_metrics(greater, ties, hit):
    """HR@K and NDCG@K for targets ranked below ``greater`` items and tied with ``ties`` more
    [U each]; users with ``hit`` False miss. Returns {order: {metric: value}} for the target
    first, at a random place (expected value) and last among its ties."""
    greater, ties = greater.double(), ties.double()
    figures = {}
    for order in ("first", "random", "last"):
        values = {}
        for k in KS:
            low = greater + 1 if order != "last" else greater + ties + 1  # best possible rank
            high = greater + 1 if order == "first" else greater + ties + 1
            ranks = torch.arange(1, k + 1, dtype=torch.double)  # [K]
            inside = (ranks >= low[:, None]) & (ranks <= high[:, None])  # [U K]
            share = inside.double() / (high - low + 1)[:, None]  # each rank equally likely
            values[f"hit@{k}"] = (share.sum(1) * hit).mean().item()
            values[f"ndcg@{k}"] = ((share * DISCOUNT[:k]).sum(1) * hit).mean().item()
        figures[order] = values
    return figures


def history_only(name, data_path):
    """tie_metrics of the history-first ranking for the validation and test targets."""
    source = Path(data_path) / name / f"{name}.inter"
    if not source.is_file():
        raise ValueError(f"{source} not found (prepare it first: python -m recbole_elecrec.data "
                         f"prepare {name})")
    inter = pd.read_csv(source, sep="\t", dtype=str)
    columns = {c.split(":")[0]: c for c in inter.columns}
    if not {"user_id", "item_id", "timestamp"} <= columns.keys():
        raise ValueError(f"{source} needs user_id, item_id and timestamp columns")
    inter = inter.assign(order=inter[columns["timestamp"]].astype(float))
    sequences = inter.sort_values("order", kind="stable").groupby(columns["user_id"])[
        columns["item_id"]].agg(list)
    result = {}
    for split, cut in (("valid", 2), ("test", 1)):
        hit, ties = [], []
        for items in sequences:
            history = set(items[:-cut])
            hit.append(items[-cut] in history)
            ties.append(len(history) - 1)
        hit = torch.tensor(hit, dtype=torch.double)
        result[split] = {"users": len(hit), "repeats": int(hit.sum()),
                         **tie_metrics(torch.zeros(len(hit)), torch.tensor(ties), hit)}
    return result


@torch.no_grad()
def model_protocols(checkpoint, name):
    """Validation figures of the checkpoint's ranker (and ELECRec's generator) per protocol."""
    from recbole_elecrec.protocols import HISTORY_MASKS, mask
    from recbole_elecrec.quick_start import load_data_and_model

    config, model, _, _, valid_data, _ = load_data_and_model(checkpoint)
    if config["dataset"] != name:
        raise ValueError(f"{checkpoint} was trained on {config['dataset']}, not {name}")
    model.eval()
    networks = {"ranker": model.ranker}
    if config["model"] == "ELECRec":
        networks["generator"] = model.generator
    result = {}
    for label, network in networks.items():
        negative, greater, ties = [], {}, {}
        for interaction, _, positive_u, positive_i in valid_data:
            with ranking_with(model, network):
                scores = model.full_sort_predict(interaction.to(model.device))  # [B n_items]
            # index tensors on the scores' device (RecBole's loader yields them on the CPU)
            history = tuple(t.to(scores.device)
                            for t in valid_data._dataset.history_index(interaction))
            target = torch.zeros(len(scores), dtype=torch.long, device=scores.device)
            target[positive_u.to(scores.device)] = positive_i.to(scores.device)
            negative.append((scores[:, 1:] < 0).double().mean(1).cpu())
            for protocol in HISTORY_MASKS:
                masked = mask(scores.clone(), history, protocol)
                value = masked.gather(1, target[:, None])
                greater.setdefault(protocol, []).append((masked > value).sum(1).cpu())
                ties.setdefault(protocol, []).append(((masked == value).sum(1) - 1).cpu())
        hit = torch.ones(sum(len(n) for n in negative))  # every user has its target ranked
        result[label] = {"negative_share": torch.cat(negative).mean().item(), **{
            p: tie_metrics(torch.cat(greater[p]), torch.cat(ties[p]), hit)["random"]
            for p in greater}}
    return config["model"], result


@contextmanager
def ranking_with(model, network):
    """Let ``network`` (e.g. ELECRec's generator) rank in ``model``'s place for a while."""
    cls = type(model)
    ranker = cls.ranker
    cls.ranker = property(lambda self: network)
    try:
        yield
    finally:
        cls.ranker = ranker


def table(heading, labels, figures):
    """A heading line of NAMES, then one line of figures[label] per label."""
    lines = [f"  {heading:<14}" + "".join(f"{n:>10}" for n in NAMES)]
    lines += [f"  {label:<14}" + "".join(f"{figures[label][n]:>10.4f}" for n in NAMES)
              for label in labels]
    return "\n".join(lines)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("name", help="dataset name, e.g. Yelp")
    parser.add_argument("--data_path", default="dataset", help="where NAME/NAME.inter is")
    parser.add_argument("--checkpoint", help="a saved model of that dataset (.pth)")
    args = parser.parse_args(argv)
    try:
        bounds = history_only(args.name, args.data_path)
        protocols = model_protocols(args.checkpoint, args.name) if args.checkpoint else None
    except (ValueError, FileNotFoundError) as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    print(f"{args.name}: history first (all tied at 0), every other item below")
    for split, figures in bounds.items():
        print(f"{split}: {figures['repeats']} of {figures['users']} targets repeat a history item")
        print(table("target", ("first", "random", "last"), figures))
    summary = {"dataset": args.name, "history_first": bounds}
    if protocols:
        model, result = protocols
        print(f"\n{model} {args.checkpoint}, validation")
        for label, figures in result.items():
            print(f"{label}: {figures['negative_share']:.3f} of item scores below 0")
            print(table("protocol", ("none", "exclude", "reference"), figures))
        summary.update(model=model, checkpoint=str(args.checkpoint), validation=result)
    print(json.dumps(summary))
    return 0


if __name__ == "__main__":
    sys.exit(main())
