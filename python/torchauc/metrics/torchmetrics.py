"""torchauc's stateful metrics as ``torchmetrics.Metric`` subclasses (``pip install torchauc[torchmetrics]``).

Each class has the name, options and ``update`` arguments of the torchauc class it wraps
(:mod:`torchauc.auroc.modules`) and computes through the same kernels, so the values are equal; on
top it gets what torchmetrics gives a metric: ``MetricCollection``, ``compute_on_cpu``,
``dist_sync_on_step``, DDP synchronisation through the states' ``dist_reduce_fx`` (every update is a
``cat`` state; the binned AUROC's histograms a ``sum`` state), ``self.log`` in Lightning.

    >>> import torch
    >>> from torchmetrics import MetricCollection
    >>> from torchauc.metrics.torchmetrics import AUROC, PartialAUROC
    >>> metrics = MetricCollection({"auroc": AUROC(), "pauc": PartialAUROC(max_fpr=0.5)})
    >>> metrics.update(torch.tensor([0.9, 0.2, 0.6, 0.4]), torch.tensor([1, 0, 0, 1]))
    >>> {k: round(float(v), 4) for k, v in metrics.compute().items()}
    {'auroc': 0.75, 'pauc': 0.5}

A metric class that follows :class:`torchauc.auroc.modules._ExactMetric` (``_states``, ``update``,
``_value``) becomes a torchmetrics metric in one line: ``MyMetric = wrap(modules.MyMetric)``."""

from __future__ import annotations

from typing import Any

import torch
from torchmetrics import Metric

from ..auroc import modules as _m

# torchmetrics.Metric's own keyword arguments; every other one goes to the torchauc class
_METRIC_KWARGS = frozenset(
    {
        "compute_on_cpu",
        "dist_sync_on_step",
        "process_group",
        "dist_sync_fn",
        "distributed_available_fn",
        "sync_on_compute",
        "compute_with_cache",
    }
)


class TorchaucMetric(Metric):
    """Base of the wrappers: ``_base`` is the torchauc class. Its instance (``self.metric``, never
    synchronised itself) checks the options and each update and computes the value; the update
    tensors live in this object's list states, so torchmetrics moves, resets and gathers them."""

    _base: type[_m._ExactMetric]
    metric: Any  # an instance of _base (Any: its _value and states are the subclass's)
    sample_weights: Any  # list state: a list of tensors, one tensor after a DDP sync
    hist: torch.Tensor
    is_differentiable: bool | None = False
    higher_is_better: bool | None = True
    full_state_update: bool | None = False
    plot_lower_bound: float | None = 0.0
    plot_upper_bound: float | None = 1.0

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        metric_kwargs = {k: kwargs.pop(k) for k in list(kwargs) if k in _METRIC_KWARGS}
        super().__init__(**metric_kwargs)
        self.metric = self._base(*args, dist_sync=False, **kwargs)
        for name in self._base._states:
            self.add_state(name, default=[], dist_reduce_fx="cat")
        # per-sample weights, kept only once an update has them (earlier updates then count 1 each)
        self.add_state("sample_weights", default=[], dist_reduce_fx="cat")

    def _store(self, name: str, value: torch.Tensor) -> None:
        getattr(self, name).append(value)

    def update(self, *args: Any, **kwargs: Any) -> None:
        m = self.metric
        m.reset()
        m.update(*args, **kwargs)  # checks the arguments, shapes the tensors as the torchauc class does
        new = {k: m._data[k][0] for k in self._base._states}
        first = self._base._states[0]
        weights = m._weights[0]
        if weights is not None and not self.sample_weights:
            seen = sum(t.shape[0] for t in getattr(self, first))
            if seen:
                self.sample_weights.append(torch.ones(seen, dtype=torch.float64, device=weights.device))
        if weights is not None or self.sample_weights:
            n = new[first].shape[0]
            w = torch.ones(n, dtype=torch.float64, device=new[first].device) if weights is None else weights
            self.sample_weights.append(w.reshape(-1).double())
        for k, v in new.items():
            self._store(k, v)
        m.reset()

    def _state(self, name: str) -> torch.Tensor:
        value = getattr(self, name)
        if isinstance(value, list):
            return torch.cat(value, 0) if name == "sample_weights" else self.metric._cat(name, value)
        return value

    def compute(self) -> torch.Tensor:
        first = self._base._states[0]
        value = getattr(self, first)
        if isinstance(value, list) and not value:
            raise ValueError(f"{type(self).__name__}.compute() called before any update()")
        states = {k: self._state(k) for k in self._base._states}
        weights = self._state("sample_weights") if len(self.sample_weights) else None
        if weights is not None and weights.numel() == 0:  # no rank had weights (DDP gathers [] into a tensor)
            weights = None
        if weights is not None:
            if weights.numel() != states[first].shape[0]:
                raise ValueError(
                    "sample_weights were given on some ranks only: pass them in every update on every rank or in none"
                )
        return self.metric._value(sample_weights=weights, **states)


