r"""XCurve-compatible names: ``from torchauc.compat.xcurve import SquareAUCLoss`` in place of
``from XCurve.AUROC.losses import SquareAUCLoss`` (XCurve 1.1.0), same class names, constructor
arguments, defaults and ``forward`` signatures, on CPU and GPU (no hard-coded ``.cuda()``), without
pair matrices or per-class Python loops.

Values equal XCurve's where XCurve is right. Where XCurve is wrong (spec/anchors.md, Part 1 §7) the
default here is the correct value and XCurve's is one documented keyword away:

* ``HingeAUCLoss``: XCurve divides the negative term by an extra N_i (0.318976 vs 0.819840 in the
  spec's probe); ``normalization="xcurve"`` gives XCurve's value.
* ``SquareAUCLoss`` / ``ExpAUCLoss`` / ``HingeAUCLoss`` with an absent class: XCurve gives NaN, ours
  skips the class (``normalization="present"``); binary targets of shape (N, 1) are not broadcast;
  ``transform="ova"`` is the mean over classes (XCurve: the sum; ``normalization="xcurve"`` gives
  XCurve's value, sum and NaN included).
* ``RelaxedPAUCLoss``: raises NameError in XCurve 1.1.0; here it works, with the square-loss margin 1
  of the ICML paper (``margin=None``: XCurve's gamma used as margin and exponent).
* ``StandardAUTKCLoss``: K top competitors over K (``terms="xcurve"``: XCurve's K + 1 over K).
* ``HingeTopKLoss``: each row is paired with its own label (XCurve broadcasts (B,) - (B, 1) to B x B
  and averages over all row pairs: ``xcurve_broadcast=True``); l1/l4 skip the label column
  (``label="zero"``: scored 0 as XCurve).
* ``CETopKLoss``: XCurve moves the label to the top with the batch-wide max score, so in the row
  holding that max the tie may keep the label's term and drop a competitor's; ours always excludes
  the label (equal to XCurve on every other row).
* ``StandardOpenAUCLoss``: an explicit ``generator`` (XCurve: numpy's global RNG); an odd batch keeps
  the AUC term (``odd_batch="drop"``: XCurve drops it silently).
* ``InsRelaxedPAUCLoss``, ``UnbiasedPAUCLoss``: auxiliary variables are registered parameters.
* Metrics return fractions as XCurve does for ``OpenAUC`` and percentages for ``TopkAcc``/``AUTKC``.

* ``AdvAUROCLoss`` / ``RegAdvAUROCLoss`` (AdAUC, :mod:`torchauc.adauc`): the canonical -p(1-p) alpha^2
  term (``form="xcurve"``: XCurve's -p alpha^2); a, b, alpha (and the multipliers) are registered
  parameters instead of loose ``.cuda()`` tensors.

Every loss takes a keyword-only ``process_group=`` (None: this rank's batch, as XCurve): the loss of
the global batch of the group's ranks, exactly as the torchauc loss it wraps computes it (moment
all-reduces for the square / exp / linear AUC losses, gathers for the sort-based ones); each rank
gets the gradient of its own samples and loss-owned parameters the global gradient on every rank.
"""

import math
from collections.abc import Callable, Sequence
from typing import Any

import torch
import torch.nn.functional as F
from torch import nn

from .. import adauc as _adauc
from .. import auprc as _auprc
from .. import autkc as _autkc
from .. import multiclass as _multiclass
from .. import open_auc as _open_auc
from .. import pairwise as _pairwise
from .. import partial_auc as _partial
from .._core import devices
from .._core import distributed as D
from .._core import options as O
from .._core import validate as V
from ..auroc import functional as _metrics

_NORMALIZATION = O.NORMALIZATION


