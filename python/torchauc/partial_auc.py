r"""Partial AUC losses (one-way OPAUC, FPR <= max_fpr; two-way TPAUC, also TPR >= min_tpr).

* :func:`partial_auc_select` / :func:`partial_auc_loss`: exact hard top-k selection (an O(n) C++
  kernel) followed by the pairwise AUC loss on the selected pairs only.
* :class:`RelaxedTPAUCLoss`: the soft-weighted TPAUC of Yang et al. (ICML 2021), O(n) through the
  rank-1 weighted pairwise op (XCurve's ``RelaxedPAUCLoss`` builds an n+ x n- matrix).
* :class:`InsRelaxedPAUCLoss`: its instance-wise minimax form (Yang et al., TPAMI 2022).
* :class:`PAUCILoss`: PAUCI (Shao et al., NeurIPS 2022), for :class:`torchauc.optim.ASGDA`.
* :class:`UPAUCILoss`: its exactly unbiased journal form UPAUCI (TPAMI 2026), one fused O(n) op,
  with per-sample weights c; also for :class:`torchauc.optim.ASGDA` (``instance_weights=``).

Conventions. Labels are 0/1 (1 = positive). ``max_fpr`` is the FPR bound (the fraction of negatives
kept); ``min_tpr`` is the TPR bound, so ``1 - min_tpr`` is the fraction of positives kept (XCurve's
and the TPAUC metric's ``alpha`` is that kept fraction, i.e. ``alpha = 1 - min_tpr``).
"""

from collections.abc import Callable
from typing import Any

import torch
from torch import nn
from torch.optim.optimizer import ParamsT

from ._core import devices
from ._core import distributed as D
from ._core import options as O
from ._core import validate as V
from .pairwise import pairwise_auc_loss


def partial_auc_select(
    scores: torch.Tensor, labels: torch.Tensor, *, max_fpr: float, min_tpr: float = 0.0, rounding: str = "floor"
) -> torch.Tensor:
    r"""Boolean mask (n,) of the samples inside the partial-AUC region.

    Keeps the ``k- = R(max_fpr * n-)`` highest-scored negatives and the ``k+ = R((1 - min_tpr) * n+)``
    lowest-scored positives, where ``R`` is ``rounding``: ``"floor"`` (default; the TPAUC metric's
    convention), ``"ceil"`` or ``"round"`` (half up; LibAUC's ``pauc_roc_score`` rounds). A relative
    slack of 1e-9 absorbs binary rounding of the product (0.29 * 100 counts as 29).

    Ties at the cut-off are broken deterministically by index: among equal scores the sample with
    the smaller index is selected first. NaN scores count as the hardest (selected first). Runs in
    O(n) on CPU (``std::nth_element``) and with stable radix sorts on CUDA; the masks are identical.
    Not differentiable (the selection is piecewise constant).
    """
    V.tensor(scores, "scores")
    V.tensor(labels, "labels")
    max_fpr = V.fraction(max_fpr, "max_fpr")
    min_tpr = V.fraction(min_tpr, "min_tpr")
    V.option(rounding, O.ROUNDING)
    return torch.ops.torchauc.partial_auc_select(scores.detach(), labels, max_fpr, min_tpr, rounding)


