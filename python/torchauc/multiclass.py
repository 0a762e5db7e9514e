"""Multiclass and pixel-level AUC losses: :func:`multiclass_auc_loss` / :class:`MultiClassAUCLoss` on
(N, C) scores, :func:`pixel_auc_loss` / :class:`AUCSegLoss` (AUCSeg) on (B, C, H, W) logits."""

import math
from typing import Any

import torch
from torch import nn

from ._core import distributed as D
from ._core import options as O
from ._core import validate as V


def multiclass_auc_loss(
    scores: torch.Tensor,
    labels: torch.Tensor,
    *,
    surrogate: str = "square",
    mode: str = "ovo",
    margin: float = 1.0,
    ignore_index: int | None = None,
    normalization: str = "present",
    process_group: "torch.distributed.ProcessGroup | None" = None,
) -> torch.Tensor:
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

    ``process_group`` (None: this rank's batch): a torch.distributed group; the loss is that of the
    global batch on every rank, each rank getting the exact gradient of its own samples. Square,
    exp and linear all-reduce the C x C label-grouped column sums (O(C^2) bytes); the hinge
    all-gathers the batch.

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
            "torchauc.multiclass.pixel_auc_loss"
        )
    return _multiclass_op(scores, labels, ignore_index, "none", surrogate, mode, margin, normalization, process_group)


def pixel_auc_loss(
    logits: torch.Tensor,
    labels: torch.Tensor,
    *,
    ignore_index: int | None = None,
    activation: str = "sigmoid",
    surrogate: str = "square",
    mode: str = "ovo",
    margin: float = 1.0,
    normalization: str = "present",
    process_group: "torch.distributed.ProcessGroup | None" = None,
) -> torch.Tensor:
    r"""AUCSeg's pixel-level AUC loss (Han et al., NeurIPS 2024): the multiclass AUC loss over all
    non-ignored pixels of the batch, scored by the per-class sigmoid of the logits.

    Reads the (B, C, H, W) logits in place (no transpose, no one-hot), fuses the sigmoid, skips
    ``ignore_index`` pixels and writes d loss / d logits directly. With the defaults it equals
    AUCSeg's ``SquareAUCLoss(num_classes=C)`` (before ``loss_weight``) with ``ignore_index=255``; see
    :func:`multiclass_auc_loss` for ``surrogate``, ``mode``, ``margin`` and ``normalization``
    (AUCSeg's ``transform='ova'`` sums over classes: use ``normalization="xcurve"`` to match it).

    Args:
        logits: (B, C, H, W) (or any ``(B, C, *spatial)``) float16/bfloat16/float32/float64.
        labels: (B, H, W) integer class indices in [0, C) or ``ignore_index``. The spatial sizes must
            match: upsample the logits to the label size first (AUCSeg's head does, bilinearly).
        ignore_index: label of pixels to skip (None: keep every pixel; mmseg and AUCSeg use 255).
        activation: ``"sigmoid"`` (AUCSeg) or ``"none"`` (logits are already scores).
        process_group: as in :func:`multiclass_auc_loss` (the gathered hinge path needs equal
            spatial sizes on every rank).
    """
    V.tensor(logits, "logits")
    V.tensor(labels, "labels")
    if logits.dim() < 3:
        raise ValueError(
            f"logits must have shape (B, C, H, W), got {tuple(logits.shape)}; for (N, C) scores use "
            "torchauc.multiclass.multiclass_auc_loss"
        )
    V.option(activation, O.ACTIVATION)
    return _multiclass_op(
        logits, labels, ignore_index, activation, surrogate, mode, margin, normalization, process_group
    )


def _multiclass_op(scores, labels, ignore_index, activation, surrogate, mode, margin, normalization, group=None):
    V.option(surrogate, O.MULTICLASS_SURROGATE)
    V.option(mode, O.MODE)
    V.option(normalization, O.NORMALIZATION)
    ignore_index = V.optional_int(ignore_index, "ignore_index")
    margin = V.finite_float(margin, "margin")
    group = D.check_group(group)
    if group is not None:
        if surrogate != "hinge":
            return _moment_loss(scores, labels, ignore_index, activation, surrogate, mode, margin, normalization, group)
        scores, labels = D.gather_batch(group, scores, labels)
    grad = V.needs_grad(scores)
    return torch.ops.torchauc.multiclass_auc_loss(
        scores, labels, ignore_index, activation, surrogate, mode, margin, normalization, grad
    )[0]


