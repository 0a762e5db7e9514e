"""Every metric, re-exported: ``torchauc.metrics.functional`` (functional forms) and the stateful
classes. The AUROC family lives in :mod:`torchauc.auroc`."""

from ..auroc import (
    AUROC,
    MulticlassAUROC,
    MultilabelAUROC,
    OpenworldAUROC,
    PartialAUROC,
    PixelAUROC,
    UndefinedMetricWarning,
)
from . import functional

__all__ = [
    "functional",
    "AUROC",
    "PartialAUROC",
    "MulticlassAUROC",
    "MultilabelAUROC",
    "PixelAUROC",
    "OpenworldAUROC",
    "UndefinedMetricWarning",
]
