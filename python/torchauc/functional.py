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

# ---------------------------------------------------------------- multiclass / pixel-level AUC loss
def multiclass_auc_loss(
    scores,
    labels,
    surrogate="square",
    mode="ovo",
    margin=1.0,
    ignore_index=None,
    normalization="present",
):
    r"""Multiclass AUC loss (Yang et al., *Learning with Multiclass AUC*, TPAMI 2021), exact, with
    no one-hot, no pair matrix and no loop over classes.

    .. math::
        L = \frac{1}{F}\sum_{i}\sum_{p:\,y_p=i}\sum_{q:\,y_q\ne i} w_{i,y_q}\,
            \ell(s_{p,i} - s_{q,i}),\qquad
        w_{ij} = \frac{1}{N_i N_j}\ (\text{ovo}),\quad \frac{1}{N_i (N - N_i)}\ (\text{ova})

    Args:
        scores: (N, C) scores, float16/bfloat16/float32/float64, any stride. XCurve feeds softmax
            probabilities; any real scores work.
        labels: (N,) or (N, 1) integer class indices in [0, C) (or ``ignore_index``).
        surrogate: ``"square"`` l(t) = 1/2 (m - t)^2 (the 1/2 of XCurve/AUCSeg); ``"exp"``
            exp(-m t) (overflow-safe); ``"hinge"`` max(0, m - t), exact via per-class sorts;
            ``"linear"`` m - t: what XCurve/AUCSeg call "hinge" (no clamp), with the N_i factor their
            negative term misses restored. It equals the hinge only when m >= max(s_p - s_q).
        mode: ``"ovo"`` (Hand & Till's M, default) or ``"ova"``.
        margin: the margin m (XCurve's ``gamma``), a finite float.
        ignore_index: label value whose samples are skipped (None: none).
        normalization: how F is chosen, with C_b the number of classes present in the batch:
            ``"present"`` (default): ovo F = C_b (C_b - 1) (AUCSeg), ova F = C_b (a mean over classes);
            ``"xcurve"``: ovo F = C (C - 1) over all columns, ova F = 1 (a sum over classes), as in
            XCurve (and AUCSeg's ova). Equal to XCurve whenever every class is present; where XCurve
            returns NaN (an absent class gives N_i = 0) the absent class's term is skipped here.

    Classes absent from the batch (after ``ignore_index``) add no term and are not counted in C_b;
    fewer than two classes present gives loss 0 with zero gradient. NaN scores give a NaN loss.
    Returns a 0-dim tensor of the scores' dtype (accumulated in float64 on CPU). Differentiable once.
    Memory beyond the inputs: O(C) column statistics and 8 bytes per sample, plus the gradient
    (square, exp, linear); the hinge sorts one column at a time per thread (O(N) per thread).
    """
    V.tensor(scores, "scores")
    V.tensor(labels, "labels")
    if scores.dim() != 2:
        raise ValueError(
            f"scores must have shape (N, C), got {tuple(scores.shape)}; for (B, C, H, W) logits use "
            "torchauc.functional.pixel_auc_loss"
        )
    return _multiclass_op(scores, labels, ignore_index, "none", surrogate, mode, margin, normalization)


def pixel_auc_loss(
    logits,
    labels,
    ignore_index=255,
    activation="sigmoid",
    surrogate="square",
    mode="ovo",
    margin=1.0,
    normalization="present",
):
    r"""AUCSeg's pixel-level AUC loss (Han et al., NeurIPS 2024): the multiclass AUC loss over all
    non-ignored pixels of the batch, scored by the per-class sigmoid of the logits.

    Reads the (B, C, H, W) logits in place (no transpose, no one-hot), fuses the sigmoid, skips
    ``ignore_index`` pixels and writes d loss / d logits directly. With the defaults it equals
    AUCSeg's ``SquareAUCLoss(num_classes=C)`` (before ``loss_weight``); see
    :func:`multiclass_auc_loss` for ``surrogate``, ``mode``, ``margin`` and ``normalization``
    (AUCSeg's ``transform='ova'`` sums over classes: use ``normalization="xcurve"`` to match it).

    Args:
        logits: (B, C, H, W) (or any (B, C, *spatial)) float16/bfloat16/float32/float64.
        labels: (B, H, W) integer class indices in [0, C) or ``ignore_index``. The spatial sizes must
            match: upsample the logits to the label size first (AUCSeg's head does, bilinearly).
        ignore_index: label of pixels to skip (default 255, as in mmseg); None keeps every pixel.
        activation: ``"sigmoid"`` (AUCSeg) or ``"none"`` (logits are already scores).
    """
    V.tensor(logits, "logits")
    V.tensor(labels, "labels")
    if logits.dim() < 3:
        raise ValueError(
            f"logits must have shape (B, C, H, W), got {tuple(logits.shape)}; for (N, C) scores use "
            "torchauc.functional.multiclass_auc_loss"
        )
    V.choice(activation, V.MC_ACTIVATIONS, "activation")
    return _multiclass_op(logits, labels, ignore_index, activation, surrogate, mode, margin, normalization)


def _multiclass_op(scores, labels, ignore_index, activation, surrogate, mode, margin, normalization):
    V.choice(surrogate, V.MC_SURROGATES, "surrogate")
    V.choice(mode, V.MC_MODES, "mode")
    V.choice(normalization, V.MC_NORMALIZATIONS, "normalization")
    ignore_index = V.optional_int(ignore_index, "ignore_index")
    margin = V.finite_float(margin, "margin")
    grad = V.needs_grad(scores)
    return torch.ops.torchauc.multiclass_auc_loss(
        scores, labels, ignore_index, activation, surrogate, mode, margin, normalization, grad
    )[0]


__all__ += ["multiclass_auc_loss", "pixel_auc_loss"]
