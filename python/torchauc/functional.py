"""Functional losses: argument checks, then one fused torch.ops.torchauc call."""
import torch

from . import _validate as V


def pairwise_auc_loss(
    scores,
    labels,
    surrogate="square",
    margin=1.0,
    pos_weights=None,
    neg_weights=None,
    reduction="mean",
):
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
    V.choice(surrogate, V.SURROGATES, "surrogate")
    V.choice(reduction, V.REDUCTIONS, "reduction")
    margin = V.finite_float(margin, "margin")
    grad = V.needs_grad(scores, pos_weights, neg_weights)
    return torch.ops.torchauc.pairwise_auc_loss(
        scores, labels, pos_weights, neg_weights, surrogate, margin, reduction, grad
    )[0]


__all__ = ["pairwise_auc_loss"]

# ---- partial AUC family (torchauc/partial_auc.py) ----
from .partial_auc import partial_auc_loss, partial_auc_select  # noqa: E402

__all__ += ["partial_auc_loss", "partial_auc_select"]