def partial_auc_loss(
    scores: torch.Tensor,
    labels: torch.Tensor,
    *,
    max_fpr: float,
    min_tpr: float = 0.0,
    surrogate: str = "square",
    margin: float = 1.0,
    rounding: str = "floor",
    reduction: str = "mean",
    process_group: "torch.distributed.ProcessGroup | None" = None,
) -> torch.Tensor:
    r"""Hard top-k partial AUC loss: the pairwise AUC loss over the selected pairs only.

    .. math::
        L = \frac{1}{k_+ k_-}\sum_{i \in P_{k_+}} \sum_{j \in N_{k_-}} \ell(m, s_i - s_j)

    where :math:`N_{k_-}` are the :math:`k_- = R(\beta n_-)` highest-scored negatives and
    :math:`P_{k_+}` the :math:`k_+ = R((1-\alpha) n_+)` lowest-scored positives (``min_tpr = 0``:
    all positives, one-way OPAUC); see :func:`partial_auc_select` for the counts and the tie rule.
    The gradient of an unselected sample is exactly zero (the selection is treated as constant, as
    in every top-k pAUC method). ``surrogate``, ``margin`` and ``reduction`` are those of
    :func:`torchauc.pairwise.pairwise_auc_loss` (square/exp O(n), hinge/squared_hinge O(n log n),
    logistic/sigmoid tiled), plus the O(n) selection. On CPU the selected samples are compacted
    first, so the pairwise part costs O(k log k) in the k = k+ + k- selected samples.

    k = 0 (e.g. ``floor(0.1 * 5)``) or a batch without positives or negatives gives loss 0 with zero
    gradient; ``max_fpr = 1, min_tpr = 0`` is the full AUC loss. ``process_group``: the loss of the
    global batch of the group's ranks (all-gathered; the top-k selection is global), each rank
    getting the exact gradient of its own samples.
    """
    if D.check_group(process_group) is not None:
        scores, labels = D.gather_batch(process_group, scores, labels)
    mask = partial_auc_select(scores, labels, max_fpr=max_fpr, min_tpr=min_tpr, rounding=rounding)
    if devices.host_reads_free(mask):
        # compact the selected samples (k+ + k- of n) before the pairwise op: its sort then runs on
        # the selection only; unselected samples get the exact zero gradient of index_select
        keep = mask.nonzero().reshape(-1)
        return pairwise_auc_loss(
            scores.reshape(-1).index_select(0, keep),
            labels.reshape(-1).index_select(0, keep),
            surrogate=surrogate,
            margin=margin,
            reduction=reduction,
        )
    # on CUDA the mask becomes 0/1 weights (a compaction would need a host sync for its size)
    w = mask.to(scores.dtype if scores.is_floating_point() else torch.float32)
    return pairwise_auc_loss(
        scores, labels, surrogate=surrogate, margin=margin, pos_weights=w, neg_weights=w, reduction=reduction
    )


class PartialAUCLoss(nn.Module):
    """Module form of :func:`partial_auc_loss` (hard top-k OPAUC/TPAUC)."""

    def __init__(
        self,
        max_fpr: float,
        *,
        min_tpr: float = 0.0,
        surrogate: str = "square",
        margin: float = 1.0,
        rounding: str = "floor",
        reduction: str = "mean",
        process_group: "torch.distributed.ProcessGroup | None" = None,
    ) -> None:
        super().__init__()
        self.process_group: torch.distributed.ProcessGroup | None = process_group
        self.max_fpr: float = V.fraction(max_fpr, "max_fpr")
        self.min_tpr: float = V.fraction(min_tpr, "min_tpr")
        self.surrogate: str = V.option(surrogate, O.PAIRWISE_SURROGATE)
        self.margin: float = V.finite_float(margin, "margin")
        self.rounding: str = V.option(rounding, O.ROUNDING)
        self.reduction: str = V.option(reduction, O.REDUCTION)

    def forward(self, scores: torch.Tensor, labels: torch.Tensor) -> torch.Tensor:
        return partial_auc_loss(
            scores,
            labels,
            max_fpr=self.max_fpr,
            min_tpr=self.min_tpr,
            surrogate=self.surrogate,
            margin=self.margin,
            rounding=self.rounding,
            reduction=self.reduction,
            process_group=self.process_group,
        )


# ---------------------------------------------------------------------------------------------
# Relaxed TPAUC (ICML 2021) and its instance-wise form (TPAMI 2022)


def tpauc_weights(
    scores: torch.Tensor, weight: str = "poly", gamma: float = 1.0, eps: float = 1e-6
) -> tuple[torch.Tensor, torch.Tensor]:
    r"""The sample weights of the relaxed TPAUC: (v+, v-) for every sample (read at its class).

    ``poly``: v+ = (1 - s + eps)^gamma, v- = (s + eps)^gamma; ``exp``: v+ = 1 - exp(-gamma (1 - s)),
    v- = 1 - exp(-gamma s). Scores are probabilities in [0, 1] (not checked: no host sync; a poly
    weight of a score above 1 + eps is NaN). Differentiable (not detached, as in the paper's code).
    """
    if weight == "poly":
        return (1 - scores + eps).pow(gamma), (scores + eps).pow(gamma)
    return 1 - torch.exp(-gamma * (1 - scores)), 1 - torch.exp(-gamma * scores)


def _class_counts(labels, dtype):
    y = labels.reshape(-1)
    npos = (y != 0).sum().to(dtype)
    return npos, y.numel() - npos


