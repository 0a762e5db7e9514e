"""Stateful AUROC metrics: ``update()`` per batch, ``compute()`` over everything seen (gathered from
every torch.distributed rank when a process group is initialised), ``reset()``; ``forward()``
updates and returns the value of the batch alone (torchmetrics' interface, without the dependency).

The exact metrics keep every score (O(n) memory). At compute under torch.distributed they are exact
over every rank: by default (``dist_sync_mode="sort"``) with the sample sort of
:mod:`torchauc.auroc.distributed` (each rank sends about N / W scores), or with ``"gather"`` by an
``all_gather`` of every state (simple, fine for small N). ``update(..., sample_index=idx)`` records
dataset indices so that a ``DistributedSampler``'s padding duplicates are counted once. For
streams too large to keep, ``AUROC(bins=...)`` keeps two fixed histograms (O(bins) memory and
communication: one all_reduce); its error bound is returned by ``error_bound()``."""

from typing import Any

import torch

from .._core import distributed as D
from .._core import options as O
from .._core import validate as V
from . import distributed as DA
from . import functional as F

_SCALE_LIMIT = 2.0**960  # binned AUROC: weight scales within 2^(+-960) are summed across ranks as they are


class _ExactMetric(torch.nn.Module):
    """Keeps the update tensors in lists; subclasses define ``_states`` and ``_value(**states)``."""

    _states = ("scores", "labels")

    def __init__(self, dist_sync: bool = True, dist_sync_mode: str = "sort"):
        super().__init__()
        self.dist_sync: bool = dist_sync
        self.dist_sync_mode: str = V.option(dist_sync_mode, O.DIST_SYNC_MODE)
        self.reset()

    def reset(self) -> None:
        self._data: dict[str, list[torch.Tensor]] = {k: [] for k in self._states}
        self._weights: list[torch.Tensor | None] = []
        self._index: list[torch.Tensor | None] = []

    def _distributed(self):
        return self.dist_sync and D.world_size() > 1

    def _append(self, sample_weights=None, sample_index=None, **tensors):
        for k, v in tensors.items():
            V.tensor(v, k)
        n = next(iter(tensors.values())).shape[0]
        for k, v in tensors.items():
            if v.shape[0] != n:
                raise ValueError(f"{k} must have one entry per sample ({n}), got {v.shape[0]}")
        if sample_weights is not None:
            V.tensor(sample_weights, "sample_weights")
            if sample_weights.numel() != n:
                raise ValueError(f"sample_weights must have one entry per sample ({n}), got {sample_weights.numel()}")
        if sample_index is not None and V.tensor(sample_index, "sample_index").numel() != n:
            raise ValueError(f"sample_index must have one entry per sample ({n}), got {sample_index.numel()}")
        for k, v in tensors.items():
            self._data[k].append(v.detach())
        self._weights.append(None if sample_weights is None else sample_weights.detach())
        self._index.append(None if sample_index is None else sample_index.reshape(-1))

    def _cat(self, name, parts):
        return torch.cat(parts, 0)

    def _local(self):
        """(states, weights or None, sample indices or None) of this rank, concatenated."""
        first = self._data[self._states[0]]
        if not first and not self._distributed():
            raise ValueError(f"{type(self).__name__}.compute() called before any update()")
        if not first:  # an empty rank still takes part in the collectives
            return self._empty(), None, None
        states = {k: self._cat(k, v) for k, v in self._data.items()}
        index = None
        if any(i is not None for i in self._index):
            if any(i is None for i in self._index):
                raise ValueError("sample_index must be given to every update() or to none")
            index = torch.cat(self._index)
        weights = None
        if any(w is not None for w in self._weights):  # updates without weights count 1 per sample
            weights = torch.cat(
                [
                    w.reshape(-1).double()
                    if w is not None
                    else torch.ones(x.shape[0], dtype=torch.float64, device=x.device)
                    for w, x in zip(self._weights, first)
                ]
            )
        return states, weights, index

    def _empty(self):
        """States of a rank that saw no update (1-D metrics; the others need an update per rank)."""
        if self._states != ("scores", "labels") or isinstance(self, (MulticlassAUROC, MultilabelAUROC, PixelAUROC)):
            raise ValueError(f"{type(self).__name__}.compute() needs an update() on every rank")
        return {"scores": torch.empty(0, dtype=torch.float64), "labels": torch.empty(0, dtype=torch.int64)}

    def _collect(self):
        """The states of every rank, gathered (the "gather" mode and the metrics without a sort)."""
        states, weights, index = self._local()
        if not self._distributed():
            return states, weights
        if index is not None:
            raise ValueError("sample_index (dropping duplicates across ranks) needs dist_sync_mode='sort'")
        n = next(iter(states.values())).shape[0]
        states = {k: D.gather_cat(v) for k, v in states.items()}
        device = next(iter(states.values())).device
        # every rank takes part: a rank without weights sends ones (mixed ranks used to deadlock)
        if bool(D.all_reduce_max(torch.tensor([float(weights is not None)], device=device)) > 0):
            weights = D.gather_cat(
                weights if weights is not None else torch.ones(n, dtype=torch.float64, device=device)
            )
        return states, weights

    def compute(self) -> torch.Tensor:
        if self._distributed() and self.dist_sync_mode == "sort" and hasattr(self, "_sorted"):
            states, weights, index = self._local()
            return self._sorted(sample_weights=weights, sample_index=index, **states)
        states, weights = self._collect()
        return self._value(sample_weights=weights, **states)

    def forward(self, *args: Any, **kwargs: Any) -> torch.Tensor:
        self.update(*args, **kwargs)
        states = {k: self._data[k][-1] for k in self._states}
        return self._value(sample_weights=self._weights[-1], **states)


