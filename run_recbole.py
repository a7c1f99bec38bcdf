"""Train and evaluate ELECRec or any RecBole model; the last stdout line is a JSON result.

    python run_recbole.py --model=ELECRec --dataset=Beauty
    python run_recbole.py --model=SASRec --dataset=Beauty --epochs=50
    python run_recbole.py --model=ELECRec --dataset=Beauty --eval_only --checkpoint=saved/X.pth
"""

import sys

from recbole_elecrec.cli import main

if __name__ == "__main__":
    sys.exit(main())
