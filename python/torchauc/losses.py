"""Every loss module, re-exported from its family module (torchauc.pairwise, .partial_auc,
.multiclass) and from torchauc.compat.libauc (the LibAUC drop-ins)."""

from .auprc import ListStableAUPRCLoss
from .autkc import CETopKLoss, HingeTopKLoss, StandardAUTKCLoss
from .compat.libauc import pAUC_CVaR_Loss, pAUC_DRO_Loss, tpAUC_KL_Loss
from .multiclass import AUCSegLoss, MultiClassAUCLoss
from .open_auc import OpenAUCLoss
from .pairwise import AUCLoss
from .partial_auc import InsRelaxedPAUCLoss, PartialAUCLoss, PAUCILoss, RelaxedTPAUCLoss

__all__ = [
    "AUCLoss",
    "PartialAUCLoss",
    "RelaxedTPAUCLoss",
    "InsRelaxedPAUCLoss",
    "PAUCILoss",
    "pAUC_CVaR_Loss",
    "pAUC_DRO_Loss",
    "tpAUC_KL_Loss",
    "MultiClassAUCLoss",
    "AUCSegLoss",
    "StandardAUTKCLoss",
    "CETopKLoss",
    "HingeTopKLoss",
    "OpenAUCLoss",
    "ListStableAUPRCLoss",
]
