"""Optimizers of the minimax AUC-family methods."""

from .libauc import PDSCA, PESG, SOAP
from .partial_auc import ASGDA, SGD4MinMaxPAUC

__all__ = ["ASGDA", "SGD4MinMaxPAUC", "PESG", "PDSCA", "SOAP"]
