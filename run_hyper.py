"""Hyperparameter search for ELECRec or any RecBole model (RecBole's HyperTuning, hyperopt).

    python run_hyper.py --model=ELECRec --dataset=Beauty --params_file=hyper/ELECRec.hyper
    python run_hyper.py --model=SASRec --dataset=Beauty --params_file=my.hyper --algo=bayes --max_evals=20

(the same as ``python -m recbole_elecrec.hyper``; its --help shows the params file format)
"""

import sys

from recbole_elecrec.errors import run_script

if __name__ == "__main__":
    sys.exit(run_script("recbole_elecrec.hyper"))
