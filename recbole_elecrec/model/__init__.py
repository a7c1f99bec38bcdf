from recbole_elecrec.model.elecrec import ELECRec

__all__ = ["ELECRec"]
