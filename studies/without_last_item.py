"""A copy of a prepared dataset with every user's last interaction removed.

    python studies/without_last_item.py Beauty --data_path dataset --out dataset/without_last

Leave-one-out then tests on what was the validation item and validates on the item before it,
and the original test items are never read by anything trained on the copy. seen_inputs.yaml
uses it to ask whether a lead on validation survives on inputs that no network trained on.
"""

import argparse
import sys
from pathlib import Path

import pandas as pd

MIN_ITEMS = 3  # leave-one-out needs a training, a validation and a test item


def without_last_item(name, data_path, out):
    """Write ``out/name/name.inter``; returns (users, interactions) of the copy."""
    source = Path(data_path) / name / f"{name}.inter"
    target = Path(out) / name / f"{name}.inter"
    if not source.is_file():
        raise ValueError(f"{source} not found (prepare it first: python -m recbole_elecrec.data "
                         f"prepare {name})")
    if target.resolve() == source.resolve():
        raise ValueError(f"--out must differ from --data_path: {target} is the source")
    inter = pd.read_csv(source, sep="\t", dtype=str)
    user, time = (next((c for c in inter.columns if c.startswith(f"{field}:")), None)
                  for field in ("user_id", "timestamp"))
    if user is None or time is None:
        raise ValueError(f"{source} needs user_id and timestamp columns, has {list(inter.columns)}")
    order = inter[time].astype(float)
    last = order.groupby(inter[user]).transform("max")
    kept = inter[order < last]
    short = kept.groupby(user).size().lt(MIN_ITEMS).sum()
    if short:
        raise ValueError(f"{short} users of {name} would keep fewer than {MIN_ITEMS} items")
    target.parent.mkdir(parents=True, exist_ok=True)
    kept.to_csv(target, sep="\t", index=False)
    return kept[user].nunique(), len(kept)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("name", help="dataset name, e.g. Beauty")
    parser.add_argument("--data_path", default="dataset", help="where NAME/NAME.inter is")
    parser.add_argument("--out", default="dataset/without_last", help="data_path of the copy")
    args = parser.parse_args(argv)
    try:
        users, interactions = without_last_item(args.name, args.data_path, args.out)
    except ValueError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    print(f"wrote {Path(args.out) / args.name}: {users} users, {interactions} interactions")
    return 0


if __name__ == "__main__":
    sys.exit(main())
