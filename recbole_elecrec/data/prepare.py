"""Convert the ELECRec paper's data files into RecBole atomic files.

An ELECRec file has one line per user, ``user_id item item item ...``, items in time order,
integer ids. It becomes ``DATA_PATH/NAME/NAME.inter`` with ``user_id:token``, ``item_id:token``
and ``timestamp:float`` (the item's position in its user's line), raw ids kept as tokens.
"""

import os
import shutil
import tempfile
import urllib.error
import urllib.request
from pathlib import Path

PAPER_DATASETS = ("Beauty", "Sports_and_Outdoors", "Toys_and_Games", "Yelp")
SOURCE_URL = "https://raw.githubusercontent.com/YChen1993/ELECRec/main/data/{name}.txt"
MIN_ITEMS = 3  # leave-one-out: at least one training, one validation and one test item


class PrepareError(ValueError):
    """A data file or source that cannot be turned into an atomic file."""


def read_sequences(path):
    """Parse an ELECRec data file into ``[(user, [items...]), ...]``, rejecting malformed input."""
    sequences, seen = [], set()
    with open(path, encoding="utf-8") as f:
        for number, line in enumerate(f, start=1):
            fields = line.split()
            if not fields:
                continue
            for field in fields:
                if not field.isdigit():
                    raise PrepareError(f"{path}, line {number}: '{field}' is not an integer id")
            user, items = fields[0], fields[1:]
            if user in seen:
                raise PrepareError(f"{path}, line {number}: user {user} appears twice")
            if len(items) < MIN_ITEMS:
                raise PrepareError(
                    f"{path}, line {number}: user {user} has {len(items)} items; leave-one-out "
                    f"needs at least {MIN_ITEMS} (train, validation, test)"
                )
            seen.add(user)
            sequences.append((user, items))
    if not sequences:
        raise PrepareError(f"{path}: no user lines (expected 'user_id item item ...')")
    return sequences


def write_inter(sequences, path):
    """Write the atomic file through a temporary file, so a failure leaves no partial file."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.NamedTemporaryFile("w", dir=path.parent, delete=False, suffix=".tmp") as f:
        f.write("user_id:token\titem_id:token\ttimestamp:float\n")
        for user, items in sequences:
            f.writelines(f"{user}\t{item}\t{position}\n" for position, item in enumerate(items))
    os.replace(f.name, path)


def _fetch(source, name, workdir):
    """Return a local path for ``source`` (a path or URL; None = the authors' repository)."""
    if source is not None and "://" not in str(source):
        if not Path(source).is_file():
            raise PrepareError(f"source file not found: {source}")
        return Path(source)
    url = source or SOURCE_URL.format(name=name)
    target = Path(workdir) / f"{name}.txt"
    try:
        with urllib.request.urlopen(url, timeout=60) as response, open(target, "wb") as f:
            shutil.copyfileobj(response, f)
    except (urllib.error.URLError, OSError) as error:
        raise PrepareError(
            f"could not download {url} ({getattr(error, 'reason', error)}); without network, "
            f"pass --source PATH to a local copy of {name}.txt"
        ) from None
    return target


def prepare(name, source=None, data_path="dataset"):
    """Create ``data_path/name/name.inter`` from an ELECRec file; returns its path and stats."""
    if source is None and name not in PAPER_DATASETS:
        raise PrepareError(
            f"unknown dataset '{name}': without --source only {', '.join(PAPER_DATASETS)} "
            "can be downloaded"
        )
    with tempfile.TemporaryDirectory() as workdir:
        sequences = read_sequences(_fetch(source, name, workdir))
    target = Path(data_path) / name / f"{name}.inter"
    write_inter(sequences, target)
    stats = {
        "users": len(sequences),
        "items": len({item for _, items in sequences for item in items}),
        "interactions": sum(len(items) for _, items in sequences),
    }
    return target, stats


def ensure_prepared(name, dataset_dir):
    """Prepare a paper dataset into ``dataset_dir`` (RecBole's ``data_path/NAME``) if missing."""
    dataset_dir = Path(dataset_dir)
    if name in PAPER_DATASETS and not (dataset_dir / f"{name}.inter").is_file():
        prepare(name, data_path=dataset_dir.parent)
