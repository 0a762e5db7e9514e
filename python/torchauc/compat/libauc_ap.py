r"""LibAUC's average-precision losses (SOAP, Qi et al., NeurIPS 2021): ``APLoss`` (=
``AveragePrecisionLoss``) and ``meanAveragePrecisionLoss`` (= ``mAPLoss``), by sort + scan.

Per label, for each positive anchor i and every sample j of the batch (positives, i itself
included), with l_ij = l(m, h_i - h_j) the pair surrogate (``squared_hinge`` (m - t)_+^2, ``hinge``
(m - t)_+, ``squared`` (m - t)^2, ``logistic`` log(1 + e^{-m t}) (m = LibAUC's scale s) or
``barrier_hinge`` max(-s (m + t) + m, m - t, s (t - m)) with ``margin=(m, s)``)::

    u_all[i] <- (1 - g) u_all[i] + g mean_j l_ij,    u_pos[i] <- (1 - g) u_pos[i] + g mean_j y_j l_ij
    loss = mean_{i in P, j} W_ij l_ij,   W_ij (detached) = (u_pos[i] - u_all[i] y_j) / u_all[i]^2

and, for ``mAPLoss(top_k > -1)``, ``W_ij *= sigmoid(top_k - sum_{i' in P} l_i'j)``. The returned
value and gradient are LibAUC's; the gradient is that of the AP surrogate -(1/n+) sum_i u_pos/u_all.

How: l_ij depends on h_j only through k_i + h_j (k_i = m - h_i) and vanishes for h_j <= h_i - m
(hinge forms), so every row sum sum_j w_j l_ij is a polynomial in k_i whose coefficients are the
suffix sums (w, w h, w h^2) of the sorted batch past h_i - m (one ``searchsorted``), and every
column sum sum_i g_i l_ij one in h_j with prefix sums over the anchors below h_j + m. One sort per
label column, O(n log n) time and O(n) memory, in float64; no n+ x n matrix. All labels of a
(n, C) batch go through the same batched sort, cumsum and searchsorted: no loop over labels.
``barrier_hinge`` is piecewise linear in t (up to three pieces): the same sort with one
``searchsorted`` per breakpoint and prefix sums of (w, w h). ``logistic`` is not polynomial: the
row and column sums come from ``torch.ops.torchauc.grouped_pair_sums``, a tiled O(n+ n) time,
O(n) memory kernel (float32 tiles for float32/16-bit scores, float64 for float64), never a matrix;
small batches (n^2 C <= 2^16) take that kernel for every surrogate (one call instead of the scan's
few dozen tensor ops). On the CPU the whole step (anchors, pair sums, state update, value and
gradient) is one op, ``torch.ops.torchauc.ap_loss_step``, with the same tiles (float64 but for the
logistic's float32 tiles; vectorised for the CPU's AVX-512 / AVX2 / baseline): every batch with
n^2 C <= 2^18, at most 2^19 anchor x sample pairs or at most 256 anchors per label on average takes it,
the others the sort + scan (``_fused``). That composed path compacts the anchors with host sizes on
the CPU; on CUDA it keeps every (n, C) entry with the anchors masked (``_DenseAnchors``; the index
checks are device-side asserts), so a step does not wait for the GPU.

Differences from LibAUC 2.0.1:

* ``u_all``, ``u_pos`` are registered buffers (``state_dict``, ``.to()``), float32 as in LibAUC,
  of shape (data_len, 1) (``APLoss``) or (num_labels, data_len, 1) (``mAPLoss``); they are NOT
  updated in ``eval()`` mode or under ``torch.no_grad()`` (the value is computed as if they were;
  ``semantics="libauc"`` updates them there too, as LibAUC).
* A label without positives contributes 0 (LibAUC: AssertionError); a batch without any gives 0
  with zero gradient. ``mAPLoss`` accepts only per-sample ``index`` (LibAUC: ``NameError`` with
  positive-only indices); ``APLoss`` accepts both, as LibAUC.
* The value is computed in float64 and returned in ``y_pred``'s dtype (LibAUC: float32).
* ``hinge`` at an exact tie h_i - h_j = m has derivative 0 here (LibAUC: 1/2 through
  ``torch.max``); ``barrier_hinge`` at an exact breakpoint takes the slope of the piece above it
  (LibAUC: the mean of the two through ``torch.maximum``).
* ``logistic`` is log(1 + e^{-s t}) computed as softplus: finite where LibAUC's
  ``torch.log(1 + torch.exp(-s t))`` overflows to inf (s t < -88 in float32) and then gives a
  NaN state.
* ``barrier_hinge`` needs ``margin=(m, s)`` (LibAUC unpacks its margin; its default 1.0 fails
  there with a TypeError, here with a ValueError saying so).
* With ``torch.distributed`` initialised LibAUC all-gathers the batch implicitly; here it is explicit:
  ``process_group=`` (keyword; None = this rank's batch) all-gathers scores, labels and indices
  (autograd-aware: each rank gets the gradient of its own rows), so every rank computes the loss of
  the global batch and applies the same update to the same touched ``u_all`` / ``u_pos`` entries:
  the state stays identical on every rank.
"""

