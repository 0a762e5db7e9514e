"""The exact AUROC family: functional metrics (:mod:`.functional`) and their stateful classes
(:mod:`.modules`: update / compute / reset, DDP-aware), which compute through the same functions."""

from . import functional
from .functional import (
    UndefinedMetricWarning,
    auroc,
    multiclass_auroc,
    multilabel_auroc,
    openworld_auroc,
    partial_auroc,
    pixel_auroc,
)
from .modules import AUROC, MulticlassAUROC, MultilabelAUROC, OpenworldAUROC, PartialAUROC, PixelAUROC

__all__ = [
    "functional",
    "auroc",
    "partial_auroc",
    "multiclass_auroc",
    "multilabel_auroc",
    "pixel_auroc",
    "openworld_auroc",
    "AUROC",
    "PartialAUROC",
    "MulticlassAUROC",
    "MultilabelAUROC",
    "PixelAUROC",
    "OpenworldAUROC",
    "UndefinedMetricWarning",
]
