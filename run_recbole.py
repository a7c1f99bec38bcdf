"""Train and evaluate ELECRec or any RecBole model; the last stdout line is a JSON result.

    python run_recbole.py --model=ELECRec --dataset=Beauty
    python run_recbole.py --model=SASRec --dataset=Beauty --epochs=50
    python run_recbole.py --model=ELECRec --dataset=Beauty --eval_only --checkpoint=saved/X.pth
"""

import sys

from recbole_elecrec.errors import run_script

if __name__ == "__main__":
    sys.exit(run_script("recbole_elecrec.cli"))
