"""``python -m recbole_elecrec.benchmark SPEC``: the command ``run_benchmark.py`` runs."""

import sys

from recbole_elecrec.benchmark import main

if __name__ == "__main__":
    sys.exit(main())
