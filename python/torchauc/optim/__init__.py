"""Optimizers of the minimax AUC-family methods."""
from .minmax import ASGDA, SGD4MinMaxPAUC  # noqa: F401  (partial AUC family)

__all__ = ["ASGDA", "SGD4MinMaxPAUC"]