class RelaxedTPAUCLoss(nn.Module):
    r"""Relaxed one-/two-way partial AUC loss (Yang et al., "When all we need is a piece of the pie",
    ICML 2021), exact in O(n) time and memory.

    .. math::
        L = \frac{1}{n_+ n_-}\sum_{i \in P}\sum_{j \in N} v_+(s_i)\, v_-(s_j)\, (m - (s_i - s_j))^2

    Args:
        weight: ``"poly"`` or ``"exp"`` (see :func:`tpauc_weights`); XCurve's ``weight_scheme``
            ``'Poly'``/``'Exp'`` are accepted too.
        gamma: the weight exponent (poly) or rate (exp).
        margin: the square-loss margin m. The ICML code fixes m = 1 (the default here); XCurve's
            ``RelaxedPAUCLoss`` uses ``gamma`` as the margin as well. ``margin=None`` reproduces
            XCurve (m = gamma). The two agree only at gamma = 1.
        auc_type: ``"TP"`` (two-way, default) or ``"OP"`` (one-way: v+ = 1).
        warmup_epochs: while ``epoch < warmup_epochs`` the weights are 1 (ICML ``epoch_to_paced``),
            or, when ``warmup_loss`` is given, ``warmup_loss(scores, labels.to(scores.dtype))`` is returned
            instead (XCurve ``E_k`` + ``first_state_loss``).
        eps: the poly-weight offset (1e-6 as in both official codes).

    ``forward(scores, labels, *, epoch=0)``: scores are probabilities in [0, 1] (sigmoid outputs),
    shape (n,) or (n, 1). Gradients flow through the weights (not detached), as in the paper's code.
    A one-class batch gives 0 (XCurve returns NaN). Cost: 6 weighted sums through
    :func:`torchauc.pairwise.pairwise_auc_loss` (square surrogate), no pair matrix.
    ``process_group`` (keyword): the loss of the global batch (eight all-reduced sums).
    """

    def __init__(
        self,
        weight: str = "poly",
        *,
        gamma: float = 1.0,
        margin: float | None = 1.0,
        auc_type: str = "TP",
        warmup_epochs: int = 0,
        warmup_loss: "Callable[[torch.Tensor, torch.Tensor], torch.Tensor] | None" = None,
        eps: float = 1e-6,
        process_group: "torch.distributed.ProcessGroup | None" = None,
    ) -> None:
        super().__init__()
        self.process_group: torch.distributed.ProcessGroup | None = process_group
        weight = {"Poly": "poly", "Exp": "exp"}.get(weight, weight)
        self.weight: str = V.option(weight, O.TPAUC_WEIGHT)
        self.gamma: float = V.finite_float(gamma, "gamma")
        self.margin: float | None = None if margin is None else V.finite_float(margin, "margin")
        self.auc_type: str = V.option(auc_type, O.AUC_TYPE)
        self.warmup_epochs: int = int(warmup_epochs)
        self.warmup_loss: Callable[[torch.Tensor, torch.Tensor], torch.Tensor] | None = warmup_loss
        self.eps: float = V.finite_float(eps, "eps")

    def forward(self, scores: torch.Tensor, labels: torch.Tensor, *, epoch: int = 0) -> torch.Tensor:
        V.tensor(scores, "scores")
        V.tensor(labels, "labels")
        warm = epoch < self.warmup_epochs
        group = D.check_group(self.process_group)
        if warm and self.warmup_loss is not None:
            if group is not None:
                scores, labels = D.gather_batch(group, scores, labels)
            return self.warmup_loss(scores, labels.to(scores.dtype))
        m = self.gamma if self.margin is None else self.margin
        s = scores.reshape(-1)
        if warm:
            vp = vn = None
        else:
            vp, vn = tpauc_weights(s, self.weight, self.gamma, self.eps)
            if self.auc_type == "OP":
                vp = None
        total = pairwise_auc_loss(
            s,
            labels,
            surrogate="square",
            margin=m,
            pos_weights=vp,
            neg_weights=vn,
            reduction="sum",
            process_group=group,  # six all-reduced moment sums
        )
        npos, nneg = _class_counts(labels, total.dtype)
        if group is not None:
            npos, nneg = D.all_reduce_sum_replicated(torch.stack([npos, nneg]), group).unbind()
        return total / torch.clamp_min(npos * nneg, 1)

    def extra_repr(self) -> str:
        return (
            f"weight={self.weight!r}, gamma={self.gamma}, margin={self.margin}, auc_type={self.auc_type!r}, "
            f"warmup_epochs={self.warmup_epochs}"
        )