# ---------------------------------------------------------------------------------------- AUROC losses
class _XCurveAUCLoss(nn.Module):
    """XCurve's ``AUCLoss(num_classes, gamma=1, transform='ovo')``: binary (num_classes == 2) on (N,)
    or (N, 1) scores, multiclass on (N, C) scores. ``normalization``: ``"present"`` (absent classes
    skipped) or ``"xcurve"`` (divide by all C; NaN with an absent class as XCurve)."""

    _surrogate = "square"
    _binary: Callable[[torch.Tensor, torch.Tensor], torch.Tensor]  # each XCurve class defines its binary loss

    def __init__(
        self,
        num_classes: int,
        gamma: float = 1,
        transform: str = "ovo",
        *,
        normalization: str = "present",
        process_group: "torch.distributed.ProcessGroup | None" = None,
    ) -> None:
        super().__init__()
        self.process_group = process_group
        if transform not in ("ovo", "ova"):
            raise ValueError(f"transform must be 'ovo' or 'ova', got {transform!r}")
        self.num_classes: int | None = V.optional_int(num_classes, "num_classes")
        self.gamma: float = V.finite_float(gamma, "gamma")
        self.transform: str = transform
        self.normalization: str = V.option(normalization, _NORMALIZATION)

    def forward(self, pred: torch.Tensor, target: torch.Tensor, **kwargs: Any) -> torch.Tensor:
        if self.num_classes == 2:  # (N,) or (N, 1) as they come: the op takes both (a reshape is an autograd node)
            return self._binary(pred, target)
        return _multiclass.multiclass_auc_loss(
            pred,
            target,
            surrogate=self._surrogate,
            mode=self.transform,
            margin=self.gamma,
            normalization=self.normalization,
            process_group=self.process_group,
        )

    def extra_repr(self) -> str:
        return f"num_classes={self.num_classes}, gamma={self.gamma}, transform={self.transform!r}"


class SquareAUCLoss(_XCurveAUCLoss):
    """XCurve ``SquareAUCLoss``: binary 0.5 mean over pairs of (gamma - (s+ - s-))^2; multiclass the
    TPAMI 2021 square loss (:func:`torchauc.multiclass.multiclass_auc_loss`)."""

    def _binary(self, s, y):  # the 0.5 is applied inside the op: one op and one autograd node
        return _pairwise.module_loss(s, y, None, None, "square", self.gamma, "mean", self.process_group, 0.5)


class ExpAUCLoss(_XCurveAUCLoss):
    """XCurve ``ExpAUCLoss``: binary mean over pairs of exp(-gamma (s+ - s-))."""

    _surrogate = "exp"

    def _binary(self, s, y):
        return _pairwise.module_loss(s, y, None, None, "exp", self.gamma, "mean", self.process_group)


class HingeAUCLoss(_XCurveAUCLoss):
    """XCurve ``HingeAUCLoss`` (a linear, unclamped surrogate gamma - (s+ - s-)): binary
    gamma - mean s+ + mean s-; multiclass ``surrogate="linear"``. ``normalization="xcurve"``
    reproduces XCurve's extra 1/N_i on the negative term (binary: gamma - mean s+ + sum s- / (n+ n-);
    multiclass: XCurve's formula, evaluated from per-class score sums)."""

    _surrogate = "linear"

    def _binary(self, s, y):
        s, y = s.reshape(-1), y.reshape(-1)
        pos = y != 0
        npos, nneg = pos.sum().to(s.dtype), (~pos).sum().to(s.dtype)
        sp = torch.where(pos, s, torch.zeros_like(s)).sum()
        sn = torch.where(pos, torch.zeros_like(s), s).sum()
        if D.check_group(self.process_group) is not None:  # the global batch's four sums
            sums = D.all_reduce_sum_replicated(torch.stack([npos, nneg, sp, sn]), self.process_group)
            npos, nneg, sp, sn = sums.unbind()
        neg_den = npos * nneg if self.normalization == "xcurve" else nneg
        return self.gamma - sp / npos + sn / neg_den

    def forward(self, pred: torch.Tensor, target: torch.Tensor, **kwargs: Any) -> torch.Tensor:
        if self.num_classes == 2 or self.normalization != "xcurve":
            return super().forward(pred, target)
        return _xcurve_linear_multiclass(pred, target, self.gamma, self.transform, self.process_group)


