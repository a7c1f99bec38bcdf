"""``python -m recbole_elecrec.settings [MODEL]``: every setting a run of MODEL starts from, with
its default and comment, as the property files give them (``--help`` lists only the options of
the command itself; any of these passes through as ``--key=value``).

Files are listed low to high, as ``Config`` reads them; a later file's value wins, and a
dataset's YAML file (``properties/dataset/``), config files and ``--key=value`` come after.
"""

import argparse
import sys
from pathlib import Path

import recbole

from recbole_elecrec.errors import command
from recbole_elecrec.settings_file import PROPERTIES, model_property_files
from recbole_elecrec.utils import get_model

RECBOLE_PROPERTIES = Path(recbole.__file__).parent / "properties"


def property_files(model):
    """The property files of ``model``, low to high, those that exist."""
    files = [RECBOLE_PROPERTIES / "overall.yaml", RECBOLE_PROPERTIES / "model" / f"{model}.yaml",
             PROPERTIES / "overall.yaml", *model_property_files(get_model(model))]
    return list(dict.fromkeys(path for path in files if path.is_file()))


def listing(model):
    """Each file's name, then its settings lines (``key: default  # comment``)."""
    lines = []
    for path in property_files(model):
        text = path.read_text(encoding="utf-8").splitlines()
        lines += [f"--- {path}", *[line for line in text if line.strip()], ""]
    return "\n".join(lines)


@command
def main(argv=None):
    parser = argparse.ArgumentParser(
        prog="python -m recbole_elecrec.settings",
        description="List every setting of a model with its default, from the property files.")
    parser.add_argument("model", nargs="?", default="ELECRec", help="model name (default ELECRec)")
    args = parser.parse_args(argv)
    print(listing(args.model))
    return 0


if __name__ == "__main__":
    sys.exit(main())