from typing import Any

import torch
from torch import nn

from .._core import devices
from .._core import options as O
from .._core import validate as V
from .._core.state_writes import LastWritten
from .._core.tasks import chosen_labels
from ._ap_pair_sums import make_pair_sums, surrogate_hparam
from .libauc import (
    _check_index_count,
    _default_device,
    _global,
    _index_per_sample,
    _last_true,
    _positive,
    _with_gradient,
)


class _APBase(nn.Module):
    u_all: torch.Tensor  # buffers: the moving averages of LibAUC's u_all / u_pos
    u_pos: torch.Tensor

    def _setup(self, data_len, num_labels, margin, gamma, surr_loss, device, top_k, semantics):
        self.data_len: int = int(data_len)
        if self.data_len <= 0:
            raise ValueError(f"data_len must be > 0, got {data_len}")
        self.num_labels: int = int(num_labels)
        self.surr_loss: str = V.option(surr_loss, O.LIBAUC_AP_SURROGATE)
        self.margin: float | tuple[float, float] = surrogate_hparam(self.surr_loss, margin)
        m = self.margin
        self._margin_scale: tuple[float, float] = m if isinstance(m, tuple) else (m, m)  # the ops' (margin, scale)
        self.gamma: float = _positive(gamma, "gamma", 1.0)
        self.semantics: str = V.option(semantics, O.LIBAUC_SEMANTICS)
        self.top_k: float | None = top_k
        dev = _default_device(device)
        self.device = dev
        shape = (self.data_len, 1) if self.num_labels == 0 else (self.num_labels, self.data_len, 1)
        self.register_buffer("u_all", torch.zeros(shape, device=dev))
        self.register_buffer("u_pos", torch.zeros(shape, device=dev))

    def _check_index(self, idx):
        V.index_range(idx, self.data_len, f"index entries must be in [0, data_len={self.data_len})")

    def _updating(self):
        if self.semantics == "libauc":  # LibAUC updates its state in eval() and under no_grad too
            return not torch.is_inference_mode_enabled()
        return self.training and torch.is_grad_enabled() and not torch.is_inference_mode_enabled()

    def _fused(self, h, y_true):
        """Whether this call takes the one-call CPU op ``ap_loss_step``: its direct O(n+ n) pair sums beat
        the sort + scan unless there are many anchors per label (the scan's O(n log n) wins there)."""
        if not devices.host_reads_free(h) or self.u_all.dtype not in _STATE_DTYPES:
            return False
        n, C = h.shape
        if self.surr_loss == "logistic" or n * n * C <= FUSED_ALWAYS_PAIRS:
            return True
        anchors = int((y_true == 1).sum())
        return anchors * n <= FUSED_ANCHOR_PAIRS or anchors <= FUSED_ANCHORS_PER_LABEL * C

    def _fused_step(self, y_pred, h, y_true, index, counted):
        top_k = None if self.top_k is None or self.top_k <= -1 else self.top_k
        m, s = self._margin_scale
        args = (y_true, index, counted, self.u_all, self.u_pos, self.data_len, self.surr_loss, m, s)
        args += (self.gamma, top_k, self._updating())
        if torch.is_grad_enabled() and y_pred.requires_grad:
            return _FusedStep.apply(h, args)
        return torch.ops.torchauc.ap_loss_step(h, *args, False)[0]

    def _compute(self, y_pred, h, y, rows, cols):
        """h, y: (n, C) scores and positive mask; rows: (n, C) flat state position of each entry (read at
        the positives); cols: (C,) 1 for the labels that count, or None for all. Returns the loss."""
        want_grad = torch.is_grad_enabled() and y_pred.requires_grad
        update = self._updating()
        pos = y if cols is None else y & (cols > 0)
        anchors = (_CompactAnchors if devices.host_reads_free(h) else _DenseAnchors)(pos, rows)
        with torch.no_grad():
            value, grad = self._stats(h, y, anchors, cols, want_grad, update)
        if grad is None:
            return value.to(y_pred.dtype)
        return _with_gradient(y_pred, value, grad.reshape(y_pred.shape))

    def _stats(self, h, y, anchors, cols, want_grad, update):
        n = h.shape[0]
        x = h.detach().to(torch.float64)
        tile_dtype = torch.float64 if h.dtype == torch.float64 else torch.float32  # logistic kernel only
        ps = make_pair_sums(x, self.margin, self.surr_loss, y, tile_dtype, compact=anchors.compact)
        yf = y.to(torch.float64)
        weights = [torch.ones_like(x), yf]
        if self.top_k is not None and self.top_k > -1:  # sigmoid(top_k - sum_{i in P} l_ij), per label
            colsum, _ = ps.cols(yf[None])
            s = torch.sigmoid(self.top_k - colsum[0])
            weights += [s, s * yf]
        rows, drows = ps.rows(torch.stack(weights))
        u_all, u_pos = self.u_all.view(-1), self.u_pos.view(-1)
        old = torch.stack([u_all.index_select(0, anchors.slot), u_pos.index_select(0, anchors.slot)])
        new = (1 - self.gamma) * old.to(torch.float64) + (self.gamma / n) * anchors.take(rows[:2])
        # the values the float32 state holds after the update: a repeated index gives every anchor its last
        # value in batch order, which is stored (on any device, whatever its write order) and which LibAUC's
        # rows read back; without an update the value is the same, the state untouched
        new = anchors.written(new.to(u_all.dtype), old)
        if update:
            anchors.store((u_all, u_pos), new)
        new = new.to(torch.float64)
        inv = 1.0 / new[0]
        # A_i = u_pos / u_all^2, C_i = 1 / u_all at the anchors, else 0
        AC = anchors.spread(torch.stack([new[1] * inv * inv, inv])).reshape(2, *x.shape)
        A, Cw = AC[0], AC[1]
        npos = anchors.pos.sum(0).to(torch.float64)
        n_labels = float(y.shape[1]) if cols is None else (cols > 0).sum().clamp_min(1).to(torch.float64)
        scale = 1.0 / ((npos * n).clamp_min(1) * n_labels)  # (C,)
        value = ((A * rows[-2] - Cw * rows[-1]).sum(0) * scale).sum()
        if not want_grad:
            return value, None
        # d/dh_i as anchor: dl/dh_i = -l'(k_i + h_j); d/dh_j as item: +l'(k_i + h_j)
        _, dcols = ps.cols(AC)
        s, sy = weights[-2], weights[-1]
        grad = (Cw * drows[-1] - A * drows[-2] + s * dcols[0] - sy * dcols[1]) * scale
        return value, grad


