"""ELECRec (Chen, Li, Xiong, SIGIR 2022) for RecBole."""

__version__ = "0.1.0"

from recbole_elecrec.model import ELECRec  # noqa: E402
from recbole_elecrec.trainer import ELECRecTrainer  # noqa: E402

__all__ = ["ELECRec", "ELECRecTrainer", "__version__"]
