"""Exact AUROC metrics on CPU and GPU: functional (``torchauc.metrics.functional``) and stateful
classes (``update`` / ``compute`` / ``reset``, DDP-aware). See ``functional`` for the definitions."""
from . import functional, reference
from .stateful import AUROC, MulticlassAUROC, MultilabelAUROC, OpenworldAUROC, PartialAUROC, PixelAUROC

__all__ = [
    "functional",
    "reference",
    "AUROC",
    "PartialAUROC",
    "MulticlassAUROC",
    "MultilabelAUROC",
    "PixelAUROC",
    "OpenworldAUROC",
]