def _moment_loss(scores, labels, ignore_index, activation, surrogate, mode, m, normalization, group):
    """Square / linear / exp loss of the global batch from all-reduced class-by-column sums
    T1[j, i] = sum_{q in j} s_qi (and T2 of s^2, or shifted exponentials for exp)."""
    C = scores.shape[1]
    x = scores.movedim(1, -1).reshape(-1, C)  # (pixels, C); (N, C) stays a view
    y = labels.reshape(-1)
    if y.numel() != x.shape[0] or (scores.dim() > 2 and tuple(labels.shape) != (scores.shape[0],) + scores.shape[2:]):
        raise ValueError(f"labels must have one class index per sample of scores {tuple(scores.shape)}, "
                         f"got {tuple(labels.shape)}")  # fmt: skip
    if labels.is_floating_point() or labels.is_complex() or labels.dtype == torch.bool:
        raise TypeError(f"labels must be an integer tensor of class indices, got {labels.dtype}")
    keep = torch.ones_like(y, dtype=torch.bool) if ignore_index is None else y != ignore_index
    if bool((keep & ((y < 0) | (y >= C))).any()):
        raise ValueError(f"labels must be class indices in [0, {C}) (or ignore_index={ignore_index})")
    x = x.double()
    if activation == "sigmoid":
        x = torch.sigmoid(x)
    y = torch.where(keep, y, 0).long()
    k = keep.double()
    x = torch.where(keep[:, None], x, 0.0)  # ignored rows add nothing (class index 0 is a placeholder)

    def by_class(v):  # (rows, C) -> (C, C): row j sums the rows of class j
        return torch.zeros(C, C, dtype=v.dtype, device=v.device).index_add(0, y, v)

    cnt = torch.zeros(C, dtype=torch.float64, device=x.device).index_add(0, y, k)
    eye = torch.eye(C, dtype=torch.bool, device=x.device)
    if surrogate == "exp":
        ms = m * x
        own = ms.gather(1, y[:, None])[:, 0]  # m s_p at the sample's own class column
        top_pos = x.new_full((C,), -math.inf).scatter_reduce(0, y, torch.where(keep, -own.detach(), -math.inf), "amax")
        shift = torch.cat([D.masked_max(ms, keep[:, None], 0), top_pos])
        shift = D.all_reduce_max_detached(shift, group).nan_to_num(neginf=0.0)
        a, b = shift[:C], shift[C:]  # max_q m s_qi, max_{p in i} -m s_pi
        e_neg = by_class(torch.exp(torch.where(keep[:, None], ms - a, -math.inf)))
        e_pos = torch.zeros(C, dtype=torch.float64, device=x.device).index_add(
            0, y, torch.exp(torch.where(keep, -own - b[y], -math.inf))
        )
        sums = D.all_reduce_sum_replicated(torch.cat([cnt, e_pos, e_neg.reshape(-1)]), group)
        cnt, e_pos, e_neg = sums[:C], sums[C : 2 * C], sums[2 * C :].reshape(C, C)
        pair = e_pos[:, None] * e_neg.T * torch.exp(a + b)[:, None]  # pair[i, j]: p in i, q in j, column i
    else:
        parts = [cnt, by_class(x).reshape(-1)] + ([by_class(x * x).reshape(-1)] if surrogate == "square" else [])
        sums = D.all_reduce_sum_replicated(torch.cat(parts), group)
        cnt, T1 = sums[:C], sums[C : C + C * C].reshape(C, C)
        t1 = T1.diagonal()
        P1 = m * cnt - t1  # sum_{p in i} (m - s_pi)
        if surrogate == "linear":
            pair = cnt[None, :] * P1[:, None] + cnt[:, None] * T1.T
        else:
            T2 = sums[C + C * C :].reshape(C, C)
            P2 = m * m * cnt - 2 * m * t1 + T2.diagonal()
            pair = 0.5 * (cnt[None, :] * P2[:, None] + 2 * P1[:, None] * T1.T + cnt[:, None] * T2.T)
    present = cnt > 0
    valid = present[:, None] & present[None, :] & ~eye
    den = cnt[:, None] * cnt[None, :] if mode == "ovo" else cnt[:, None] * (cnt.sum() - cnt)[:, None]
    total = torch.where(valid, pair / torch.where(valid, den, 1.0), 0.0).sum()
    cb = present.sum()
    if normalization == "present":
        F = cb * (cb - 1) if mode == "ovo" else cb
    else:
        F = torch.tensor(C * (C - 1) if mode == "ovo" else 1, device=x.device)
    F = torch.where(cb >= 2, F, 0).double()
    return torch.where(F > 0, total / torch.where(F > 0, F, 1.0), 0.0).to(scores.dtype)


