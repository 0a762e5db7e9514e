r"""Top-k losses and metrics (AUTKC, Wang et al., TPAMI 2023): :func:`autkc_loss` /
:class:`StandardAUTKCLoss`, :func:`ce_topk_loss` / :class:`CETopKLoss`, :func:`hinge_topk_loss` /
:class:`HingeTopKLoss`, and the metrics :func:`autkc` and :func:`topk_accuracy`.

Every loss selects the few columns it needs per row with the ``autkc_topk`` op (a per-row top-k
selection in C++/CUDA, no sort of the C - 1 competitors) and gathers their scores with
``torch.gather``, which carries the gradient; :func:`autkc_loss` and :func:`ce_topk_loss` are one fused
op (``autkc_loss_rows``: softmax, selection, terms and gradient per row). Logits (B, C) of any float
dtype, labels (B,) class indices. Ties between competitors go to the smaller column, NaN scores
count as the largest (and give a NaN loss).

``process_group=`` (keyword, every loss; None = this rank's batch): the losses are means of
independent per-row terms, so no row meets another rank's rows; the group only makes the mean that
of the global batch (one all-reduce of a sum and a count, :func:`torchauc._core.distributed.global_mean`):
equal to one process on the concatenated batch, ranks with uneven or empty batches included. With DDP
(which averages gradients) leave it None when the ranks' batches have equal sizes: the same step.
"""

from collections.abc import Sequence

import torch
import torch.nn.functional as F
from torch import nn

from ._core import distributed as D
from ._core import options as O
from ._core import validate as V


def _check(scores, labels, name="scores", gather=True):
    """The labels as (B, 1) int64 for ``gather``; with ``gather=False`` (the fused ops, which take (B,)
    labels of any integer dtype) 1-D labels as they are: two tensor ops less per call."""
    V.tensor(scores, name)
    V.tensor(labels, "labels")
    if scores.dim() != 2:
        raise ValueError(f"{name} must have shape (B, C), got {tuple(scores.shape)}")
    if not scores.is_floating_point():
        raise TypeError(f"{name} must be a floating point tensor, got {scores.dtype}")
    if labels.is_floating_point() or labels.is_complex():
        raise TypeError(f"labels must hold integer class indices, got {labels.dtype}")
    if not gather and labels.dim() == 1:
        return labels
    return labels.reshape(-1, 1).long()


def _int(value, name, low, high):
    if isinstance(value, bool) or not isinstance(value, int):
        raise TypeError(f"{name} must be an int, got {type(value).__name__}")
    if not low <= value <= high:
        raise ValueError(f"{name} must be in [{low}, {high}], got {value}")
    return value


def topk_columns(
    scores: torch.Tensor, labels: torch.Tensor, k: int, *, margin: float = 0.0, include_label: bool = False
) -> torch.Tensor:
    """Columns (B, k) int64 of the k largest ``s_j + margin * [j != y]`` per row, descending (ties to
    the smaller column, NaN largest); the label column is skipped unless ``include_label``."""
    y = _check(scores, labels)
    return torch.ops.torchauc.autkc_topk(scores.detach(), y, int(k), float(margin), bool(include_label))


def autkc_loss(
    logits: torch.Tensor,
    labels: torch.Tensor,
    *,
    k: int,
    surrogate: str = "square",
    terms: str = "k",
    process_group: "torch.distributed.ProcessGroup | None" = None,
) -> torch.Tensor:
    r"""Surrogate of 1 - AUTKC@K (the paper's Eq. for the top-K partial area):

    .. math::
        L = \frac{1}{B}\sum_b \frac{1}{K}\sum_{i=1}^{K} \ell\big(s_{b,y_b} - s^{\setminus y}_{b,[i]}\big)

    with s = softmax(logits) (raw logits for ``surrogate="hinge"``) and s^{\y}_{[i]} the i-th largest
    competitor. ``terms="xcurve"`` sums K + 1 competitors over K as XCurve 1.1.0 does (its value;
    1 - AUTKC@K has K terms). Surrogates: square (1 - t)^2, exp e^{-t}, logistic log(1 + e^{-t}),
    hinge (1 - t)_+. Needs K <= C - 1 (XCurve's K + 1 is capped at C - 1 as its slicing does).
    """
    y = _check(logits, labels, "logits", gather=False)
    V.option(surrogate, O.AUTKC_SURROGATE)
    V.option(terms, O.AUTKC_TERMS)
    C = logits.shape[1]
    k = _int(k, "k", 1, max(C - 1, 1))
    m = min(k + 1, C - 1) if terms == "xcurve" else k
    # one fused op: softmax, selection, terms and the gradient of each row (csrc/autkc/loss_math.h)
    return _fused_mean(logits, y, k, m, surrogate, process_group)