def _w(x, y):
    return 2 * x * y - x * x


def _v(b, a1, a2, e, f):
    return _w(b, e + f) - _w(a1, e) - _w(a2, f)


class InsRelaxedPAUCLoss(nn.Module):
    r"""Instance-wise relaxed TPAUC (Yang et al., "Optimizing Two-way Partial AUC with an End-to-end
    Framework", TPAMI 2022; XCurve ``InsRelaxedPAUCLoss``), O(n).

    With c± = mean v±, f± = mean v± s, f±² = mean v± s² and v(b, a1, a2, e, f) =
    w(b, e+f) - w(a1, e) - w(a2, f), w(x, y) = 2xy - x²:

    .. math::
        L = \tfrac12 v(b_0,a_0,a_1,c_+,c_-) - v(a_2,b_1,b_2,c_-,f_+) + v(b_3,a_3,a_4,c_+,f_-)
          + \tfrac12 v(b_4,a_5,a_6,c_-,f_+^2) + \tfrac12 v(b_5,a_7,a_8,c_+,f_-^2) - v(a_9,b_6,b_7,f_+,f_-)
          + r_a\|a\|^2 - r_b\|b\|^2

    minimised over the model and ``a`` (10,), maximised over ``b`` (8,). At the saddle it equals
    :class:`RelaxedTPAUCLoss` with margin 1. ``a`` and ``b`` are registered float64 parameters (XCurve:
    plain CUDA tensors); step them with :class:`torchauc.optim.SGD4MinMaxPAUC` (descent on ``a``,
    ascent on ``b``), or any optimizer on :meth:`min_parameters` plus ``maximize=True`` on ``b``.
    At the default zero init the model gradient is 0 until ``a``/``b`` move (as in XCurve);
    ``init="saddle"`` in :meth:`reset_to_saddle` sets them to the batch saddle point.

    ``weight`` defaults to ``"exp"`` (XCurve's ``weight_scheme=None`` silently means Exp).
    ``forward(scores, labels, *, epoch=0)``; a class absent from the batch contributes zero statistics.
    ``process_group`` (keyword): the loss of the global batch from its statistics (this rank's six
    weighted sums and two class counts, all-reduced: 8 numbers); ``a`` and ``b`` then get the same
    gradient on every rank. The warm-up loss, any function of the batch, gets the gathered batch.
    """

    def __init__(
        self,
        gamma: float = 1.0,
        *,
        weight: str | None = "exp",
        auc_type: str = "OP",
        reg_a: float = 0.0,
        reg_b: float = 0.0,
        warmup_epochs: int = 0,
        warmup_loss: "Callable[[torch.Tensor, torch.Tensor], torch.Tensor] | None" = None,
        eps: float = 1e-6,
        process_group: "torch.distributed.ProcessGroup | None" = None,
    ) -> None:
        super().__init__()
        self.process_group: torch.distributed.ProcessGroup | None = process_group
        weight = {"Poly": "poly", "Exp": "exp", None: "exp"}.get(weight, weight)
        self.weight: str | None = V.option(weight, O.TPAUC_WEIGHT)
        self.gamma: float = V.finite_float(gamma, "gamma")
        self.auc_type: str = V.option(auc_type, O.AUC_TYPE)
        self.reg_a: float = V.finite_float(reg_a, "reg_a")
        self.reg_b: float = V.finite_float(reg_b, "reg_b")
        self.warmup_epochs: int = int(warmup_epochs)
        self.warmup_loss: Callable[[torch.Tensor, torch.Tensor], torch.Tensor] | None = warmup_loss
        self.eps: float = V.finite_float(eps, "eps")
        self.a: nn.Parameter = nn.Parameter(torch.zeros(10, dtype=torch.float64))
        self.b: nn.Parameter = nn.Parameter(torch.zeros(8, dtype=torch.float64))

    def statistics(
        self, scores: torch.Tensor, labels: torch.Tensor, group: "torch.distributed.ProcessGroup | None" = None
    ) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor, torch.Tensor, torch.Tensor, torch.Tensor]:
        """(c+, c-, f+, f-, f+², f-²): the six weighted class means (0 for an absent class), of the
        global batch of ``group`` when given (the sums and counts all-reduced, differentiably)."""
        s = scores.reshape(-1)
        pos = labels.reshape(-1) != 0
        vp, vn = tpauc_weights(s, self.weight, self.gamma, self.eps)
        if self.auc_type == "OP":
            vp = torch.ones_like(s)
        pf, nf = pos.to(s.dtype), (~pos).to(s.dtype)
        vp, vn = vp * pf, vn * nf
        sums = [vp.sum(), vn.sum(), (vp * s).sum(), (vn * s).sum(), (vp * s * s).sum(), (vn * s * s).sum()]
        sums = torch.stack(sums + [pf.sum(), nf.sum()])
        if group is not None:
            sums = D.all_reduce_sum_replicated(sums, group)
        counts = torch.clamp_min(sums[6:], 1).repeat(3)  # n+, n- for each pair of sums
        return tuple((sums[:6] / counts).unbind())

    def forward(self, scores: torch.Tensor, labels: torch.Tensor, *, epoch: int = 0) -> torch.Tensor:
        group = D.check_group(self.process_group)
        if epoch < self.warmup_epochs and self.warmup_loss is not None:
            if group is not None:
                scores, labels = D.gather_batch(group, scores, labels)
            return self.warmup_loss(scores, labels.to(scores.dtype))
        cp, cn, fp, fn, fp2, fn2 = self.statistics(scores, labels, group)
        a, b = self.a, self.b
        loss = (
            0.5 * _v(b[0], a[0], a[1], cp, cn)
            - _v(a[2], b[1], b[2], cn, fp)
            + _v(b[3], a[3], a[4], cp, fn)
            + 0.5 * _v(b[4], a[5], a[6], cn, fp2)
            + 0.5 * _v(b[5], a[7], a[8], cp, fn2)
            - _v(a[9], b[6], b[7], fp, fn)
        )
        return loss + self.reg_a * a.square().sum() - self.reg_b * b.square().sum()

    @torch.no_grad()
    def reset_to_saddle(self, scores: torch.Tensor, labels: torch.Tensor) -> None:
        """Set a and b to the saddle point of this batch's statistics (then L = RelaxedTPAUC, m = 1)."""
        cp, cn, fp, fn, fp2, fn2 = (t.to(torch.float64) for t in self.statistics(scores, labels))
        # max_x w(x, y) and min over the a's of -w: every variable equals its paired statistic
        self.a.copy_(torch.stack([cp, cn, cn + fp, cp, fn, cn, fp2, cp, fn2, fp + fn]))
        self.b.copy_(torch.stack([cp + cn, cn, fp, cp + fn, cn + fp2, cp + fn2, fp, fn]))

    def min_parameters(self) -> list[torch.nn.Parameter]:
        return [self.a]

    def max_parameters(self) -> list[torch.nn.Parameter]:
        return [self.b]


