"""Run a YAML benchmark of models x datasets x seeds; see recbole_elecrec/benchmark/.

    python run_benchmark.py benchmarks/smoke.yaml [--out results/smoke]

(the same as ``python -m recbole_elecrec.benchmark``)
"""

import sys

from recbole_elecrec.benchmark import main

if __name__ == "__main__":
    sys.exit(main())