class AUROC(_ExactMetric):
    """Binary AUROC (:func:`torchauc.auroc.functional.auroc`).

    ``update(scores, labels, *, sample_weights=None)``. With ``bins=None`` (default) the value is exact.
    With ``bins=B`` the scores are counted into B equal-width bins over ``score_range`` (scores
    outside are clamped into the edge bins); the binned AUROC counts every pair inside one bin as a
    tie, so ``|binned - exact| <= error_bound() = 0.5 * sum_b P_b N_b / (P N)`` (P_b, N_b the positive
    and negative weight of bin b). Memory and DDP communication are O(B) (one all_reduce).
    """

    def __init__(
        self,
        *,
        bins: int | None = None,
        score_range: tuple[float, float] = (0.0, 1.0),
        on_undefined: str = "raise",
        dist_sync: bool = True,
        dist_sync_mode: str = "sort",
    ) -> None:
        self.bins: int | None = None if bins is None else int(bins)
        if self.bins is not None and self.bins < 1:
            raise ValueError(f"bins must be a positive integer or None, got {bins}")
        lo, hi = (V.finite_float(score_range[0], "score_range[0]"), V.finite_float(score_range[1], "score_range[1]"))
        if not lo < hi:
            raise ValueError(f"score_range must be (low, high) with low < high, got {score_range}")
        self.score_range: tuple[float, float] = (lo, hi)
        self.on_undefined: str = V.option(on_undefined, O.ON_UNDEFINED)
        super().__init__(dist_sync, dist_sync_mode)

    def reset(self) -> None:
        super().reset()
        if self.bins is not None:
            # the weight histograms are self._hist * self._scale: weights of any scale add up without
            # overflow or underflow (each batch is scaled by its largest weight first)
            self._hist = torch.zeros(2, self.bins, dtype=torch.float64)
            self._scale = 0.0

    def update(
        self,
        scores: torch.Tensor,
        labels: torch.Tensor,
        *,
        sample_weights: torch.Tensor | None = None,
        sample_index: torch.Tensor | None = None,
    ) -> None:
        if self.bins is None:
            self._append(sample_weights, sample_index, scores=scores.reshape(-1), labels=labels.reshape(-1))
            return
        self._add(*self._histogram(scores, labels, sample_weights))

    def _add(self, h, scale):
        hist = self._hist.to(h.device)
        if scale > self._scale:
            hist, self._scale = hist * (self._scale / scale), scale
        self._hist = hist + h * (scale / self._scale) if scale > 0 else hist

    def _histogram(self, scores, labels, sample_weights):
        """(histograms (2, bins) of the positive and negative weights scaled to max 1, the scale)."""
        V.tensor(scores, "scores")
        V.tensor(labels, "labels")
        s, y = scores.detach().reshape(-1).double(), labels.detach().reshape(-1)
        if y.numel() != s.numel():
            raise ValueError(f"labels must have one entry per score ({s.numel()}), got {y.numel()}")
        if bool(torch.isnan(s).any()):
            raise ValueError("scores contains NaN; AUROC is undefined for NaN scores")
        if bool(((y != 0) & (y != 1)).any()):
            raise ValueError("labels must contain only 0 and 1 (or False/True)")
        lo, hi = self.score_range
        idx = ((s - lo) * (self.bins / (hi - lo))).floor().clamp(0, self.bins - 1).long()
        scale = 1.0
        if sample_weights is None:
            w = torch.ones_like(s)
        else:
            V.tensor(sample_weights, "sample_weights")
            scale = float(sample_weights.detach().double().max()) if sample_weights.numel() else 0.0
            w = F._scaled_weights(sample_weights.detach(), s.numel(), s.device)
        pos = y != 0
        h = torch.zeros(2, self.bins, dtype=torch.float64, device=s.device)
        h[0].index_add_(0, idx[pos], w[pos])
        h[1].index_add_(0, idx[~pos], w[~pos])
        return h, scale

    def _hist_value(self, h):
        h = h / h.max().clamp_min(torch.finfo(h.dtype).tiny)  # products below stay finite
        pos, neg = h[0], h[1]
        above = pos.flip(0).cumsum(0).flip(0) - pos  # positive weight in higher bins
        P, N = pos.sum(), neg.sum()
        if not bool(P > 0) or not bool(N > 0):
            F._undefined(self.on_undefined, "auroc is undefined when only one class is present in labels")
        return F._ratio((neg * (above + 0.5 * pos)).sum(), P * N)

    def _synced_hist(self):
        """The histograms (up to one common scale) over every rank, in one all_reduce: each rank adds
        its histograms at their absolute scale, with a flag set where that scale is outside
        [2^-960, 2^960] (entries <= the sample count < 2^63 then stay normal floats). Only when some
        rank's weights are that extreme does a second round rescale every rank by the largest scale."""
        if not self.dist_sync or D.world_size() == 1:
            return self._hist
        extreme = self._scale > 0 and not _SCALE_LIMIT**-1 <= self._scale <= _SCALE_LIMIT
        absolute = self._hist * (0.0 if extreme else self._scale)
        packed = D.all_reduce_sum(torch.cat([absolute.reshape(-1), absolute.new_tensor([float(extreme)])]))
        if not bool(packed[-1] > 0):
            return packed[:-1].reshape(self._hist.shape)
        top = float(D.all_reduce_max(torch.tensor([self._scale], dtype=torch.float64, device=self._hist.device)))
        return D.all_reduce_sum(self._hist * (self._scale / top))

    def compute(self) -> torch.Tensor:
        if self.bins is not None:
            return self._hist_value(self._synced_hist())
        return super().compute()

    def error_bound(self) -> torch.Tensor:
        """Upper bound of ``|binned AUROC - exact AUROC|`` for the data seen (binned mode only)."""
        if self.bins is None:
            raise ValueError("error_bound() is defined for the binned mode (bins=...) only; the default is exact")
        h = self._synced_hist()
        h = h / h.max().clamp_min(torch.finfo(h.dtype).tiny)
        return F._ratio(0.5 * (h[0] * h[1]).sum(), h[0].sum() * h[1].sum())

    def forward(
        self, scores: torch.Tensor, labels: torch.Tensor, *, sample_weights: torch.Tensor | None = None
    ) -> torch.Tensor:
        if self.bins is None:
            return super().forward(scores, labels, sample_weights=sample_weights)
        h, scale = self._histogram(scores, labels, sample_weights)
        self._add(h, scale)
        return self._hist_value(h)

    def _value(self, scores, labels, sample_weights):
        return F.auroc(scores, labels, sample_weights=sample_weights, on_undefined=self.on_undefined)

    def _sorted(self, scores, labels, sample_weights, sample_index):
        return DA.auroc(scores, labels, sample_weights=sample_weights, sample_index=sample_index,
                        on_undefined=self.on_undefined)  # fmt: skip


