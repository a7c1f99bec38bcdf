"""``python -m recbole_elecrec --model=ELECRec ...``: the command ``run_recbole.py`` runs."""

import sys

from recbole_elecrec.cli import main

if __name__ == "__main__":
    sys.argv[0] = "python -m recbole_elecrec"  # argparse's usage line
    sys.exit(main())
