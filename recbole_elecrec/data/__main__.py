"""``python -m recbole_elecrec.data prepare NAME [--source PATH_OR_URL] [--data_path DIR]
[--overwrite]``."""

import argparse
import sys

from recbole_elecrec.data.prepare import PAPER_DATASETS, prepare
from recbole_elecrec.errors import command


@command
def main(argv=None):
    parser = argparse.ArgumentParser(prog="python -m recbole_elecrec.data")
    commands = parser.add_subparsers(dest="command", required=True)
    cmd = commands.add_parser("prepare", help="convert an ELECRec data file to a RecBole .inter file")
    cmd.add_argument("name", help=f"dataset name ({', '.join(PAPER_DATASETS)} or your own)")
    cmd.add_argument("--source", help="local path or URL of NAME.txt (default: authors' repository)")
    cmd.add_argument("--data_path", default="dataset", help="RecBole data_path (default: dataset)")
    cmd.add_argument("--overwrite", action="store_true", help="replace an existing NAME.inter")
    args = parser.parse_args(argv)
    path, stats = prepare(args.name, source=args.source, data_path=args.data_path,
                          overwrite=args.overwrite)
    print(
        f"wrote {path}: {stats['users']} users, {stats['items']} items, "
        f"{stats['interactions']} interactions"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
