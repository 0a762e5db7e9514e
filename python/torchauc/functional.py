"""Every functional loss, re-exported from its family module (torchauc.pairwise, .partial_auc,
.multiclass); the metrics' functional forms are torchauc.metrics.functional."""

from .autkc import autkc_loss, ce_topk_loss, hinge_topk_loss
from .multiclass import multiclass_auc_loss, pixel_auc_loss
from .pairwise import pairwise_auc_loss
from .partial_auc import partial_auc_loss, partial_auc_select

__all__ = ["pairwise_auc_loss", "partial_auc_loss", "partial_auc_select", "multiclass_auc_loss", "pixel_auc_loss"]
__all__ += ["autkc_loss", "ce_topk_loss", "hinge_topk_loss"]