# ---------------------------------------------------------------------------------------------
# PAUCI (NeurIPS 2022)

_PAUCI_INIT = {"a": 0.5, "b": 0.5, "g": 1.0, "s_p": 0.5, "s_n": 0.5, "lam_a": 0.0, "lam_b": 0.0}
PAUCI_CLIP = {
    "a": (0.0, 1.0),
    "b": (0.0, 1.0),
    "g": (-1.0, 1.0),
    "s_p": (-4.0, 1.0),
    "s_n": (0.0, 5.0),
    "lam_a": (0.0, 1e9),
    "lam_b": (0.0, 1e9),
}
# The paper maximises over g (the square-AUC dual variable, -g^2 term). The multipliers lam_a, lam_b
# enforce constraints of the max player (g >= b - 1, g >= -a) and are therefore minimised.
PAUCI_MAXIMIZE = ("g",)


def _softplus_k(x, kappa):
    return torch.nn.functional.softplus(x, beta=kappa, threshold=20.0 / kappa)


class PAUCILoss(nn.Module):
    r"""PAUCI: asymptotically unbiased instance-wise regularized partial AUC (Shao et al., NeurIPS
    2022; XCurve ``UnbiasedPAUCLoss``), O(n), one-way (``min_tpr == 0``) and two-way.

    With sp(x) = log(1 + e^{κx})/κ, α = 1 - min_tpr (kept fraction of positives), β = max_fpr:

    OPAUC: mean₊[(s-a)² - 2(1+g)s] + s_n + mean₋[sp((s-b)² + 2(1+g)s - s_n)]/β - g² - λ_b(b-1-g)

    TPAUC: s_p + mean₊[sp((s-a)² - 2(1+g)s - s_p)]/α + s_n + mean₋[sp((s-b)² + 2(1+g)s - s_n)]/β
           - g² - λ_b(b-1-g) + λ_a(a+g)

    The seven scalars are registered parameters (a=b=s_p=s_n=0.5, g=1, λ=0) with the official clip
    ranges in :data:`PAUCI_CLIP`; :meth:`asgda_groups` returns their parameter groups (name, clip,
    maximize) for :class:`torchauc.optim.ASGDA`. sp is overflow-safe (XCurve's log(1+exp) is not).
    ``forward(scores, labels)`` with sigmoid scores. An absent class contributes 0 to its mean.
    ``process_group`` (keyword): the loss of the global batch (all-gathered); the seven scalars
    then get the same (global) gradient on every rank.
    """

    def __init__(
        self,
        max_fpr: float,
        *,
        min_tpr: float = 0.0,
        kappa: float = 2.0,
        process_group: "torch.distributed.ProcessGroup | None" = None,
    ) -> None:
        super().__init__()
        self.process_group: torch.distributed.ProcessGroup | None = process_group
        self.max_fpr: float = V.fraction(max_fpr, "max_fpr")
        self.min_tpr: float = V.fraction(min_tpr, "min_tpr")
        if self.max_fpr <= 0 or self.min_tpr >= 1:
            raise ValueError("PAUCILoss needs max_fpr > 0 and min_tpr < 1")
        self.kappa: float = V.finite_float(kappa, "kappa")
        if self.kappa <= 0:
            raise ValueError(f"kappa must be > 0, got {kappa}")
        for name, v in _PAUCI_INIT.items():
            setattr(self, name, nn.Parameter(torch.tensor(v)))

    @property
    def two_way(self) -> bool:
        return self.min_tpr > 0

    def forward(self, scores: torch.Tensor, labels: torch.Tensor) -> torch.Tensor:
        if D.check_group(self.process_group) is not None:  # the class means of the global batch
            scores, labels = D.gather_batch(self.process_group, scores, labels)
        s = scores.reshape(-1)
        pos = labels.reshape(-1) != 0
        pf, nf = pos.to(s.dtype), (~pos).to(s.dtype)
        npos, nneg = torch.clamp_min(pf.sum(), 1), torch.clamp_min(nf.sum(), 1)
        k, g2 = self.kappa, 2 * (1 + self.g)
        neg_term = _softplus_k((s - self.b) ** 2 + g2 * s - self.s_n, k)
        res = self.s_n + (neg_term * nf).sum() / nneg / self.max_fpr - self.g**2 - self.lam_b * (self.b - 1 - self.g)
        pos_core = (s - self.a) ** 2 - g2 * s
        if self.two_way:
            alpha = 1.0 - self.min_tpr
            res = res + self.s_p + (_softplus_k(pos_core - self.s_p, k) * pf).sum() / npos / alpha
            res = res + self.lam_a * (self.a + self.g)
        else:
            res = res + (pos_core * pf).sum() / npos
        return res

    def asgda_groups(self, **options: Any) -> list[dict[str, Any]]:
        """One parameter group per scalar: ``name``, ``clip`` (official range), ``maximize``."""
        return [
            dict(params=[getattr(self, n)], name=n, clip=PAUCI_CLIP[n], maximize=n in PAUCI_MAXIMIZE, **options)
            for n in _PAUCI_INIT
        ]

    @torch.no_grad()
    def clip_(self) -> None:
        for n, (lo, hi) in PAUCI_CLIP.items():
            getattr(self, n).clamp_(lo, hi)


