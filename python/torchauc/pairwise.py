"""Binary pairwise AUC loss: :func:`pairwise_auc_loss` and its module :class:`AUCLoss`."""

import torch
from torch import nn

from ._core import options as O
from ._core import validate as V


def pairwise_auc_loss(
    scores: torch.Tensor,
    labels: torch.Tensor,
    *,
    surrogate: str = "square",
    margin: float = 1.0,
    pos_weights: torch.Tensor | None = None,
    neg_weights: torch.Tensor | None = None,
    reduction: str = "mean",
) -> torch.Tensor:
    r"""Binary pairwise AUC loss over all positive/negative pairs, without a pair matrix.

    .. math::
        L = \frac{\sum_{i \in P}\sum_{j \in N} a_i b_j\, \ell(m, s_i - s_j)}{\sum_{i,j} a_i b_j}
        \quad(\text{reduction="mean"; "sum" drops the denominator})

    Args:
        scores: (n,) or (n, 1) float16/bfloat16/float32/float64 scores (any stride).
        labels: (n,) or (n, 1) bool/int/float with values in {0, 1}; 1 marks a positive.
        surrogate: ``"square"`` (m - t)^2 and ``"exp"`` exp(-m t), O(n);
            ``"hinge"`` max(0, m - t) and ``"squared_hinge"`` max(0, m - t)^2, exact O(n log n);
            ``"logistic"`` log(1 + exp(-m t)) and ``"sigmoid"`` 1 / (1 + exp(m t)), tiled O(n+ n-)
            time with O(n) memory. For logistic/sigmoid ``margin`` is the scale m.
        margin: the margin (or scale) m, a finite float.
        pos_weights, neg_weights: optional (n,) per-sample weights a, b aligned with ``scores``,
            read at the positives and the negatives respectively; both are differentiable.
        reduction: ``"mean"`` (weighted pair mean) or ``"sum"``.

    Returns a 0-dim tensor of the scores' dtype (accumulated in float64 on CPU).
    A batch with no positives or no negatives (or zero total pair weight) gives loss 0 with zero
    gradient. NaN scores give a NaN loss and NaN gradients. Differentiable once (the op computes
    its gradient in the forward pass; there is no double backward).
    """
    V.tensor(scores, "scores")
    V.tensor(labels, "labels")
    V.optional_tensor(pos_weights, "pos_weights")
    V.optional_tensor(neg_weights, "neg_weights")
    V.option(surrogate, O.PAIRWISE_SURROGATE)
    V.option(reduction, O.REDUCTION)
    margin = V.finite_float(margin, "margin")
    grad = V.needs_grad(scores, pos_weights, neg_weights)
    return torch.ops.torchauc.pairwise_auc_loss(
        scores, labels, pos_weights, neg_weights, surrogate, margin, reduction, grad
    )[0]


class AUCLoss(nn.Module):
    """Binary pairwise AUC loss (see :func:`pairwise_auc_loss`).

    ``forward(scores, labels, *, pos_weights=None, neg_weights=None)``.

    Drop-in notes: XCurve's binary ``SquareAUCLoss(gamma)`` equals ``0.5 * AUCLoss("square", margin=gamma)``
    and its ``ExpAUCLoss(gamma)`` equals ``AUCLoss("exp", margin=gamma)``; LibAUC's
    ``PairwiseAUCLoss(surr_loss, hparam)`` equals ``AUCLoss(surr_loss, margin=hparam)`` for
    squared_hinge/hinge/squared ("square") and logistic (ours does not overflow).
    """

    def __init__(self, surrogate="square", *, margin=1.0, reduction="mean"):
        super().__init__()
        self.surrogate = V.option(surrogate, O.PAIRWISE_SURROGATE)
        self.margin = V.finite_float(margin, "margin")
        self.reduction = V.option(reduction, O.REDUCTION)

    def forward(
        self,
        scores: torch.Tensor,
        labels: torch.Tensor,
        *,
        pos_weights: torch.Tensor | None = None,
        neg_weights: torch.Tensor | None = None,
    ) -> torch.Tensor:
        return pairwise_auc_loss(
            scores,
            labels,
            surrogate=self.surrogate,
            margin=self.margin,
            pos_weights=pos_weights,
            neg_weights=neg_weights,
            reduction=self.reduction,
        )

    def extra_repr(self):
        return f"surrogate={self.surrogate!r}, margin={self.margin}, reduction={self.reduction!r}"


__all__ = ["pairwise_auc_loss", "AUCLoss"]
