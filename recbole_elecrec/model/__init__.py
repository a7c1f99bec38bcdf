from recbole_elecrec.model.elecrec import ELECRec, SASRecPlus

__all__ = ["ELECRec", "SASRecPlus"]