def ce_topk_loss(
    logits: torch.Tensor,
    labels: torch.Tensor,
    *,
    k: int,
    process_group: "torch.distributed.ProcessGroup | None" = None,
) -> torch.Tensor:
    r"""Top-k cross entropy: :math:`\log(1 + \sum_{j} e^{x_j - x_y})` over the competitors j below
    the k - 1 largest ones (the label and the k - 1 best competitors are excluded), mean over rows.
    Equals XCurve's ``CETopKLoss(k)``. Float32 and 16-bit logits are computed in float (as a float
    ``torch.logsumexp``; exp within 4 ulp): within 2e-5 (relative, and absolute on terms below 1) of
    the float64 value; float64 to rounding."""
    y = _check(logits, labels, "logits", gather=False)
    k = _int(k, "k", 1, logits.shape[1])
    # one fused op (csrc/autkc/ce_math.h): the k - 1 best competitors left out, the log-sum-exp and the
    # gradient of each row; k = C leaves no competitor: loss 0, gradient 0
    return _fused_mean(logits, y, k, k - 1, "ce", process_group)


def _fused_mean(logits, y, k, m, surrogate, group):
    """The mean of the fused op's rows over the (global) batch, reduced inside the op: its gradient comes
    already divided by B, so ``backward()`` costs no pass over (B, C) and the graph has one node. The rows
    are summed in float64 and rounded once (vs ``rows.mean()``: within a few float ulps of the mean)."""
    grad = V.needs_grad(logits)
    if D.check_group(group) is None:
        return torch.ops.torchauc.autkc_loss_rows(logits, y, k, m, surrogate, grad, "mean")[0]
    total = torch.ops.torchauc.autkc_loss_rows(logits, y, k, m, surrogate, grad, "sum")[0]
    return D.global_mean_of_sum(total, logits.shape[0], group)


def hinge_topk_loss(
    logits: torch.Tensor,
    labels: torch.Tensor,
    *,
    k: int,
    loss_type: str = "l1",
    label: str = "exclude",
    process_group: "torch.distributed.ProcessGroup | None" = None,
) -> torch.Tensor:
    r"""The top-k hinge losses of XCurve's ``HingeTopKLoss`` (mean over rows), with a = x + 1[j != y]:

    - ``l1``: (1 + x^{\y}_{[k]} - x_y)_+
    - ``l2``: ((1/k) sum of the top-k of a - x_y)_+
    - ``l3``: (1/k) sum over the top-k of a of (a_{[i]} - x_y)_+
    - ``l4``: (1 + mean of the top-k x^{\y} - x_y)_+
    - ``l5``: (1 + x_{[k+1]} - x_y)_+ (all columns, the label included)

    XCurve's l1 and l4 score the label column 0 and keep it among the candidates (so a negative
    competitor set can select the label's 0); ``label="exclude"`` (default) skips it, ``label="zero"``
    gives XCurve's value.
    """
    c, x_y = hinge_topk_terms(logits, labels, k=k, loss_type=loss_type, label=label)
    return D.global_mean(torch.clamp_min(c - x_y, 0.0), process_group)  # l3: the mean over the k terms is the sum / k


def hinge_topk_terms(
    logits: torch.Tensor, labels: torch.Tensor, *, k: int, loss_type: str = "l1", label: str = "exclude"
) -> tuple[torch.Tensor, torch.Tensor]:
    """The per-row terms of :func:`hinge_topk_loss`: ``c`` (B, m) and ``x_y`` (B, 1) with the loss
    ``mean((c - x_y)_+)`` (m = k for l3, else 1)."""
    y = _check(logits, labels, "logits")
    V.option(loss_type, O.TOPK_HINGE)
    V.option(label, O.TOPK_LABEL)
    C = logits.shape[1]
    x_y = logits.gather(1, y)
    if loss_type in ("l2", "l3"):
        k = _int(k, "k", 1, C)
        idx = torch.ops.torchauc.autkc_topk(logits.detach(), y, k, 1.0, True)
        a = logits.gather(1, idx) + idx.ne(y).to(logits.dtype)
        return (a.mean(1, keepdim=True) if loss_type == "l2" else a), x_y
    if loss_type == "l5":
        k = _int(k, "k", 0, C - 1)
        idx = torch.ops.torchauc.autkc_topk(logits.detach(), y, k + 1, 0.0, True)[:, k:]
        return 1.0 + logits.gather(1, idx), x_y
    if label == "zero":
        k = _int(k, "k", 1, C)
        x = logits.scatter(1, y, 0.0)
        idx = torch.ops.torchauc.autkc_topk(x.detach(), y, k, 0.0, True)
        top = x.gather(1, idx)
    else:
        k = _int(k, "k", 1, C - 1)
        top = logits.gather(1, torch.ops.torchauc.autkc_topk(logits.detach(), y, k, 0.0, False))
    kth = top[:, -1:] if loss_type == "l1" else top.mean(1, keepdim=True)
    return 1.0 + kth, x_y