class PartialAUROC(_ExactMetric):
    """Partial AUROC (:func:`torchauc.auroc.functional.partial_auroc`), exact.

    ``update(scores, labels, *, sample_weights=None)`` (weights with ``mcclish=True`` only)."""

    def __init__(
        self,
        *,
        max_fpr: float = 1.0,
        min_tpr: float = 0.0,
        normalize: bool = True,
        mcclish: bool = False,
        on_undefined: str = "raise",
        dist_sync: bool = True,
        dist_sync_mode: str = "sort",
    ) -> None:
        self.kw: dict[str, Any] = dict(
            max_fpr=max_fpr,
            min_tpr=min_tpr,
            normalize=normalize,
            mcclish=mcclish,
            on_undefined=V.option(on_undefined, O.ON_UNDEFINED),
        )
        super().__init__(dist_sync, dist_sync_mode)

    def update(
        self,
        scores: torch.Tensor,
        labels: torch.Tensor,
        *,
        sample_weights: torch.Tensor | None = None,
        sample_index: torch.Tensor | None = None,
    ) -> None:
        self._append(sample_weights, sample_index, scores=scores.reshape(-1), labels=labels.reshape(-1))

    def _value(self, scores, labels, sample_weights):
        return F.partial_auroc(scores, labels, sample_weights=sample_weights, **self.kw)

    def compute(self) -> torch.Tensor:
        if self.kw["mcclish"] and self._distributed():  # the McClish area: by gathering
            states, weights = self._collect()
            return self._value(sample_weights=weights, **states)
        return super().compute()

    def _sorted(self, scores, labels, sample_weights, sample_index):
        if sample_weights is not None:
            raise ValueError("sample_weights is only supported with mcclish=True")
        kw = {k: v for k, v in self.kw.items() if k != "mcclish"}
        return DA.partial_auroc(scores, labels, sample_index=sample_index, **kw)


