"""Reading a large .inter file into user codes, item codes and float times: this package's reader
against pandas' pyarrow engine and pyarrow's own CSV reader, each read in a process of its own.

    python benchmarks/read.py [--interactions 10000000] [--file PATH] [--data_path /tmp/readbench]
        [--repeats 2] [--seed 0]

The file: ``--file`` (``user_id:token``, ``item_id:token``, ``timestamp:float``, tab-separated),
or a log of about ``--interactions`` rows made as ``scale.py --interactions`` makes it. The
engines, each to the same codes (tokens numbered in order of first appearance, as RecBole's
remap numbers them) and times, which is checked:

- ``c-chunks``: ``reader.read_inter`` as a run calls it (pandas' C parser, chunks of 1M rows,
  token columns coded per chunk, the rows' vectorized checks), on a stand-in for the dataset;
- ``c-chunks-category``: its loop without the checks, the C parser reading token columns as
  categories (a string made for each distinct token of a chunk, not for every row's);
- ``pandas-pyarrow``: ``pd.read_csv(engine="pyarrow")`` of the whole file, then ``pd.factorize``;
- ``pyarrow``: ``pyarrow.csv.read_csv`` with dictionary-encoded token columns, unified to one
  dictionary each;

each with its distinct tokens as Python strings (RecBole's ``field2id_token``); the pyarrow
ones with 1 and with 2 threads (its default is every core). Every process imports the reader
(torch and RecBole with it, as a run has), so their RSS before reading is alike; a process
reports its seconds of reading and its peak RSS (``ru_maxrss``). The engines run in
``--repeats`` rounds, interleaved, so a busy machine slows them alike. It prints a markdown
table and, as its last line, the figures as a JSON object.
"""

import argparse
import json
import os
import resource
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
ENGINES = ("c-chunks", "c-chunks-category", "pandas-pyarrow-1", "pandas-pyarrow-2", "pyarrow-1",
           "pyarrow-2")
COLUMNS = ["user_id", "item_id", "timestamp"]
MB = 2 ** 20


class Dataset:
    """What ``read_inter`` asks of a RecBole dataset: its settings and its field registry."""

    def __init__(self):
        self.config = {"field_separator": "\t", "encoding": "utf-8", "USER_ID_FIELD": "user_id",
                       "ITEM_ID_FIELD": "item_id", "TIME_FIELD": "timestamp",
                       "show_progress": False}
        self.field2bucketnum = {}

    def _get_load_and_unload_col(self, source):
        return None, None

    def set_field_property(self, *args):
        pass


def read_c_chunks(path):
    from recbole_elecrec.data.reader import read_inter

    frame = read_inter(Dataset(), path)
    return ([frame[name].cat.codes.to_numpy() for name in COLUMNS[:2]],
            [frame[name].cat.categories for name in COLUMNS[:2]], frame["timestamp"].to_numpy())


def read_c_category(path):
    import numpy as np
    import pandas as pd
    from recbole_elecrec.data.reader import CHUNK_ROWS, TokenCodes

    tokens, times = {"user_id": TokenCodes(), "item_id": TokenCodes()}, []
    for chunk in pd.read_csv(path, sep="\t", header=0, names=COLUMNS, chunksize=CHUNK_ROWS,
                             dtype={"user_id": "category", "item_id": "category",
                                    "timestamp": np.float64}, float_precision="round_trip"):
        for name, codes in tokens.items():
            codes.add(chunk[name].array)
        times.append(chunk["timestamp"].to_numpy())
    columns = [codes.column() for codes in tokens.values()]
    return ([column.codes for column in columns], [column.categories for column in columns],
            np.concatenate(times))


def read_pandas_pyarrow(path):
    import pandas as pd

    frame = pd.read_csv(path, sep="\t", engine="pyarrow", dtype={
        "user_id:token": str, "item_id:token": str, "timestamp:float": "float64"})
    users, items = pd.factorize(frame["user_id:token"]), pd.factorize(frame["item_id:token"])
    return ([users[0], items[0]], [users[1], items[1]], frame["timestamp:float"].to_numpy())


