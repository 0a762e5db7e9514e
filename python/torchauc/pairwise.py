"""Binary pairwise AUC loss: :func:`pairwise_auc_loss` and its module :class:`AUCLoss`."""

import torch
from torch import nn

from ._core import distributed as D
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
    process_group: "torch.distributed.ProcessGroup | None" = None,
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
        process_group: None (default: this rank's batch) or a torch.distributed process group: the
            loss over the global batch of its ranks, identical on every rank, with each rank
            receiving the exact gradient of its own samples. Square and exp all-reduce six moment
            sums (48 bytes); the other surrogates all-gather the scores and labels (see
            :mod:`torchauc._core.distributed` for the DDP scaling convention).

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
    return _checked_loss(scores, labels, pos_weights, neg_weights, surrogate, margin, reduction, process_group)


def module_loss(scores, labels, pos_weights, neg_weights, surrogate, margin, reduction, process_group, scale=1.0):
    """``scale * pairwise_auc_loss(...)`` for a module whose surrogate, reduction and margin were checked
    once, at construction: per call only the tensors are checked, and ``scale`` is applied inside the
    op (no multiply node; XCurve's binary square loss is 0.5 of ours). At training batch sizes the
    call's fixed costs are the whole cost (issue 16)."""
    V.tensor(scores, "scores")
    V.tensor(labels, "labels")
    V.optional_tensor(pos_weights, "pos_weights")
    V.optional_tensor(neg_weights, "neg_weights")
    return _checked_loss(scores, labels, pos_weights, neg_weights, surrogate, margin, reduction, process_group, scale)


def _checked_loss(scores, labels, pos_weights, neg_weights, surrogate, margin, reduction, process_group, scale=1.0):
    group = D.check_group(process_group)
    if group is not None:
        if surrogate in ("square", "exp"):
            # the C++ op, which rechecks a module's options changed after construction, is not called here
            reduction, margin = V.option(reduction, O.REDUCTION), V.finite_float(margin, "margin")
            loss = _moment_loss(scores, labels, pos_weights, neg_weights, surrogate, margin, reduction, group)
            return loss if scale == 1.0 else scale * loss
        scores, labels, pos_weights, neg_weights = D.gather_batch(group, scores, labels, pos_weights, neg_weights)
    grad = V.needs_grad(scores, pos_weights, neg_weights)
    return torch.ops.torchauc.pairwise_auc_loss(
        scores, labels, pos_weights, neg_weights, surrogate, margin, reduction, grad, scale
    )[0]


def _moment_loss(scores, labels, pos_weights, neg_weights, surrogate, m, reduction, group):
    """The square / exp loss of the global batch from all-reduced per-label sums. With x = m - s+:
    sum a b (x + s-)^2 = A2 B0 + 2 A1 B1 + A0 B2, and sum a b e^{-m s+} e^{m s-} = E+ E-."""
    n = scores.numel()
    y = labels.reshape(-1)
    if scores.dim() > 2 or (scores.dim() == 2 and scores.shape[1] != 1) or y.numel() != n:
        raise ValueError(f"scores and labels must have shape (n,) or (n, 1), got {tuple(scores.shape)} "
                         f"and {tuple(labels.shape)}")  # fmt: skip
    if bool(((y != 0) & (y != 1)).any()):
        raise ValueError("labels must contain only 0 and 1 (or False/True)")
    s, pos = scores.reshape(-1).double(), y != 0
    a, b = pos.double(), (~pos).double()
    for w, name in ((pos_weights, "pos_weights"), (neg_weights, "neg_weights")):
        if w is not None and w.numel() != n:
            raise ValueError(f"{name} must have one weight per score ({n}), got {tuple(w.shape)}")
    a = a if pos_weights is None else a * pos_weights.reshape(-1).double()
    b = b if neg_weights is None else b * neg_weights.reshape(-1).double()
    if surrogate == "square":
        x = m - s
        local = torch.stack([a.sum(), (a * x).sum(), (a * x * x).sum(), b.sum(), (b * s).sum(), (b * s * s).sum()])
        A0, A1, A2, B0, B1, B2 = D.all_reduce_sum_replicated(local, group).unbind()
        total = A2 * B0 + 2 * A1 * B1 + A0 * B2
    else:  # exp, shifted by the global maxima so that no term overflows before the product
        ms = m * s
        shift = torch.stack([D.masked_max(-ms, pos), D.masked_max(ms, ~pos)])
        shift = D.all_reduce_max_detached(shift.detach(), group).nan_to_num(neginf=0.0)
        ep = torch.exp(torch.where(pos, -ms - shift[0], 0.0))
        en = torch.exp(torch.where(pos, 0.0, ms - shift[1]))
        A0, Ep, B0, En = D.all_reduce_sum_replicated(torch.stack([a.sum(), (a * ep).sum(), b.sum(), (b * en).sum()]),
                                                     group).unbind()  # fmt: skip
        total = Ep * En * torch.exp(shift.sum())
    if reduction == "mean":
        den = A0 * B0
        total = torch.where(den > 0, total / torch.where(den > 0, den, 1.0), 0.0)
    return total.to(scores.dtype)


class AUCLoss(nn.Module):
    """Binary pairwise AUC loss (see :func:`pairwise_auc_loss`).

    ``forward(scores, labels, *, pos_weights=None, neg_weights=None)``.

    Drop-in notes: XCurve's binary ``SquareAUCLoss(gamma)`` equals ``0.5 * AUCLoss("square", margin=gamma)``
    and its ``ExpAUCLoss(gamma)`` equals ``AUCLoss("exp", margin=gamma)``; LibAUC's
    ``PairwiseAUCLoss(surr_loss, hparam)`` equals ``AUCLoss(surr_loss, margin=hparam)`` for
    squared_hinge/hinge/squared ("square") and logistic (ours does not overflow).
    """

    def __init__(
        self,
        surrogate: str = "square",
        *,
        margin: float = 1.0,
        reduction: str = "mean",
        process_group: "torch.distributed.ProcessGroup | None" = None,
    ) -> None:
        super().__init__()
        self.process_group: torch.distributed.ProcessGroup | None = process_group
        self.surrogate: str = V.option(surrogate, O.PAIRWISE_SURROGATE)
        self.margin: float = V.finite_float(margin, "margin")
        self.reduction: str = V.option(reduction, O.REDUCTION)

    def forward(
        self,
        scores: torch.Tensor,
        labels: torch.Tensor,
        *,
        pos_weights: torch.Tensor | None = None,
        neg_weights: torch.Tensor | None = None,
    ) -> torch.Tensor:
        return module_loss(
            scores, labels, pos_weights, neg_weights, self.surrogate, self.margin, self.reduction, self.process_group
        )

    def extra_repr(self) -> str:
        return f"surrogate={self.surrogate!r}, margin={self.margin}, reduction={self.reduction!r}"


__all__ = ["pairwise_auc_loss", "AUCLoss"]