class MulticlassAUROC(_ExactMetric):
    """Multiclass AUROC (:func:`torchauc.auroc.functional.multiclass_auroc`), exact.

    ``update(scores (N, C), labels (N,), *, sample_weights=None)``; ``classes``: the class of each
    score column, as in the functional form."""

    def __init__(
        self,
        *,
        mode: str = "ovo",
        average: str = "macro",
        ignore_index: int | None = None,
        classes: torch.Tensor | None = None,
        on_undefined: str = "raise",
        dist_sync: bool = True,
        dist_sync_mode: str = "sort",
    ) -> None:
        self.kw: dict[str, Any] = dict(
            mode=V.option(mode, O.MODE),
            average=V.option(average, O.MULTICLASS_AVERAGE),
            ignore_index=V.optional_int(ignore_index, "ignore_index"),
            classes=None if classes is None else V.tensor(classes, "classes"),
            on_undefined=V.option(on_undefined, O.ON_UNDEFINED),
        )
        super().__init__(dist_sync, dist_sync_mode)

    def update(
        self,
        scores: torch.Tensor,
        labels: torch.Tensor,
        *,
        sample_weights: torch.Tensor | None = None,
        sample_index: torch.Tensor | None = None,
    ) -> None:
        if scores.dim() != 2:
            raise ValueError(f"scores must have shape (N, C), got {tuple(scores.shape)}")
        self._append(sample_weights, sample_index, scores=scores, labels=labels.reshape(-1))

    def _value(self, scores, labels, sample_weights):
        return F.multiclass_auroc(scores, labels, sample_weights=sample_weights, **self.kw)

    def _sorted(self, scores, labels, sample_weights, sample_index):
        return DA.multiclass_auroc(scores, labels, sample_weights=sample_weights, sample_index=sample_index, **self.kw)


class MultilabelAUROC(_ExactMetric):
    """Multilabel AUROC (:func:`torchauc.auroc.functional.multilabel_auroc`), exact.

    ``update(scores (N, L), labels (N, L), *, sample_weights=None)``."""

    def __init__(
        self,
        *,
        average: str = "macro",
        on_undefined: str = "raise",
        dist_sync: bool = True,
        dist_sync_mode: str = "sort",
    ) -> None:
        self.kw: dict[str, Any] = dict(
            average=V.option(average, O.MULTILABEL_AVERAGE), on_undefined=V.option(on_undefined, O.ON_UNDEFINED)
        )
        super().__init__(dist_sync, dist_sync_mode)

    def update(
        self,
        scores: torch.Tensor,
        labels: torch.Tensor,
        *,
        sample_weights: torch.Tensor | None = None,
        sample_index: torch.Tensor | None = None,
    ) -> None:
        self._append(sample_weights, sample_index, scores=scores, labels=labels)

    def _value(self, scores, labels, sample_weights):
        return F.multilabel_auroc(scores, labels, sample_weights=sample_weights, **self.kw)

    def _sorted(self, scores, labels, sample_weights, sample_index):
        return DA.multilabel_auroc(scores, labels, sample_weights=sample_weights, sample_index=sample_index, **self.kw)