def read_pyarrow(path, threads):
    import pyarrow as pa
    from pyarrow import csv

    token = pa.dictionary(pa.int32(), pa.string())
    table = csv.read_csv(
        path, read_options=csv.ReadOptions(use_threads=threads > 1, skip_rows=1,
                                           column_names=COLUMNS),
        parse_options=csv.ParseOptions(delimiter="\t"),
        convert_options=csv.ConvertOptions(column_types={"user_id": token, "item_id": token,
                                                         "timestamp": pa.float64()}))
    table = table.unify_dictionaries().combine_chunks()  # one dictionary, one array per column
    columns = [table.column(name).chunk(0) for name in COLUMNS[:2]]
    return ([column.indices.to_numpy() for column in columns],
            [column.dictionary.to_numpy(zero_copy_only=False) for column in columns],
            table.column("timestamp").to_numpy())


def measure(engine, path):
    """One engine's read in this process: its figures as a dict."""
    import recbole_elecrec.data.reader  # noqa: F401  (what every engine's process holds)

    name, _, threads = engine.rpartition("-")
    if "pyarrow" in engine:
        import pyarrow as pa

        pa.set_cpu_count(int(threads))
        pa.set_io_thread_count(int(threads))
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
    start = time.perf_counter()
    if engine == "c-chunks":
        codes, tokens, times = read_c_chunks(path)
    elif engine == "c-chunks-category":
        codes, tokens, times = read_c_category(path)
    elif name == "pandas-pyarrow":
        codes, tokens, times = read_pandas_pyarrow(path)
    else:
        codes, tokens, times = read_pyarrow(path, int(threads))
    seconds = time.perf_counter() - start
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
    return {"engine": engine, "seconds": round(seconds, 2), "rss_before_mb": round(before / MB),
            "peak_rss_mb": round(peak / MB), "rows": len(times),
            "users": len(tokens[0]), "items": len(tokens[1]),
            "code_sums": [int(column.sum()) for column in codes], "time_sum": float(times.sum())}


def run(engine, path):
    """``measure`` in a child process, one thread for numpy and OpenMP."""
    env = {**os.environ, "OMP_NUM_THREADS": "1", "PYTHONPATH": str(HERE.parent)}
    done = subprocess.run([sys.executable, __file__, "--engine", engine, "--file", str(path)],
                          capture_output=True, text=True, env=env, check=False)
    if done.returncode:
        raise RuntimeError(f"{engine}: {done.stderr.strip().splitlines()[-1]}")
    return json.loads(done.stdout.strip().splitlines()[-1])


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--interactions", type=int, default=10_000_000)
    parser.add_argument("--file", type=Path)
    parser.add_argument("--data_path", default="/tmp/readbench")
    parser.add_argument("--repeats", type=int, default=2)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--engine", choices=ENGINES, help=argparse.SUPPRESS)  # a child's
    args = parser.parse_args()
    if args.engine:
        print(json.dumps(measure(args.engine, args.file)))
        return
    path = args.file
    if path is None:
        sys.path.insert(0, str(HERE))
        from scale import make_log

        name = make_log(args.data_path, args.interactions, args.seed)
        path = Path(args.data_path) / name / f"{name}.inter"
    try:
        import pyarrow  # noqa: F401
        engines = ENGINES
    except ImportError:
        engines = [engine for engine in ENGINES if "pyarrow" not in engine]
        print("pyarrow is not installed: only the C parser reads", file=sys.stderr)
    results = [run(engine, path) for _ in range(args.repeats) for engine in engines]
    same = {key: {str(r[key]) for r in results}
            for key in ("rows", "users", "items", "code_sums", "time_sum")}
    if any(len(values) > 1 for values in same.values()):
        raise RuntimeError(f"the engines read different data: {same}")
    print(f"{path}: {results[0]['rows']:,} rows, {results[0]['users']:,} users, "
          f"{results[0]['items']:,} items, {path.stat().st_size / MB:,.0f} MB\n")
    print("| engine | seconds | peak RSS (MB) | RSS before reading (MB) |")
    print("|---|---|---|---|")
    for engine in engines:
        mine = [r for r in results if r["engine"] == engine]
        print(f"| {engine} | {' / '.join(str(r['seconds']) for r in mine)} | "
              f"{' / '.join(str(r['peak_rss_mb']) for r in mine)} | "
              f"{' / '.join(str(r['rss_before_mb']) for r in mine)} |")
    print(json.dumps({"file": str(path), "results": results}))


if __name__ == "__main__":
    main()