def _xcurve_linear_multiclass(pred, target, gamma, transform, group):
    """XCurve's multiclass HingeAUCLoss value. With S_ji the sum of column i over the samples of class j
    and N_i the class counts, class i adds fac (gamma - S_ii / N_i) + sum_{j != i} S_ji / (N_j N_i)
    (ovo, fac = C - 1, all / C (C - 1)) or gamma - S_ii / N_i + sum_{j != i} S_ji / (N_i (N - N_i))
    (ova). That is linear in the scores: K + sum_q sum_i W[y_q, i] s_qi with W a C x C table of the
    counts, so the loss is one product with W[y] (the scores' size), whose gradient is W[y]: three
    autograd nodes whatever C. An absent class gives NaN, as XCurve's 0 / 0."""
    y = target.reshape(-1).long()
    C = pred.shape[1]
    if devices.host_reads_free(y):
        N = torch.bincount(y, minlength=C)
    else:  # bincount reads max(y) on the host to size its result; the counts by a scatter (size C) do not
        N = torch.zeros(C, dtype=torch.long, device=y.device).index_add_(0, y, torch.ones_like(y))
    group = D.check_group(group)
    if group is not None:  # the global batch's counts; the linear sum is all-reduced below
        N = D.all_reduce_sum(N, group)
    N = N.to(pred.dtype)
    inv = N.reciprocal()
    if transform == "ovo":
        pairs = float(C * (C - 1))
        W = torch.outer(inv, inv).div_(pairs)  # W[j, i] = 1 / (N_j N_i C (C - 1))
        W.diagonal().copy_(inv.mul(-(C - 1)).div_(pairs))
        K = gamma if C > 1 else math.nan
    else:
        W = (inv / (N.sum() - N)).expand(C, C).clone()  # W[j, i] = 1 / (N_i (N - N_i))
        W.diagonal().copy_(inv.neg())
        K = C * gamma
    linear = (W.index_select(0, y) * pred).sum()
    if group is not None:
        linear = D.all_reduce_sum_replicated(linear, group)
    return linear + torch.where((N > 0).all(), K, math.nan)


class RelaxedPAUCLoss(_partial.RelaxedTPAUCLoss):
    """XCurve ``RelaxedPAUCLoss(gamma=1.0, E_k=0, weight_scheme='Poly', num_classes=2,
    reduction='mean', AUC_type='OP', first_state_loss=None)`` (ICML 2021), exact in O(n).
    ``margin=1.0`` (default) is the paper's square-loss margin; ``margin=None`` is XCurve's (gamma)."""

    def __init__(
        self,
        gamma: float = 1.0,
        E_k: int = 0,
        weight_scheme: str = "Poly",
        num_classes: int = 2,
        reduction: str = "mean",
        AUC_type: str = "OP",
        first_state_loss: "Callable[[torch.Tensor, torch.Tensor], torch.Tensor] | None" = None,
        *,
        margin: float = 1.0,
        eps: float = 1e-6,
        process_group: "torch.distributed.ProcessGroup | None" = None,
    ) -> None:
        if num_classes != 2:
            raise ValueError("RelaxedPAUCLoss supports binary classification only (num_classes=2)")
        super().__init__(
            weight_scheme,
            gamma=gamma,
            margin=margin,
            auc_type=AUC_type,
            warmup_epochs=E_k,
            warmup_loss=first_state_loss,
            eps=eps,
            process_group=process_group,
        )
        self.reduction: str = V.option(reduction, O.REDUCTION)

    def forward(  # pyright: ignore[reportIncompatibleMethodOverride]  (XCurve's argument names)
        self, pred: torch.Tensor, target: torch.Tensor, epoch: int = 0, **kwargs: Any
    ) -> torch.Tensor:
        loss = super().forward(pred, target, epoch=epoch)
        if self.reduction == "sum" and not (epoch < self.warmup_epochs and self.warmup_loss is not None):
            pos = target.reshape(-1) != 0
            counts = torch.stack([pos.sum(), (~pos).sum()])
            if D.check_group(self.process_group) is not None:  # the global batch's pair count
                counts = D.all_reduce_sum(counts, self.process_group)
            loss = loss * (counts[0] * counts[1]).to(loss.dtype)
        return loss