def wrap(cls: type[_m._ExactMetric], base: type[TorchaucMetric] = TorchaucMetric) -> type[TorchaucMetric]:
    """The torchmetrics class of the torchauc metric class ``cls`` (same name, options and update)."""
    doc = f"``torchmetrics.Metric`` version of :class:`{cls.__module__}.{cls.__qualname__}`.\n\n{cls.__doc__ or ''}"
    return type(cls.__name__, (base,), {"_base": cls, "__doc__": doc, "__module__": __name__})


class _BinnedAUROC(TorchaucMetric):
    """AUROC: exact by default; with ``bins=B`` two (2, B) histograms, a ``sum`` state (O(B) DDP traffic)."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if self.metric.bins is not None:
            self.add_state("hist", default=torch.zeros(2, self.metric.bins, dtype=torch.float64), dist_reduce_fx="sum")

    def update(self, scores: torch.Tensor, labels: torch.Tensor, *, sample_weights: torch.Tensor | None = None) -> None:
        if self.metric.bins is None:
            return super().update(scores, labels, sample_weights=sample_weights)
        h, scale = self.metric._histogram(scores, labels, sample_weights)
        self.hist = self.hist.to(h.device) + h * scale

    def compute(self) -> torch.Tensor:
        if self.metric.bins is None:
            return super().compute()
        if self._update_count == 0:
            raise ValueError(f"{type(self).__name__}.compute() called before any update()")
        return self.metric._hist_value(self.hist)

    def error_bound(self) -> torch.Tensor:
        """Upper bound of ``|binned AUROC - exact AUROC|`` for the data seen (binned mode only)."""
        if self.metric.bins is None:
            raise ValueError("error_bound() is defined for the binned mode (bins=...) only; the default is exact")
        h = self.hist / self.hist.max().clamp_min(torch.finfo(self.hist.dtype).tiny)
        return _m.F._ratio(0.5 * (h[0] * h[1]).sum(), h[0].sum() * h[1].sum())


class _Pixel(TorchaucMetric):
    """Batches of one spatial size stay as they come; a batch of another size turns the stored ones
    into (pixels, C, 1) / (pixels, 1) rows, so the list states always concatenate along dim 0 (what
    torchmetrics' DDP gather does)."""

    def _store(self, name: str, value: torch.Tensor) -> None:
        stored = getattr(self, name)
        if stored and stored[0].shape[1:] != value.shape[1:]:
            stored[:] = [self.metric._cat(name, [t, value[:0]]) for t in stored]
            value = self.metric._cat(name, [value, stored[0][:0]])
        stored.append(value)


AUROC: type[TorchaucMetric] = wrap(_m.AUROC, _BinnedAUROC)
PartialAUROC: type[TorchaucMetric] = wrap(_m.PartialAUROC)
MulticlassAUROC: type[TorchaucMetric] = wrap(_m.MulticlassAUROC)
MultilabelAUROC: type[TorchaucMetric] = wrap(_m.MultilabelAUROC)
PixelAUROC: type[TorchaucMetric] = wrap(_m.PixelAUROC, _Pixel)
OpenworldAUROC: type[TorchaucMetric] = wrap(_m.OpenworldAUROC)
AveragePrecision: type[TorchaucMetric] = wrap(_m.AveragePrecision)
MultilabelAveragePrecision: type[TorchaucMetric] = wrap(_m.MultilabelAveragePrecision)

__all__ = [
    "TorchaucMetric",
    "wrap",
    "AUROC",
    "PartialAUROC",
    "MulticlassAUROC",
    "MultilabelAUROC",
    "PixelAUROC",
    "OpenworldAUROC",
    "AveragePrecision",
    "MultilabelAveragePrecision",
]
