"""Convert the ELECRec paper's data files into RecBole atomic files.

An ELECRec file has one line per user, ``user_id item item item ...``, items in time order,
integer ids separated by spaces or tabs (UTF-8 text). It becomes ``DATA_PATH/NAME/NAME.inter``
with ``user_id:token``, ``item_id:token`` and ``timestamp:float`` (the item's position in its
user's line); the ids are kept as tokens, written as plain integers (``007`` and ``7`` are one
item).
"""

import re
import shutil
import tempfile
import urllib.error
import urllib.request
from pathlib import Path

from recbole_elecrec.files import atomic_path, check_writable_dir, read_lines

PAPER_DATASETS = ("Beauty", "Sports_and_Outdoors", "Toys_and_Games", "Yelp")
SOURCE_URL = "https://raw.githubusercontent.com/YChen1993/ELECRec/main/data/{name}.txt"
MIN_ITEMS = 3  # leave-one-out: at least one training, one validation and one test item


NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]*")  # a file name: no path, not hidden
# whitespace within a line other than the separators (U+0085, U+2028, a form feed, ...):
# str.split() would split an id there, and str.splitlines() a user's line
ODD_SPACE = re.compile(r"[^\S \t]")


class PrepareError(ValueError):
    """A data file or source that cannot be turned into an atomic file."""


class DownloadError(PrepareError):
    """A source that could not be downloaded; ``hint`` says what to do without network."""

    def __init__(self, url, reason, hint):
        super().__init__(f"could not download {url} ({reason}); without network, {hint}")
        self.url, self.reason = url, reason


def check_name(name):
    """A dataset name is a plain file name: it must not lead outside ``data_path``."""
    if not NAME.fullmatch(name):
        raise PrepareError(f"dataset name '{name}' must be letters, digits, '_', '.' or '-', "
                           "starting with a letter or digit")


def read_sequences(path):
    """Parse an ELECRec data file into ``[(user, [items...]), ...]``, rejecting malformed input."""
    sequences, seen = [], set()
    for number, line in enumerate(read_lines(path), start=1):
        odd = ODD_SPACE.search(line)
        if odd:
            raise PrepareError(f"{path}, line {number}: character U+{ord(odd.group()):04X} "
                               "(ids are separated by spaces or tabs, lines by newlines)")
        fields = line.split()
        if not fields:
            continue
        for field in fields:
            if not (field.isascii() and field.isdigit()):
                raise PrepareError(f"{path}, line {number}: {field!r} is not an integer id")
        user, *items = [str(int(field)) for field in fields]
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


def write_inter(sequences, path, overwrite=False):
    """Write the atomic file through a temporary file, so a failure leaves no partial file;
    an existing file is replaced only with ``overwrite``."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    try:
        with atomic_path(path, exclusive=not overwrite) as partial:
            with open(partial, "w", encoding="utf-8") as f:
                f.write("user_id:token\titem_id:token\ttimestamp:float\n")
                for user, items in sequences:
                    f.writelines(f"{user}\t{item}\t{position}\n"
                                 for position, item in enumerate(items))
    except FileExistsError:
        raise PrepareError(_exists(path)) from None


def _exists(path):
    return f"{path} exists; pass --overwrite to replace it"


def _fetch(source, name, workdir):
    """Return a local path for ``source`` (a path or URL; None = the authors' repository)."""
    if source is not None and "://" not in str(source):
        if Path(source).is_dir():
            raise PrepareError(f"source {source} is a directory, not a file")
        if not Path(source).is_file():
            raise PrepareError(f"source file not found: {source}")
        return Path(source)
    url = source or SOURCE_URL.format(name=name)
    target = Path(workdir) / f"{name}.txt"
    try:
        with urllib.request.urlopen(url, timeout=60) as response, open(target, "wb") as f:
            shutil.copyfileobj(response, f)
    except ValueError as error:  # urllib's word for a malformed URL
        raise PrepareError(f"source {url} is not a valid URL ({error})") from None
    except (urllib.error.URLError, OSError) as error:
        raise DownloadError(url, getattr(error, "reason", error),
                            f"pass --source PATH to a local copy of {name}.txt") from None
    return target


def prepare(name, source=None, data_path="dataset", overwrite=False):
    """Create ``data_path/name/name.inter`` from an ELECRec file; returns its path and stats.
    An existing file is replaced only with ``overwrite``."""
    check_name(name)
    if source is None and name not in PAPER_DATASETS:
        raise PrepareError(
            f"unknown dataset '{name}': without --source only {', '.join(PAPER_DATASETS)} "
            "can be downloaded"
        )
    target = Path(data_path) / name / f"{name}.inter"
    if target.exists() and not overwrite:  # before a download
        raise PrepareError(_exists(target))
    check_writable_dir(target.parent, "data_path")
    with tempfile.TemporaryDirectory() as workdir:
        sequences = read_sequences(_fetch(source, name, workdir))
    write_inter(sequences, target, overwrite)
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
        try:
            prepare(name, data_path=dataset_dir.parent)
        except DownloadError as error:
            raise DownloadError(
                error.url, error.reason,
                f"prepare it from a local copy: python -m recbole_elecrec.data prepare {name} "
                f"--source PATH --data_path {dataset_dir.parent}"
            ) from None
