"""Optimizers of the minimax AUC-family methods, and the SAM family for long-tailed training."""

from .adauc import AdAUCOptimizer
from .libauc import PDSCA, PESG, SOAP, STACO
from .partial_auc import ASGDA, SGD4MinMaxPAUC
from .sam import SAM, SSESAM, ImbSAM, split_head_tail

__all__ = ["ASGDA", "SGD4MinMaxPAUC", "AdAUCOptimizer", "SAM", "ImbSAM", "SSESAM", "split_head_tail"]
__all__ += ["PESG", "PDSCA", "SOAP", "STACO"]
