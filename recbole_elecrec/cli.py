"""Command line of ``run_recbole.py`` and ``python -m recbole_elecrec``: train and evaluate ELECRec
or any RecBole model. The last stdout line is a short JSON summary; the full result (with the
epoch history and the config) goes to a JSON file beside the run's log."""

import argparse
import errno
import json
import os
import sys
import tempfile
from pathlib import Path

import numpy as np

from recbole_elecrec.errors import command
from recbole_elecrec.files import check_replaceable, write_text_atomic
from recbole_elecrec.quick_start import evaluate_checkpoint, run
from recbole_elecrec.settings_file import settings_from_args


def parse_args(argv):
    parser = argparse.ArgumentParser(
        description="Train and evaluate ELECRec or any RecBole model. Other RecBole settings "
        "pass through as --key=value (e.g. --epochs=5 --gpu_id=0); 'python -m "
        "recbole_elecrec.settings MODEL' lists every one with its default.",
    )
    parser.add_argument("--model", "-m",
                        help="ELECRec or a RecBole model name (default: ELECRec; with --eval_only, "
                        "the checkpoint's)")
    parser.add_argument("--dataset", "-d",
                        help="dataset name (default: RecBole's bundled ml-100k; with --eval_only, "
                        "the checkpoint's)")
    parser.add_argument("--config_files", help="YAML config files, separated by spaces")
    parser.add_argument("--nproc", type=int, default=1, help="training processes on this node")
    parser.add_argument("--world_size", type=int, default=-1,
                        help="processes on all nodes (default: --nproc)")
    parser.add_argument("--ip", default="localhost", help="address of the rank-0 node")
    parser.add_argument("--port", default="5678", help="port of the rank-0 node")
    parser.add_argument("--group_offset", type=int, default=0,
                        help="global rank of this node's first process")
    parser.add_argument("--eval_only", action="store_true",
                        help="evaluate --checkpoint instead of training")
    parser.add_argument("--checkpoint", help="a RecBole checkpoint (.pth) for --eval_only")
    parser.add_argument("--reference_checkpoint",
                        help="evaluate one of the ELECRec authors' released .pt state_dicts")
    parser.add_argument("--save_checkpoint",
                        help="with --reference_checkpoint: also save it as a RecBole checkpoint")
    parser.add_argument("--result_file",
                        help="also write the full result (history, config) to this JSON file")
    return parser.parse_known_args(argv)


# the stdout line: what a script compares runs by; the rest stays in the result file
SUMMARY_KEYS = ("model", "dataset", "best_valid", "test", "train_seconds", "resumed_seconds",
                "checkpoint", "peak_rss_mb", "device")


def save_result(result, result_file=None):
    """Write the full result to ``result_file`` and beside the run's log (same stem, .json), or,
    where neither can be written, to a new file in the system's temporary folder.

    Returns the short summary for stdout, naming the file that holds the rest, and None or the
    error line on the files that could not be written: training is over, so its result is
    kept wherever it can be, never lost to a traceback.
    """
    beside_log = Path(result["log_file"]).with_suffix(".json")
    paths = [Path(result_file), beside_log] if result_file else [beside_log]
    text = json.dumps(result, indent=1, default=json_value)
    written, failed = [], []
    for path in paths:
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            write_text_atomic(path, text)
            written.append(path)
        except OSError as error:
            reason = "the disk is full" if error.errno == errno.ENOSPC else error.strerror
            failed.append(f"{path} ({reason})")
    if not written:
        try:
            written.append(write_temporary(text))
        except OSError as error:
            failed.append(f"{tempfile.gettempdir()} ({error.strerror})")
    summary = {key: result[key] for key in SUMMARY_KEYS if key in result}
    kept = f"it is in {written[0]}" if written else "only the summary on stdout is left"
    problem = f"could not write the result to {', '.join(failed)}: {kept}" if failed else None
    return {**summary, "result_file": str(written[0]) if written else None}, problem


def json_value(value):
    """What JSON cannot hold as it is: a numpy number (RecBole's GAUC is a float32) as the number,
    anything else (the Config's enums and devices) as its text."""
    if isinstance(value, np.floating):
        return float(str(value))  # its shortest decimal: 0.5583, not float32's 0.55830001831...
    return value.item() if isinstance(value, np.generic) else str(value)


def write_temporary(text):
    """A new file in the system's temporary folder holding ``text``."""
    descriptor, path = tempfile.mkstemp(prefix="recbole_elecrec_result_", suffix=".json")
    with os.fdopen(descriptor, "w", encoding="utf-8") as file:
        file.write(text)
    return Path(path)


# what every full result holds (of a training run and of --eval_only alike)
RESULT_KEYS = frozenset({"model", "dataset", "best_valid", "test", "checkpoint", "log_file",
                         "config"})


def check_result_file(path):
    """``--result_file``: a new file, or a result this command wrote, which it may replace; any
    other file (a dataset, a checkpoint) is refused before training."""
    check_replaceable(path, "result_file", is_result, "a result this command wrote")


def is_result(path):
    """Whether ``path`` holds a result this command wrote."""
    result = None
    try:
        with open(path, encoding="utf-8") as file:
            if file.read(1) == "{":  # parsed only then: it may be a large data file
                file.seek(0)
                result = json.load(file)
    except (OSError, UnicodeDecodeError, ValueError):
        pass
    return isinstance(result, dict) and RESULT_KEYS <= result.keys()


def check_source_option(settings):
    """``--source`` belongs to another command: say which."""
    if "source" in settings:
        raise ValueError("--source is an option of 'python -m recbole_elecrec.data prepare "
                         "NAME --source PATH', which prepares a paper dataset from a local copy")


@command
def main(argv=None):
    args, passthrough = parse_args(sys.argv[1:] if argv is None else argv)
    settings = settings_from_args(passthrough)
    check_source_option(settings)
    config_files = args.config_files.split() if args.config_files else None
    if args.result_file:
        check_result_file(args.result_file)
    if args.reference_checkpoint:
        result = evaluate_checkpoint(args.reference_checkpoint, args.model, args.dataset,
                                     config_files, settings, reference=True,
                                     save_as=args.save_checkpoint)
    elif args.eval_only:
        if not args.checkpoint:
            raise ValueError("--eval_only needs --checkpoint=PATH")
        result = evaluate_checkpoint(args.checkpoint, args.model, args.dataset, config_files,
                                     settings)
    else:
        result = run(args.model or "ELECRec", args.dataset or "ml-100k", config_files, settings,
                     nproc=args.nproc, world_size=args.world_size, ip=args.ip, port=args.port,
                     group_offset=args.group_offset)
    summary, problem = save_result(result, args.result_file)
    print(json.dumps(summary, default=json_value))
    if problem:
        print(f"error: {problem}", file=sys.stderr)
        return 2
    return 0
