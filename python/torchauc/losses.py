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

# ---------------------------------------------------------------- multiclass / pixel-level AUC loss
class MultiClassAUCLoss(nn.Module):
    """Multiclass AUC loss (see :func:`torchauc.functional.multiclass_auc_loss`).

    ``forward(scores (N, C), labels (N,))``. Drop-in for XCurve's ``SquareAUCLoss`` / ``ExpAUCLoss``
    (``num_classes > 2``, ``gamma`` = ``margin``, ``transform`` = ``mode``) with
    ``normalization="xcurve"``; XCurve's ``HingeAUCLoss`` is ``surrogate="linear"`` with its missing
    N_i factor restored. ``num_classes`` (optional) is checked against ``scores.shape[1]``.
    """

    def __init__(self, num_classes=None, surrogate="square", mode="ovo", margin=1.0, ignore_index=None,
                 normalization="present"):
        super().__init__()
        self.num_classes = V.optional_int(num_classes, "num_classes")
        self.surrogate = V.choice(surrogate, V.MC_SURROGATES, "surrogate")
        self.mode = V.choice(mode, V.MC_MODES, "mode")
        self.margin = V.finite_float(margin, "margin")
        self.ignore_index = V.optional_int(ignore_index, "ignore_index")
        self.normalization = V.choice(normalization, V.MC_NORMALIZATIONS, "normalization")

    def _check_classes(self, x, name):
        if self.num_classes is not None and x.dim() >= 2 and x.shape[1] != self.num_classes:
            raise ValueError(f"{name} has {x.shape[1]} class columns, but num_classes={self.num_classes}")

    def forward(self, scores, labels):
        self._check_classes(scores, "scores")
        return F.multiclass_auc_loss(scores, labels, self.surrogate, self.mode, self.margin, self.ignore_index,
                                     self.normalization)

    def extra_repr(self):
        return (f"num_classes={self.num_classes}, surrogate={self.surrogate!r}, mode={self.mode!r}, "
                f"margin={self.margin}, normalization={self.normalization!r}")


class AUCSegLoss(MultiClassAUCLoss):
    """AUCSeg's pixel-level AUC loss (see :func:`torchauc.functional.pixel_auc_loss`) times
    ``loss_weight`` (4.0 for ADE20K, 1.0 for Cityscapes and COCO-Stuff in the official configs).

    ``forward(logits (B, C, H, W), labels (B, H, W), ignore_index=None)``; ``ignore_index`` overrides
    the module's (default 255). Same value as AUCSeg's ``SquareAUCLoss(num_classes, loss_weight=...)``.
    """

    def __init__(self, num_classes=None, surrogate="square", mode="ovo", margin=1.0, ignore_index=255,
                 loss_weight=1.0, activation="sigmoid", normalization="present"):
        super().__init__(num_classes, surrogate, mode, margin, ignore_index, normalization)
        self.loss_weight = V.finite_float(loss_weight, "loss_weight")
        self.activation = V.choice(activation, V.MC_ACTIVATIONS, "activation")

    def forward(self, logits, labels, ignore_index=None):
        self._check_classes(logits, "logits")
        ignore = self.ignore_index if ignore_index is None else ignore_index
        loss = F.pixel_auc_loss(logits, labels, ignore, self.activation, self.surrogate, self.mode, self.margin,
                                self.normalization)
        return loss * self.loss_weight

    def extra_repr(self):
        return super().extra_repr() + f", ignore_index={self.ignore_index}, loss_weight={self.loss_weight}"


__all__ += ["MultiClassAUCLoss", "AUCSegLoss"]