# ---------------------------------------------------------------------------------------------
# UPAUCI (TPAMI 2026, "Closing the Approximation Gap of PAUC Optimization", Sec. 4.3.2)

UPAUCI_PARAMS = ("a", "b", "g", "s_p", "s_n", "theta_a", "theta_b")  # the op's params order
# Sec. 7.7: large a, small b, gamma = 0; c starts at 1 (better than 0.2 on OPAUC)
_UPAUCI_INIT = {"a": 1.0, "b": 0.0, "g": 0.0, "s_p": 0.5, "s_n": 0.5, "theta_a": 0.0, "theta_b": 0.0}
# App. B / Corollary 1: (a, b) in [0,1]^2, gamma in [-1, 1] (the coupled domain is handled by the
# multipliers theta, which are minimised), s in [-4, 1], s' in [0, 5], c in [0, 1]
UPAUCI_CLIP = {**{k.replace("lam_", "theta_"): v for k, v in PAUCI_CLIP.items()}, "c": (0.0, 1.0)}
UPAUCI_MAXIMIZE = ("g", "c")


def upauci_loss(
    scores: torch.Tensor,
    labels: torch.Tensor,
    weights: torch.Tensor,
    params: ParamsT,
    *,
    max_fpr: float,
    min_tpr: float = 0.0,
    omega: float = 0.1,
) -> torch.Tensor:
    r"""The UPAUCI objective of one batch (see :class:`UPAUCILoss`), fused: one O(n) pass computes the
    loss and its gradients w.r.t. ``scores``, ``weights`` (the batch's c_j) and ``params``.

    Args:
        scores: (n,) or (n, 1) sigmoid scores in [0, 1] (not checked), any float dtype.
        labels: (n,) 0/1.
        weights: (n,) the instance weights c_j of the batch's samples.
        params: (7,) float64 ``(a, b, gamma, s, s', theta_a, theta_b)``.
        max_fpr: beta in (0, 1]; min_tpr: 0 for OPAUC (one-way), in (0, 1) for TPAUC (alpha = 1 - min_tpr).
        omega: the regulariser weight (>= 0).
    """
    V.tensor(scores, "scores")
    V.tensor(labels, "labels")
    V.tensor(weights, "weights")
    V.tensor(params, "params")
    max_fpr = V.fraction(max_fpr, "max_fpr", low_open=True)
    min_tpr = V.fraction(min_tpr, "min_tpr", high_open=True)
    omega = V.finite_float(omega, "omega")
    if omega < 0:
        raise ValueError(f"omega must be >= 0, got {omega}")
    grad = V.needs_grad(scores, weights, params)
    return torch.ops.torchauc.partial_auc_upauci(scores, labels, weights, params, max_fpr, min_tpr, omega, grad)[0]