class InsRelaxedPAUCLoss(_partial.InsRelaxedPAUCLoss):
    """XCurve ``InsRelaxedPAUCLoss(gamma=1, E_k=0, weight_scheme=None, num_classes=2, eps=1e-6,
    AUC_type='OP', first_state_loss=None, reg_a=0.0, reg_b=0.0)``; ``a`` (10,) and ``b`` (8,) are
    registered parameters on the module's device (XCurve: CUDA tensors)."""

    def __init__(
        self,
        gamma: float = 1,
        E_k: int = 0,
        weight_scheme: str | None = None,
        num_classes: int = 2,
        eps: float = 1e-6,
        AUC_type: str = "OP",
        first_state_loss: "Callable[[torch.Tensor, torch.Tensor], torch.Tensor] | None" = None,
        reg_a: float = 0.0,
        reg_b: float = 0.0,
        *,
        process_group: "torch.distributed.ProcessGroup | None" = None,
    ) -> None:
        if num_classes != 2:
            raise ValueError("InsRelaxedPAUCLoss supports binary classification only (num_classes=2)")
        super().__init__(
            gamma,
            weight=weight_scheme,
            auc_type=AUC_type,
            reg_a=reg_a,
            reg_b=reg_b,
            warmup_epochs=E_k,
            warmup_loss=first_state_loss,
            eps=eps,
            process_group=process_group,
        )

    def forward(  # pyright: ignore[reportIncompatibleMethodOverride]  (XCurve's argument names)
        self, pred: torch.Tensor, target: torch.Tensor, epoch: int = 0, **kwargs: Any
    ) -> torch.Tensor:
        return super().forward(pred, target, epoch=epoch)


class UnbiasedPAUCLoss(_partial.PAUCILoss):
    """XCurve ``UnbiasedPAUCLoss(alpha, beta, device)`` (PAUCI): alpha = kept fraction of positives
    (1: one-way), beta = max FPR; the seven scalars are parameters moved to ``device``."""

    def __init__(
        self,
        alpha: float,
        beta: float,
        device: torch.device | str | None = None,
        *,
        process_group: "torch.distributed.ProcessGroup | None" = None,
    ) -> None:
        min_tpr = 1.0 - V.fraction(alpha, "alpha", low_open=True)
        super().__init__(beta, min_tpr=min_tpr, process_group=process_group)
        if device is not None:
            self.to(device)

    def forward(  # pyright: ignore[reportIncompatibleMethodOverride]  (XCurve's argument names)
        self, pred: torch.Tensor, target: torch.Tensor
    ) -> torch.Tensor:
        return super().forward(pred, target)


# ---------------------------------------------------------------------------------------- AdAUC
def _or(value, default):
    return default if value is None else value


class AdvAUROCLoss(_adauc.AdAUCLoss):
    """XCurve ``AdvAUROCLoss(imratio=None, a=None, b=None, alpha=None)`` (None: 0.2 as XCurve);
    ``form="xcurve"`` reproduces XCurve's -p alpha^2."""

    def __init__(
        self,
        imratio: float | None = None,
        a: float | None = None,
        b: float | None = None,
        alpha: float | None = None,
        *,
        form: str = "canonical",
        process_group: "torch.distributed.ProcessGroup | None" = None,
    ) -> None:
        super().__init__(
            imratio, form=form, a=_or(a, 0.2), b=_or(b, 0.2), alpha=_or(alpha, 0.2), process_group=process_group
        )


