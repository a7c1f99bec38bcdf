"""``python -m recbole_elecrec --model=ELECRec ...``: the command ``run_recbole.py`` runs."""

import sys

from recbole_elecrec.errors import run_script

if __name__ == "__main__":
    sys.argv[0] = "python -m recbole_elecrec"  # argparse's usage line
    sys.exit(run_script("recbole_elecrec.cli"))