class StandardAUTKCLoss(nn.Module):
    """AUTKC loss (see :func:`autkc_loss`) with XCurve's warm-up: ``forward(logits, labels, epoch=0)``
    returns the cross entropy while ``epoch < epoch_to_paced``."""

    def __init__(
        self,
        surrogate: str = "square",
        K: int = 5,
        epoch_to_paced: int = 0,
        *,
        terms: str = "k",
        process_group: "torch.distributed.ProcessGroup | None" = None,
    ) -> None:
        super().__init__()
        self.process_group: torch.distributed.ProcessGroup | None = process_group
        self.surrogate: str = V.option(surrogate, O.AUTKC_SURROGATE)
        self.K: int = _int(K, "K", 1, 1 << 40)
        self.epoch_to_paced: int = epoch_to_paced
        self.terms: str = V.option(terms, O.AUTKC_TERMS)

    def forward(self, logits: torch.Tensor, labels: torch.Tensor, epoch: int = 0) -> torch.Tensor:
        if epoch < self.epoch_to_paced:
            return D.global_mean(F.cross_entropy(logits, labels, reduction="none"), self.process_group)
        return autkc_loss(
            logits, labels, k=self.K, surrogate=self.surrogate, terms=self.terms, process_group=self.process_group
        )

    def extra_repr(self) -> str:
        return f"surrogate={self.surrogate!r}, K={self.K}, epoch_to_paced={self.epoch_to_paced}, terms={self.terms!r}"


class CETopKLoss(nn.Module):
    """Top-k cross entropy (see :func:`ce_topk_loss`)."""

    def __init__(self, k: int, *, process_group: "torch.distributed.ProcessGroup | None" = None) -> None:
        super().__init__()
        self.k: int = k
        self.process_group: torch.distributed.ProcessGroup | None = process_group

    def forward(self, logits: torch.Tensor, labels: torch.Tensor) -> torch.Tensor:
        return ce_topk_loss(logits, labels, k=self.k, process_group=self.process_group)


class HingeTopKLoss(nn.Module):
    """Top-k hinge losses l1-l5 (see :func:`hinge_topk_loss`)."""

    def __init__(
        self,
        k: int,
        loss_type: str = "l1",
        *,
        label: str = "exclude",
        process_group: "torch.distributed.ProcessGroup | None" = None,
    ) -> None:
        super().__init__()
        self.k: int = k
        self.process_group: torch.distributed.ProcessGroup | None = process_group
        self.loss_type: str = V.option(loss_type, O.TOPK_HINGE)
        self.label: str = V.option(label, O.TOPK_LABEL)

    def forward(self, logits: torch.Tensor, labels: torch.Tensor) -> torch.Tensor:
        return hinge_topk_loss(
            logits, labels, k=self.k, loss_type=self.loss_type, label=self.label, process_group=self.process_group
        )


# ---------------------------------------------------------------------------------------- metrics
def _rank_and_ks(scores, labels, k):
    y = _check(scores, labels)
    ks = [k] if isinstance(k, int) else list(k)
    C = scores.shape[1]
    for v in ks:
        _int(v, "k", 1, C)
    # competitors scoring >= the label's score (ties count against the label), O(B C), no sort
    r = scores.ge(scores.gather(1, y)).sum(1) - 1
    kt = torch.tensor(ks, device=scores.device, dtype=torch.float64)
    return r.to(torch.float64), kt, isinstance(k, int)


def autkc(scores: torch.Tensor, labels: torch.Tensor, *, k: int | Sequence[int]) -> torch.Tensor:
    r"""AUTKC@K = (1/K) sum_{i<=K} 1[rank_y <= i] = max(0, K - r) / K, averaged over rows, with r the
    number of competitors scoring >= the label (ties are misses, as XCurve's strict ``>``). ``k`` an
    int (0-dim result) or a sequence (1-D). A fraction in [0, 1]; XCurve's ``AUTKC`` is 100 x this."""
    r, kt, single = _rank_and_ks(scores, labels, k)
    v = (torch.clamp_min(kt[None, :] - r[:, None], 0.0) / kt).mean(0)
    return v[0] if single else v


def topk_accuracy(scores: torch.Tensor, labels: torch.Tensor, *, k: int | Sequence[int] = 1) -> torch.Tensor:
    """Fraction of rows whose label ranks in the top k (fewer than k competitors score >= it; ties are
    misses). ``k`` an int or a sequence; XCurve's ``TopkAcc`` is 100 x this (it breaks ties as
    ``torch.topk`` happens to)."""
    r, kt, single = _rank_and_ks(scores, labels, k)
    v = (r[:, None] < kt[None, :]).to(torch.float64).mean(0)
    return v[0] if single else v


__all__ = [
    "autkc_loss",
    "ce_topk_loss",
    "hinge_topk_loss",
    "hinge_topk_terms",
    "topk_columns",
    "StandardAUTKCLoss",
    "CETopKLoss",
    "HingeTopKLoss",
    "autkc",
    "topk_accuracy",
]
