"""Every loss module, re-exported from its family module (torchauc.pairwise, .partial_auc,
.multiclass, .adauc) and from torchauc.compat.libauc (the LibAUC drop-ins)."""

from .adauc import AdAUCLoss, RegAdAUCLoss
from .auprc import ListStableAUPRCLoss
from .autkc import CETopKLoss, HingeTopKLoss, StandardAUTKCLoss
from .compat.libauc import (  # LibAUC's AUC-M, compositional, AP and multi-label losses
    APLoss,
    AUCMLoss,
    AveragePrecisionLoss,
    CompositionalAUCLoss,
    MultiLabelAUCMLoss,
    MultiLabelpAUCLoss,
    meanAveragePrecisionLoss,
    pAUC_CVaR_Loss,
    pAUC_DRO_Loss,
    tpAUC_KL_Loss,
)
from .multiclass import AUCSegLoss, MultiClassAUCLoss
from .open_auc import OpenAUCLoss
from .openworld import GMoPLoss
from .pairwise import AUCLoss
from .partial_auc import InsRelaxedPAUCLoss, PartialAUCLoss, PAUCILoss, RelaxedTPAUCLoss, UPAUCILoss

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
    "AdAUCLoss",
    "RegAdAUCLoss",
    "UPAUCILoss",
    "GMoPLoss",
    "AUCMLoss",
    "CompositionalAUCLoss",
    "MultiLabelAUCMLoss",
    "APLoss",
    "AveragePrecisionLoss",
    "meanAveragePrecisionLoss",
    "MultiLabelpAUCLoss",
    "StandardAUTKCLoss",
    "CETopKLoss",
    "HingeTopKLoss",
    "OpenAUCLoss",
    "ListStableAUPRCLoss",
]