class RegAdvAUROCLoss(_adauc.RegAdAUCLoss):
    """XCurve ``RegAdvAUROCLoss(imratio, a, b, alpha, lambda1, lambda2)`` (None: 0.2 and 1.0 as XCurve);
    ``form="xcurve"`` reproduces XCurve's -p alpha^2."""

    def __init__(
        self,
        imratio: float | None = None,
        a: float | None = None,
        b: float | None = None,
        alpha: float | None = None,
        lambda1: float | None = None,
        lambda2: float | None = None,
        *,
        form: str = "canonical",
        process_group: "torch.distributed.ProcessGroup | None" = None,
    ) -> None:
        super().__init__(imratio, form=form, a=_or(a, 0.2), b=_or(b, 0.2), alpha=_or(alpha, 0.2),
                         lambda1=_or(lambda1, 1.0), lambda2=_or(lambda2, 1.0), process_group=process_group)  # fmt: skip


# ---------------------------------------------------------------------------------------- AUTKC
_AUTKC_SURROGATES = {"Sq": "square", "Exp": "exp", "Logit": "logistic", "Hinge": "hinge"}


class StandardAUTKCLoss(_autkc.StandardAUTKCLoss):
    """XCurve ``StandardAUTKCLoss(surrogate in {'Sq', 'Exp', 'Logit', 'Hinge'}, K, epoch_to_paced)``;
    ``terms="xcurve"`` reproduces XCurve's K + 1 terms over K; ``process_group`` as in
    :mod:`torchauc.autkc`."""

    def __init__(
        self,
        surrogate: str,
        K: int,
        epoch_to_paced: int,
        *,
        terms: str = "k",
        process_group: "torch.distributed.ProcessGroup | None" = None,
    ) -> None:
        if surrogate not in _AUTKC_SURROGATES:
            raise ValueError(f"surrogate must be one of {', '.join(map(repr, _AUTKC_SURROGATES))}; got {surrogate!r}")
        super().__init__(_AUTKC_SURROGATES[surrogate], K, epoch_to_paced, terms=terms, process_group=process_group)


CETopKLoss = _autkc.CETopKLoss


