"""A .inter file read once, in chunks, with its rows checked on the way.

RecBole reads the file with pandas' python parser, every token as a Python string of its own
(tens of bytes each), after ``inter_file.check_rows`` has read it once already with ``csv``.
Here pandas' C parser reads it in chunks; a token column is kept as category codes with each
distinct token stored once, and each chunk's rows pass vectorized tests. Only when a chunk
fails one does ``check_rows`` read the file for the exact line and wording of the problem.
"""

import time
from pathlib import Path

import numpy as np
import pandas as pd
from recbole.utils import FeatureSource, FeatureType
from tqdm import tqdm

from recbole_elecrec.data.inter_file import check_rows, read_header

CHUNK_ROWS = 1_000_000
PROGRESS_SECONDS = 5  # a read that takes longer shows a progress bar (``show_progress``)


class TokenCodes:
    """One token column: its distinct tokens in order of first appearance, its rows' codes."""

    def __init__(self):
        self.ids, self.codes = {}, []

    def add(self, values):
        """Code one chunk's tokens; returns its distinct tokens (missing ones left out)."""
        local, uniques = pd.factorize(values)
        known = np.array([self.ids.setdefault(token, len(self.ids)) for token in uniques],
                         dtype=np.int32)
        self.codes.append(np.where(local < 0, -1, known[local.clip(0)] if len(known) else -1)
                          .astype(np.int32))
        return uniques

    def column(self):
        codes = np.concatenate(self.codes) if self.codes else np.zeros(0, np.int32)
        return pd.Categorical.from_codes(codes, categories=pd.Index(list(self.ids), dtype=object))


def read_inter(dataset, path):
    """``path`` as RecBole's ``_load_feat`` returns it, token columns categorical, its fields
    registered on ``dataset``, what was read in its ``read_note``; None where this reader does
    not apply (sequence columns, a separator of several characters, no column to load):
    RecBole's reader does then."""
    config = dataset.config
    separator, encoding = config["field_separator"], config["encoding"]
    header = read_header(path, separator, encoding)
    load_col, unload_col = dataset._get_load_and_unload_col(FeatureSource.INTERACTION)
    loaded = [name for name in header if (load_col is None or name in load_col)
              and not (unload_col and name in unload_col)]
    if len(separator) != 1 or not loaded or set(header.values()) - {"token", "float"}:
        return None
    for name in loaded:
        dataset.set_field_property(name, FeatureType(header[name]), FeatureSource.INTERACTION, 1)
        if header[name] == "float":
            dataset.field2bucketnum[name] = 2
    checked = [config[key] for key in ("USER_ID_FIELD", "ITEM_ID_FIELD", "TIME_FIELD")
               if config[key] in loaded]
    tokens = {name: TokenCodes() for name in loaded if header[name] == "token"}
    floats = {name: [] for name in loaded if header[name] == "float"}
    start = time.monotonic()
    rows, suspect = 0, False
    # on stderr, as RecBole's bars: a run's log does not exist yet while its data loads
    progress = tqdm(total=Path(path).stat().st_size, unit="B", unit_scale=True,
                    desc=f"reading {Path(path).name}", delay=PROGRESS_SECONDS,
                    disable=not config["show_progress"])
    with open(path, "rb") as handle, progress:
        try:
            chunks = pd.read_csv(
                handle, sep=separator, header=0, names=list(header), encoding=encoding,
                dtype={name: np.float64 if kind == "float" else str
                       for name, kind in header.items()},
                float_precision="round_trip", chunksize=CHUNK_ROWS)
            for chunk in chunks:
                suspect = suspect or chunk_suspect(chunk, header, checked)
                for name, codes in tokens.items():
                    distinct = codes.add(chunk[name].to_numpy())
                    suspect = suspect or (name in checked and spaced(distinct))
                for name, parts in floats.items():
                    parts.append(chunk[name].to_numpy())
                rows += len(chunk)
                progress.update(handle.tell() - progress.n)
        except (ValueError, UnicodeDecodeError) as error:  # pandas' ParserError is a ValueError
            check_rows(config, path, header, loaded)  # raises with the line and the problem
            raise ValueError(f"{path}: {str(error).splitlines()[0]}") from None
    if suspect:
        check_rows(config, path, header, loaded)
    dataset.read_note = (f"{Path(path).name}: {rows:,} rows, columns {', '.join(loaded)} "
                         f"(load_col), read in {time.monotonic() - start:.1f} s")
    frame = {name: tokens[name].column() if name in tokens
             else np.concatenate(floats[name] or [np.zeros(0)]) for name in loaded}
    return pd.DataFrame(frame, columns=loaded)


def chunk_suspect(chunk, header, checked):
    """Whether a chunk may hold a row ``check_rows`` refuses: a missing id or time, a time
    that is not finite, or a missing last field (a row with fields too few)."""
    last = list(header)[-1]
    for name in dict.fromkeys(checked + [last]):
        values = chunk[name]
        if values.isna().any():
            return True
        if header[name] == "float" and name in checked and not np.isfinite(values).all():
            return True
    return False


def spaced(tokens):
    """Whether a token has spaces around it (``check_rows`` refuses those)."""
    strings = pd.Series(tokens, dtype=object)
    return bool((strings.str.strip() != strings).any())


def remap_categorical(remap_list):
    """RecBole's ``_remap`` of token columns (each id its token's rank of first appearance,
    over the columns in order, 0 for [PAD]) for lists holding a categorical column; returns
    ``(ids per column, tokens by id)``, or None where a column is a token sequence."""
    if any(ftype != FeatureType.TOKEN for _, _, ftype in remap_list):
        return None
    seen, local = pd.Index([], dtype=object), []
    for feat, field, _ in remap_list:
        values = feat[field]
        if isinstance(values.dtype, pd.CategoricalDtype):
            codes = values.cat.codes.to_numpy()
            order, used = pd.factorize(pd.arrays.IntegerArray(codes, codes < 0))
            uniques = values.cat.categories[used.to_numpy(dtype=np.int64)]
        else:
            order, uniques = pd.factorize(values.to_numpy())
        known = seen.get_indexer(uniques)
        new = known < 0
        known[new] = len(seen) + np.arange(new.sum())
        seen = seen.append(pd.Index(uniques[new], dtype=object))
        local.append(np.where(order < 0, 0, known[order.clip(0)] + 1))
    return local, np.array(["[PAD]"] + list(seen))