class PixelAUROC(_ExactMetric):
    """Pixel-level one-vs-rest AUROC (:func:`torchauc.auroc.functional.pixel_auroc`), exact.

    ``update(logits (B, C, H, W), labels (B, H, W))``. Batches of one spatial size are kept as
    they come (read in place at compute); mixed sizes or several ranks fall back to (pixels, C)
    (across ranks: the one-vs-rest sample sort of :func:`torchauc.auroc.distributed.multiclass_auroc`)."""

    def __init__(
        self,
        *,
        ignore_index: int | None = None,
        average: str = "macro",
        on_undefined: str = "raise",
        dist_sync: bool = True,
        dist_sync_mode: str = "sort",
    ) -> None:
        self.kw: dict[str, Any] = dict(
            ignore_index=V.optional_int(ignore_index, "ignore_index"),
            average=V.option(average, O.AVERAGE),
            on_undefined=V.option(on_undefined, O.ON_UNDEFINED),
        )
        super().__init__(dist_sync, dist_sync_mode)

    def update(self, logits: torch.Tensor, labels: torch.Tensor) -> None:
        if logits.dim() < 3:
            raise ValueError(f"logits must have shape (B, C, H, W), got {tuple(logits.shape)}")
        self._append(None, scores=logits, labels=labels)

    def _cat(self, name, parts):
        key = [tuple(p.shape[2:] if name == "scores" else p.shape[1:]) for p in parts]
        if len(set(key)) == 1 and D.world_size() == 1:
            return torch.cat(parts, 0)
        if name == "scores":  # (B, C, *) -> (B * prod(*), C, 1)
            return torch.cat([p.movedim(1, -1).reshape(-1, p.shape[1], 1) for p in parts], 0)
        return torch.cat([p.reshape(-1, 1) for p in parts], 0)

    def _value(self, scores, labels, sample_weights):
        return F.pixel_auroc(scores, labels, **self.kw)

    def _sorted(self, scores, labels, sample_weights, sample_index):
        # across ranks the states are (pixels, C, 1) and (pixels, 1) (see _cat): one-vs-rest per class
        return DA.multiclass_auroc(scores.reshape(-1, scores.shape[1]), labels.reshape(-1), mode="ova", **self.kw)


class OpenworldAUROC(_ExactMetric):
    """OpenworldAUC (:func:`torchauc.auroc.functional.openworld_auroc`), exact.

    ``update(scores, is_base, correct)``."""

    _states = ("scores", "is_base", "correct")

    def __init__(self, *, on_undefined: str = "raise", dist_sync: bool = True) -> None:
        self.on_undefined: str = V.option(on_undefined, O.ON_UNDEFINED)
        super().__init__(dist_sync)

    def update(self, scores: torch.Tensor, is_base: torch.Tensor, correct: torch.Tensor) -> None:
        self._append(None, scores=scores.reshape(-1), is_base=is_base.reshape(-1), correct=correct.reshape(-1))

    def _value(self, scores, is_base, correct, sample_weights):
        return F.openworld_auroc(scores, is_base, correct, on_undefined=self.on_undefined)

    def compute_all(self) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """``(openworld, opt_a, opt_g)`` over everything seen, from one sort (:func:`openworld_aurocs`)."""
        states, _ = self._collect()
        return F.openworld_aurocs(**states, on_undefined=self.on_undefined)


class AveragePrecision(_ExactMetric):
    """Average precision (:func:`torchauc.auroc.functional.average_precision`), exact, equal to
    scikit-learn's ``average_precision_score`` over everything seen.

    ``update(scores, labels, *, sample_weights=None)``."""

    def __init__(self, *, on_undefined: str = "raise", dist_sync: bool = True) -> None:
        self.on_undefined: str = V.option(on_undefined, O.ON_UNDEFINED)
        super().__init__(dist_sync)

    def update(self, scores: torch.Tensor, labels: torch.Tensor, *, sample_weights: torch.Tensor | None = None) -> None:
        self._append(sample_weights, scores=scores.reshape(-1), labels=labels.reshape(-1))

    def _value(self, scores, labels, sample_weights):
        return F.average_precision(scores, labels, sample_weights=sample_weights, on_undefined=self.on_undefined)


class MultilabelAveragePrecision(_ExactMetric):
    """Multilabel average precision (:func:`torchauc.auroc.functional.multilabel_average_precision`).

    ``update(scores (N, L), labels (N, L), *, sample_weights=None)``."""

    def __init__(self, *, average: str = "macro", on_undefined: str = "raise", dist_sync: bool = True) -> None:
        self.kw: dict[str, Any] = dict(
            average=V.option(average, O.MULTILABEL_AVERAGE), on_undefined=V.option(on_undefined, O.ON_UNDEFINED)
        )
        super().__init__(dist_sync)

    def update(self, scores: torch.Tensor, labels: torch.Tensor, *, sample_weights: torch.Tensor | None = None) -> None:
        self._append(sample_weights, scores=scores, labels=labels)

    def _value(self, scores, labels, sample_weights):
        return F.multilabel_average_precision(scores, labels, sample_weights=sample_weights, **self.kw)


__all__ = [
    "AveragePrecision",
    "MultilabelAveragePrecision",
    "AUROC",
    "PartialAUROC",
    "MulticlassAUROC",
    "MultilabelAUROC",
    "PixelAUROC",
    "OpenworldAUROC",
]