class BaseHingeLoss(nn.Module):
    """XCurve ``BaseHingeLoss``: mean over rows and all C columns of (1 + x_j - x_y)_+ (the label's own
    column adds 1); ``process_group``: the mean over the global batch."""

    def __init__(self, *, process_group=None):
        super().__init__()
        self.process_group = process_group

    def forward(self, x: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
        terms = torch.clamp_min(1 + x - x.gather(-1, y.reshape(-1, 1).long()), 0)
        return D.global_mean(terms.reshape(-1), self.process_group)


class HingeTopKLoss(_autkc.HingeTopKLoss):
    """XCurve ``HingeTopKLoss(k, loss_type)`` with loss_type in l1..l5 (XCurve's default '' returns
    None; here it is a ValueError).

    XCurve subtracts the (B, 1) label scores from a (B,) row statistic, which broadcasts to a B x B
    matrix: its value is the mean over every (row i, row j) pair of (c_j - x_{y_i})_+, mixing rows.
    Ours pairs each row with its own label. ``xcurve_broadcast=True`` (with ``label="zero"`` for
    l1/l4, where XCurve also scores the label column 0) gives XCurve's value, computed by a sort
    and prefix sums (O(B k log B); XCurve: a B x B matrix per term). ``process_group`` (as in
    :mod:`torchauc.autkc`) is not offered with ``xcurve_broadcast`` (its rows would meet every
    rank's rows)."""

    def __init__(
        self,
        k: int,
        loss_type: str = "",
        *,
        label: str = "exclude",
        xcurve_broadcast: bool = False,
        process_group: "torch.distributed.ProcessGroup | None" = None,
    ) -> None:
        if loss_type == "":
            raise ValueError("loss_type must be one of 'l1', 'l2', 'l3', 'l4', 'l5' (XCurve's '' returns None)")
        if xcurve_broadcast and process_group is not None:
            raise ValueError("process_group is not supported with xcurve_broadcast=True")
        super().__init__(k, loss_type, label=label, process_group=process_group)
        self.xcurve_broadcast: bool = bool(xcurve_broadcast)

    def forward(self, logits: torch.Tensor, labels: torch.Tensor) -> torch.Tensor:
        if not self.xcurve_broadcast:
            return super().forward(logits, labels)
        c, x_y = _autkc.hinge_topk_terms(logits, labels, k=self.k, loss_type=self.loss_type, label=self.label)
        return _all_pairs_hinge_mean(c, x_y)


def _all_pairs_hinge_mean(c, x):
    """mean over every (c value, x value) pair of (c - x)_+ (XCurve's broadcast value) without the
    |c| x |x| matrix: one sort of x, prefix sums, a binary search per c; float64 sums."""
    xs, _ = torch.sort(x.reshape(-1).to(torch.float64))  # differentiable: its gradient goes to x
    c64 = c.reshape(-1).to(torch.float64)
    prefix = torch.cat([xs.new_zeros(1), torch.cumsum(xs, 0)])
    below = torch.searchsorted(xs.detach(), c64.detach(), right=True)  # x <= c: clamp_min passes ties
    total = (c64 * below.to(torch.float64) - prefix[below]).sum() / (c.numel() * x.numel())
    return torch.where(torch.isnan(xs[-1]), xs[-1], total).to(c.dtype)  # NaN sorts last: NaN in, NaN out


# ---------------------------------------------------------------------------------------- OpenAUC
class Softmax(nn.Module):
    """XCurve OpenAUC's closed-set ``Softmax(temp=..., label_smoothing=...)``: returns
    ``(logits, cross_entropy(logits / temp))`` (with label smoothing over the other classes)."""

    def __init__(self, **options: Any) -> None:
        super().__init__()
        self.temp: float = options["temp"]
        self.label_smoothing: float = options["label_smoothing"]

    def forward(
        self, logits: torch.Tensor, labels: torch.Tensor | None = None
    ) -> tuple[torch.Tensor, torch.Tensor | int]:
        if labels is None:
            return logits, 0
        z = logits / self.temp
        if not self.label_smoothing:
            return logits, F.cross_entropy(z, labels)
        # XCurve spreads the smoothing over the C - 1 other classes (torch's over all C)
        C, eps = z.shape[-1], self.label_smoothing
        logp = z.log_softmax(-1)
        other = (logp.sum(-1) - logp.gather(-1, labels.reshape(-1, 1)).squeeze(-1)) * (eps / (C - 1))
        return logits, -(other + (1 - eps) * logp.gather(-1, labels.reshape(-1, 1)).squeeze(-1)).mean()


def _second_output(loss_close: Callable[..., Any]) -> Callable[..., torch.Tensor]:
    """XCurve's ``loss_close`` returns ``(logits, loss)``; the inner loss wants the loss."""
    return lambda z, y: loss_close(z, y)[1]


class StandardOpenAUCLoss(nn.Module):
    """XCurve ``StandardOpenAUCLoss(loss_close, alpha, lambd)``: ``forward(logits, labels, f_post,
    manifolds)`` returns ``(logits, loss)``; ``loss_close(logits, labels)`` returns ``(logits, loss)``.
    See :class:`torchauc.open_auc.OpenAUCLoss` for ``generator``, ``odd_batch`` and ``process_group``."""

    def __init__(
        self,
        loss_close: Callable[..., torch.Tensor] | None,
        alpha: float,
        lambd: float,
        *,
        generator: torch.Generator | None = None,
        odd_batch: str = "mix",
        process_group: "torch.distributed.ProcessGroup | None" = None,
    ) -> None:
        super().__init__()
        self.loss_close: Callable[..., torch.Tensor] | None = loss_close
        self.inner: _open_auc.OpenAUCLoss = _open_auc.OpenAUCLoss(
            alpha,
            lambd,
            loss_close=None if loss_close is None else _second_output(loss_close),
            generator=generator,
            odd_batch=odd_batch,
            process_group=process_group,
        )

    def forward(
        self,
        logits: torch.Tensor,
        labels: torch.Tensor,
        f_post: Callable[[torch.Tensor], torch.Tensor],
        manifolds: torch.Tensor,
        *,
        perm: torch.Tensor | None = None,
        lam: float | None = None,
    ) -> tuple[torch.Tensor, torch.Tensor]:
        return logits, self.inner(logits, labels, f_post, manifolds, perm=perm, lam=lam)


# ---------------------------------------------------------------------------------------- AUPRC
class _ListStableAUPRC(_auprc.ListStableAUPRCLoss):
    def param_groups(self, lr: float | None = None, **kwargs: Any) -> list[dict[str, Any]]:
        """XCurve's ``LossWarpper.param_groups``: the loss has no trainable parameters."""
        return []


def ListStableAUPRC(
    tau1: float = 0.1,
    tau2: float = 0.001,
    beta: float = 0.001,
    prior_mul: float = 0.1,
    num_sample_per_id: int = 4,
    var_reg_weight_pos: float = 5,
    var_reg_weight_neg: float = 1,
    *,
    process_group: "torch.distributed.ProcessGroup | None" = None,
) -> _ListStableAUPRC:
    """XCurve ``ListStableAUPRC(...)`` (a ``LossWarpper`` there): here a
    :class:`torchauc.auprc.ListStableAUPRCLoss` module with ``update_cnt_per_id`` and ``param_groups``
    (``process_group`` as there)."""
    return _ListStableAUPRC(
        tau1,
        tau2,
        beta,
        prior_mul,
        num_sample_per_id,
        var_reg_weight_pos,
        var_reg_weight_neg,
        process_group=process_group,
    )


# ---------------------------------------------------------------------------------------- metrics
def TopkAcc(y_pred: torch.Tensor, y_true: torch.Tensor, k_list: Sequence[int] = (1,)) -> list[torch.Tensor]:
    """XCurve ``Metrics.TopkAcc``: a list of top-k accuracies in percent (ties are misses here)."""
    with torch.no_grad():
        return list(_autkc.topk_accuracy(y_pred, y_true, k=list(k_list)).mul(100.0).unbind(0))


def AUTKC(y_pred: torch.Tensor, y_true: torch.Tensor, k_list: Sequence[int] = (1,)) -> list[torch.Tensor]:
    """XCurve ``Metrics.AUTKC``: a list of AUTKC@k in percent (ties are misses, as XCurve)."""
    with torch.no_grad():
        return list(_autkc.autkc(y_pred, y_true, k=list(k_list)).mul(100.0).unbind(0))


def OpenAUC(
    open_set_pred_known: torch.Tensor,
    open_set_pred_unknown: torch.Tensor,
    close_set_pred_class: torch.Tensor,
    close_set_labels: torch.Tensor,
) -> float:
    """XCurve ``Metrics.OpenAUC`` (a float), exact (XCurve's score trick gives the same value)."""
    t = torch.as_tensor
    known = t(open_set_pred_known).reshape(-1).double()
    unknown = t(open_set_pred_unknown).reshape(-1).double()
    hit = t(close_set_pred_class).reshape(-1) == t(close_set_labels).reshape(-1)
    scores = torch.cat([known, unknown])
    is_known = torch.cat([torch.ones_like(known, dtype=torch.bool), torch.zeros_like(unknown, dtype=torch.bool)])
    hits = torch.cat([hit.to(torch.bool), torch.zeros_like(unknown, dtype=torch.bool)])
    return float(_metrics._open_auroc_hits(scores, is_known, hits, "raise"))


__all__ = [
    "AdvAUROCLoss",
    "RegAdvAUROCLoss",
    "SquareAUCLoss",
    "ExpAUCLoss",
    "HingeAUCLoss",
    "RelaxedPAUCLoss",
    "InsRelaxedPAUCLoss",
    "UnbiasedPAUCLoss",
    "StandardAUTKCLoss",
    "CETopKLoss",
    "BaseHingeLoss",
    "HingeTopKLoss",
    "ListStableAUPRC",
    "Softmax",
    "StandardOpenAUCLoss",
    "TopkAcc",
    "AUTKC",
    "OpenAUC",
]