class _CompactAnchors:
    """The anchors (positive entries of the labels that count) of a (n, C) batch, compacted with a host
    size (CPU, where the read is free): per-anchor vectors are (k, n+), in row-major order. ``slot``: each
    anchor's flat state position, ``take`` / ``spread`` go from (k, n, C) entries to anchors and back
    (zero elsewhere), ``written`` gives what each anchor's position holds after the update (a repeated
    position: its last value), ``store`` stores that."""

    compact = True

    def __init__(self, pos, rows):
        self.pos = pos
        self.where = pos.reshape(-1).nonzero().squeeze(1)
        self.slot = rows.reshape(-1).index_select(0, self.where)
        self.written_at = LastWritten(self.slot)

    def take(self, x):
        return x.reshape(x.shape[0], -1).index_select(1, self.where)

    def spread(self, v):
        return v.new_zeros((v.shape[0], self.pos.numel())).index_copy_(1, self.where, v)

    def written(self, new, old):
        """(2, n+): what each anchor's position holds once the new values are stored (``old``: its read)."""
        return torch.stack([self.written_at.of(v) for v in new])

    def store(self, states, new):
        """Stores the ``written`` values into the states (u_all, u_pos)."""
        for state, v in zip(states, new):
            state.index_copy_(0, self.slot, v)


