from recbole_elecrec.model.elecrec import ELECRec
from recbole_elecrec.model.sasrec_plus import SASRecPlus

__all__ = ["ELECRec", "SASRecPlus"]