class MultiClassAUCLoss(nn.Module):
    """Multiclass AUC loss (see :func:`multiclass_auc_loss`).

    ``forward(scores (N, C), labels (N,))``. Drop-in for XCurve's ``SquareAUCLoss`` / ``ExpAUCLoss``
    (``num_classes > 2``, ``gamma`` = ``margin``, ``transform`` = ``mode``) with
    ``normalization="xcurve"``; XCurve's ``HingeAUCLoss`` is ``surrogate="linear"`` with its missing
    N_i factor restored. ``num_classes`` (optional) is checked against ``scores.shape[1]``.
    """

    def __init__(
        self,
        num_classes: int | None = None,
        *,
        surrogate: str = "square",
        mode: str = "ovo",
        margin: float = 1.0,
        ignore_index: int | None = None,
        normalization: str = "present",
        process_group: "torch.distributed.ProcessGroup | None" = None,
    ) -> None:
        super().__init__()
        self.process_group: torch.distributed.ProcessGroup | None = process_group
        self.num_classes: int | None = V.optional_int(num_classes, "num_classes")
        self.surrogate: str = V.option(surrogate, O.MULTICLASS_SURROGATE)
        self.mode: str = V.option(mode, O.MODE)
        self.margin: float = V.finite_float(margin, "margin")
        self.ignore_index: int | None = V.optional_int(ignore_index, "ignore_index")
        self.normalization: str = V.option(normalization, O.NORMALIZATION)

    def _check_classes(self, x, name):
        if self.num_classes is not None and x.dim() >= 2 and x.shape[1] != self.num_classes:
            raise ValueError(f"{name} has {x.shape[1]} class columns, but num_classes={self.num_classes}")

    def forward(self, scores: torch.Tensor, labels: torch.Tensor) -> torch.Tensor:
        self._check_classes(scores, "scores")
        return multiclass_auc_loss(
            scores,
            labels,
            surrogate=self.surrogate,
            mode=self.mode,
            margin=self.margin,
            ignore_index=self.ignore_index,
            normalization=self.normalization,
            process_group=self.process_group,
        )

    def extra_repr(self) -> str:
        return (
            f"num_classes={self.num_classes}, surrogate={self.surrogate!r}, mode={self.mode!r}, "
            f"margin={self.margin}, normalization={self.normalization!r}"
        )


class AUCSegLoss(MultiClassAUCLoss):
    """AUCSeg's pixel-level AUC loss (see :func:`pixel_auc_loss`) times ``loss_weight`` (4.0 for
    ADE20K, 1.0 for Cityscapes and COCO-Stuff in the official configs).

    ``forward(logits (B, C, H, W), labels (B, H, W), *, ignore_index=None)``; a given
    ``ignore_index`` overrides the module's. With ``ignore_index=255`` (mmseg's and AUCSeg's ignore
    label) it has the value of AUCSeg's ``SquareAUCLoss(num_classes, loss_weight=...)``.
    ``surrogate``, ``mode``, ``margin``, ``ignore_index`` and ``normalization`` are those of
    :class:`MultiClassAUCLoss`.
    """

    def __init__(
        self, num_classes: int | None = None, *, loss_weight: float = 1.0, activation: str = "sigmoid", **options: Any
    ) -> None:
        super().__init__(num_classes, **options)
        self.loss_weight: float = V.finite_float(loss_weight, "loss_weight")
        self.activation: str = V.option(activation, O.ACTIVATION)

    def forward(self, logits: torch.Tensor, labels: torch.Tensor, *, ignore_index: int | None = None) -> torch.Tensor:
        self._check_classes(logits, "logits")
        ignore = self.ignore_index if ignore_index is None else ignore_index
        loss = pixel_auc_loss(
            logits,
            labels,
            ignore_index=ignore,
            activation=self.activation,
            surrogate=self.surrogate,
            mode=self.mode,
            margin=self.margin,
            normalization=self.normalization,
            process_group=self.process_group,
        )
        return loss * self.loss_weight

    def extra_repr(self) -> str:
        return super().extra_repr() + f", ignore_index={self.ignore_index}, loss_weight={self.loss_weight}"


__all__ = ["multiclass_auc_loss", "pixel_auc_loss", "MultiClassAUCLoss", "AUCSegLoss"]