class _DenseAnchors(_CompactAnchors):
    """The anchors without a host size (CUDA: no sync), with _CompactAnchors' interface over every (n, C)
    entry, the anchors masked. A non-anchor entry's state position is its label's last anchor's (its write
    repeats that anchor's value, so only anchors' positions change); a label without anchors writes back
    what it read."""

    compact = False

    def __init__(self, pos, rows):
        self.pos = pos
        self.last = _last_true(pos)[None]  # (1, C): each label's last anchor (any sample when none)
        self.live = pos.any(0)
        self.slot = torch.where(pos, rows, rows.gather(0, self.last)).reshape(-1)
        self.written_at = LastWritten(self.slot)

    def take(self, x):
        return x.reshape(x.shape[0], -1)

    def spread(self, v):
        return torch.where(self.pos.reshape(-1), v, 0.0)

    def written(self, new, old):
        n, C = self.pos.shape
        new = new.reshape(2, n, C)
        new = torch.where(self.pos, new, new.gather(1, self.last[None].expand(2, 1, C)))
        new = torch.stack([self.written_at.of(v) for v in new.reshape(2, -1)])
        return torch.where(self.live.repeat(n), new, old)

    def store(self, states, new):
        for state, v in zip(states, new):
            state.put_(self.slot, v)


class _FusedStep(torch.autograd.Function):
    """``ap_loss_step`` with its gradient: the op returns d loss / d scores with the value. The op's other
    arguments come as one tuple: ``apply`` inspects every argument it gets (a cost per argument and call)."""

    @staticmethod
    def forward(ctx, h, args):
        value, grad = torch.ops.torchauc.ap_loss_step(h, *args, True)
        ctx.save_for_backward(grad)
        return value

    @staticmethod
    def backward(ctx, *grad_outputs):
        (grad,) = ctx.saved_tensors
        return grad_outputs[0] * grad, None


def _checked(y_pred, y_true, index, num_labels, state):
    """y_pred as (n, num_labels) after the checks every path shares (no tensor op)."""
    V.tensor(y_pred, "y_pred")
    V.tensor(y_true, "y_true")
    V.tensor(index, "index")
    if not y_pred.is_floating_point():
        raise TypeError(f"y_pred must be a floating point tensor, got {y_pred.dtype}")
    h = y_pred.reshape(-1, num_labels)
    if y_true.numel() != h.numel():
        raise ValueError(f"y_true must have as many elements as y_pred ({h.numel()}), got {y_true.numel()}")
    if y_true.device != h.device or index.device != h.device:
        raise ValueError("y_pred, y_true and index must be on the same device")
    if h.shape[0] == 0:
        raise ValueError("y_pred must not be empty")
    if state.device != h.device:
        raise ValueError(f"the loss state is on {state.device} but y_pred is on {h.device}; use .to(device)")
    return h


class APLoss(_APBase):
    r"""SOAP average-precision loss (LibAUC ``APLoss`` = ``AveragePrecisionLoss``).

    Args (LibAUC 2.0.1 names and defaults): ``data_len`` (dataset size), ``gamma=0.9``,
    ``margin=1.0``, ``surr_loss='squared_hinge'`` (or ``'hinge'``, ``'squared'``, ``'logistic'``
    (margin = scale s), ``'barrier_hinge'`` (margin = (m, s))), ``device=None``;
    keyword-only ``semantics='fixed'``. Buffers ``u_all``, ``u_pos`` (data_len, 1).
    ``forward(y_pred, y_true, index)``: ``index`` holds the dataset indices of the whole batch or of
    its positives only. Use with :class:`torchauc.optim.SOAP` and a :class:`DualSampler`.
    """

    def __init__(
        self,
        data_len: int,
        gamma: float = 0.9,
        margin: float = 1.0,
        surr_loss: str = "squared_hinge",
        device: torch.device | str | None = None,
        *,
        semantics: str = "fixed",
        process_group: "torch.distributed.ProcessGroup | None" = None,
    ) -> None:
        super().__init__()
        self.process_group: torch.distributed.ProcessGroup | None = process_group
        self._setup(data_len, 0, margin, gamma, surr_loss, device, None, semantics)

    def forward(self, y_pred: torch.Tensor, y_true: torch.Tensor, index: torch.Tensor, **kwargs: Any) -> torch.Tensor:
        y_pred, y_true, index = _global(self.process_group, y_pred, y_true, index)
        h = _checked(y_pred, y_true, index, 1, self.u_all)
        if self._fused(h, y_true):
            return self._fused_step(y_pred, h, y_true, index, None)
        y, idx = y_true.reshape(h.shape) == 1, index.reshape(-1).long()
        on_host = devices.host_reads_free(h)
        if idx.numel() != h.shape[0]:  # one entry per positive
            if on_host:
                _check_index_count(idx, h.shape[0], int(y.sum()))
            else:
                msg = f"index must have one entry per sample ({h.shape[0]}) or per positive (device-side check)"
                torch.ops.aten._assert_async.msg(y.sum() == idx.numel(), msg)
            idx = _index_per_sample(idx, y[:, 0])
        self._check_index(idx)
        return self._compute(y_pred, h, y, idx[:, None], None)


