"""nn.Module wrappers, one per method, over torchauc.functional."""
from torch import nn

from . import _validate as V
from . import functional as F


class AUCLoss(nn.Module):
    """Binary pairwise AUC loss (see :func:`torchauc.functional.pairwise_auc_loss`).

    ``forward(scores, labels, pos_weights=None, neg_weights=None)``.

    Drop-in notes: XCurve's binary ``SquareAUCLoss(gamma)`` equals ``0.5 * AUCLoss("square", gamma)``
    and its ``ExpAUCLoss(gamma)`` equals ``AUCLoss("exp", gamma)``; LibAUC's
    ``PairwiseAUCLoss(surr_loss, hparam)`` equals ``AUCLoss(surr_loss, hparam)`` for
    squared_hinge/hinge/squared ("square") and logistic (ours does not overflow).
    """

    def __init__(self, surrogate="square", margin=1.0, reduction="mean"):
        super().__init__()
        self.surrogate = V.choice(surrogate, V.SURROGATES, "surrogate")
        self.margin = V.finite_float(margin, "margin")
        self.reduction = V.choice(reduction, V.REDUCTIONS, "reduction")

    def forward(self, scores, labels, pos_weights=None, neg_weights=None):
        return F.pairwise_auc_loss(
            scores, labels, self.surrogate, self.margin, pos_weights, neg_weights, self.reduction
        )

    def extra_repr(self):
        return f"surrogate={self.surrogate!r}, margin={self.margin}, reduction={self.reduction!r}"


__all__ = ["AUCLoss"]

# ---- partial AUC family (torchauc/partial_auc.py, torchauc/libauc_compat.py) ----
from .libauc_compat import pAUC_CVaR_Loss, pAUC_DRO_Loss, tpAUC_KL_Loss  # noqa: E402
from .partial_auc import InsRelaxedPAUCLoss, PAUCILoss, PartialAUCLoss, RelaxedTPAUCLoss  # noqa: E402

__all__ += ["PartialAUCLoss", "RelaxedTPAUCLoss", "InsRelaxedPAUCLoss", "PAUCILoss", "pAUC_CVaR_Loss",
            "pAUC_DRO_Loss", "tpAUC_KL_Loss"]
