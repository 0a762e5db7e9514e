"""Every functional metric, re-exported from its family (torchauc.auroc)."""

from ..auroc.functional import auroc, multiclass_auroc, multilabel_auroc, openworld_auroc, partial_auroc, pixel_auroc

__all__ = ["auroc", "partial_auroc", "multiclass_auroc", "multilabel_auroc", "pixel_auroc", "openworld_auroc"]