class meanAveragePrecisionLoss(_APBase):
    r"""SOAP averaged over labels (LibAUC ``meanAveragePrecisionLoss`` = ``mAPLoss``), all labels
    in one batched sort + scan.

    Args (LibAUC 2.0.1): ``data_len, num_labels, margin=1.0, gamma=0.9, top_k=-1``
    (> -1: weight every sample j by sigmoid(top_k - sum_{i in P} l_ij)), ``surr_loss``,
    ``device=None``; keyword-only ``semantics='fixed'``. Buffers ``u_all``, ``u_pos``
    (num_labels, data_len, 1). ``forward(y_pred (B, C), y_true (B, C), index (B,), task_id=[])``:
    the mean over the labels in ``task_id`` (all when empty).
    """

    def __init__(
        self,
        data_len: int,
        num_labels: int,
        margin: float = 1.0,
        gamma: float = 0.9,
        top_k: int = -1,
        surr_loss: str = "squared_hinge",
        device: torch.device | str | None = None,
        *,
        semantics: str = "fixed",
        process_group: "torch.distributed.ProcessGroup | None" = None,
    ) -> None:
        super().__init__()
        self.process_group: torch.distributed.ProcessGroup | None = process_group
        if int(num_labels) < 1:
            raise ValueError(f"num_labels must be >= 1, got {num_labels}")
        self._setup(data_len, num_labels, margin, gamma, surr_loss, device, V.finite_float(top_k, "top_k"), semantics)

    def forward(
        self, y_pred: torch.Tensor, y_true: torch.Tensor, index: torch.Tensor, task_id: Any = (), **kwargs: Any
    ) -> torch.Tensor:
        C = self.num_labels
        y_pred, y_true, index = _global(self.process_group, y_pred, y_true, index)
        h = _checked(y_pred, y_true, index, C, self.u_all)
        if index.numel() != h.shape[0]:
            raise ValueError(f"index must have one entry per sample ({h.shape[0]}), got {index.numel()}")
        chosen = chosen_labels(task_id, C)  # checked on the host for a list, on the device for a CUDA tensor
        cols = None if chosen is None else chosen.to(h.device, torch.long, non_blocking=True)
        if self._fused(h, y_true):
            return self._fused_step(y_pred, h, y_true, index, cols)
        y, idx = y_true.reshape(h.shape) == 1, index.reshape(-1).long()
        self._check_index(idx)
        rows = torch.arange(C, device=h.device) * self.data_len + idx[:, None]  # label c's state: [c N, (c + 1) N)
        return self._compute(y_pred, h, y, rows, cols)


# The one-call CPU op handles these state dtypes (a module moved with .half() takes the composed path).
_STATE_DTYPES = (torch.float32, torch.float64)
# CPU batches with at most this many pairs n^2 C take ap_loss_step whatever their anchors (no count needed);
# larger ones when their anchors x samples pairs are at most FUSED_ANCHOR_PAIRS or they have at most
# FUSED_ANCHORS_PER_LABEL anchors per label on average. Measured (2 threads, AVX-512 tiles, fwd + bwd, half
# positives; benchmarks/results/Intel(R)-Xeon(R)-Processor-2cores-cpu-aploss-isa.md): op / sort + scan time
# 0.75 (squared hinge) and 0.41 (barrier hinge) at n = 1024 (2^19 anchor pairs), 1.35 and 0.98 at n = 2048;
# with 512 anchors 0.80 / 0.63 at n = 2^14 but 1.28 / 0.83 at n = 2^16, with 256 anchors 0.34 / 0.31 at 2^14.
FUSED_ALWAYS_PAIRS = 1 << 18
FUSED_ANCHOR_PAIRS = 1 << 19
FUSED_ANCHORS_PER_LABEL = 256


AveragePrecisionLoss = APLoss
mAPLoss = meanAveragePrecisionLoss

__all__ = ["APLoss", "AveragePrecisionLoss", "meanAveragePrecisionLoss", "mAPLoss"]