class UPAUCILoss(nn.Module):
    r"""UPAUCI: the exactly unbiased instance-wise partial AUC (Shao, Xu, Yang, Bao, Huang, "Closing
    the Approximation Gap of Partial AUC Optimization", TPAMI 2026), one-way and two-way, O(n).

    The top-k selection of PAUCI's softplus becomes exact through ``[x]+ = max_{c in [0,1]} c x``, with
    one weight c_j per training sample. With P = (f-a)² - 2(1+γ)f, N = (f-b)² + 2(1+γ)f,
    β = ``max_fpr``, α = 1 - ``min_tpr``:

    OPAUC (``min_tpr`` None or 0): mean₊[P] + s' + mean₋[c(N - s')]/β - γ² - θ_b(b-1-γ) - ω(γ² + mean₋[c²])

    TPAUC: s + mean₊[c(P - s)]/α + s' + mean₋[c(N - s')]/β - γ² - θ_b(b-1-γ) + θ_a(a+γ) - ω(γ² + mean[c²])

    minimised over the model, a, b, s, s', θ_a, θ_b and maximised over γ and c. The paper writes
    the regulariser as ω‖c‖²; here ‖c‖² is the batch mean of c² over the samples that carry a weight
    (negatives one-way, all two-way), so that its gradient has the scale of the data term and ω does
    not depend on the batch size. With ω = 0 the inner maximiser is c_j = 1[N_j > s'], the exact
    top-β selection.

    Args:
        num_samples: size of the training set; ``c`` is a float32 buffer of that length indexed by the
            sample ids the dataloader returns.
        max_fpr, min_tpr: the region (``min_tpr=None`` or 0: one-way).
        omega: the regulariser weight ω (paper range [0, 4]; 0 was worse and 1.0 too large on OPAUC).
        c_init: the initial weights (1, as the paper advises for OPAUC).

    ``forward(scores, labels, ids)`` with sigmoid scores; returns the batch objective. The batch's
    weights are gathered into ``self.batch_c`` (a leaf that receives its gradient) next to
    ``self.batch_ids``, which :class:`torchauc.optim.ASGDA` (``instance_weights=loss``) reads for its
    sparse ascent on c. The scalars are float64 parameters (init: a=1, b=0, γ=0, s=s'=0.5, θ=0, the
    paper's Sec. 7.7 advice); :meth:`asgda_groups` returns their parameter groups. An absent
    class's term (its threshold s or s' included) is 0, as in the expectation form Ê[y/p ...]. No
    official code exists; the loss follows the paper's equations (16)-(26).

    ``process_group=`` (keyword; None = this rank's batch): the objective of the global batch; scores,
    labels and ids are all-gathered (autograd-aware: each rank gets the gradient of its own scores), so
    ``batch_ids`` / ``batch_c`` are the global batch's on every rank and receive the same gradient: the
    ASGDA ascent then writes the same entries of ``c`` on every rank (the buffer stays identical), and
    the scalars get the same gradient on every rank.
    """

    batch_ids: torch.Tensor | None
    batch_c: torch.Tensor | None

    def __init__(
        self,
        num_samples: int,
        max_fpr: float,
        min_tpr: float | None = None,
        *,
        omega: float = 0.1,
        c_init: float = 1.0,
        process_group: "torch.distributed.ProcessGroup | None" = None,
    ) -> None:
        super().__init__()
        self.process_group: torch.distributed.ProcessGroup | None = process_group
        if isinstance(num_samples, bool) or not isinstance(num_samples, int) or num_samples < 1:
            raise ValueError(f"num_samples must be a positive int, got {num_samples!r}")
        self.max_fpr: float = V.fraction(max_fpr, "max_fpr", low_open=True)
        self.min_tpr: float = 0.0 if min_tpr is None else V.fraction(min_tpr, "min_tpr", high_open=True)
        self.omega: float = V.finite_float(omega, "omega")
        if self.omega < 0:
            raise ValueError(f"omega must be >= 0, got {omega}")
        c_init = V.fraction(c_init, "c_init")
        for name, v in _UPAUCI_INIT.items():
            setattr(self, name, nn.Parameter(torch.tensor(v, dtype=torch.float64)))
        self.register_buffer("c", torch.full((num_samples,), c_init))
        self.batch_ids = self.batch_c = None

    @property
    def two_way(self) -> bool:
        return self.min_tpr > 0

    def params(self) -> torch.Tensor:
        """The (7,) float64 stack (a, b, γ, s, s', θ_a, θ_b), differentiable."""
        return torch.stack([getattr(self, n) for n in UPAUCI_PARAMS]).to(torch.float64)

    def forward(self, scores: torch.Tensor, labels: torch.Tensor, ids: torch.Tensor) -> torch.Tensor:
        V.tensor(ids, "ids")
        if ids.dtype not in (torch.int64, torch.int32) or ids.numel() != scores.numel():
            raise ValueError(
                f"ids must be an int64/int32 tensor with one sample id per score ({scores.numel()}), got "
                f"{ids.dtype} of shape {tuple(ids.shape)}"
            )
        if D.check_group(self.process_group) is not None:
            scores, labels, ids = D.gather_batch(
                self.process_group, scores.reshape(-1), V.tensor(labels, "labels").reshape(-1), ids.reshape(-1)
            )
        ids = ids.reshape(-1).to(device=self.c.device, dtype=torch.int64)
        V.index_range(ids, self.c.numel(), f"ids must be in [0, num_samples = {self.c.numel()})")
        cb = self.c.index_select(0, ids)
        if torch.is_grad_enabled():
            cb.requires_grad_()
        self.batch_ids, self.batch_c = ids, cb
        return upauci_loss(
            scores, labels, cb, self.params(), max_fpr=self.max_fpr, min_tpr=self.min_tpr, omega=self.omega
        )

    def asgda_groups(self, **options: Any) -> list[dict[str, Any]]:
        """One parameter group per scalar: ``name``, ``clip``, ``maximize`` (γ)."""
        return [
            dict(params=[getattr(self, n)], name=n, clip=UPAUCI_CLIP[n], maximize=n in UPAUCI_MAXIMIZE, **options)
            for n in UPAUCI_PARAMS
        ]

    def extra_repr(self) -> str:
        return f"num_samples={self.c.numel()}, max_fpr={self.max_fpr}, min_tpr={self.min_tpr}, omega={self.omega}"


__all__ = [
    "upauci_loss",
    "UPAUCILoss",
    "UPAUCI_CLIP",
    "partial_auc_select",
    "partial_auc_loss",
    "PartialAUCLoss",
    "tpauc_weights",
    "RelaxedTPAUCLoss",
    "InsRelaxedPAUCLoss",
    "PAUCILoss",
    "PAUCI_CLIP",
]
