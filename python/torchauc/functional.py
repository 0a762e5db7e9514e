"""Every functional loss, re-exported from its family module (torchauc.pairwise, .partial_auc,
.multiclass); the metrics' functional forms are torchauc.metrics.functional."""

from .adauc import adauc_loss
from .autkc import autkc_loss, ce_topk_loss, hinge_topk_loss
from .multiclass import multiclass_auc_loss, pixel_auc_loss
from .openworld import gmop_loss
from .pairwise import pairwise_auc_loss
from .partial_auc import partial_auc_loss, partial_auc_select, upauci_loss

__all__ = ["pairwise_auc_loss", "partial_auc_loss", "partial_auc_select", "multiclass_auc_loss", "pixel_auc_loss"]
__all__ += ["upauci_loss", "gmop_loss"]
__all__ += ["adauc_loss"]
__all__ += ["autkc_loss", "ce_topk_loss", "hinge_topk_loss"]
