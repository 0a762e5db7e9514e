r"""LibAUC-compatible partial AUC losses, exact and without pair matrices.

Drop-in replacements for ``libauc.losses.pAUC_CVaR_Loss`` (SOPA), ``pAUC_DRO_Loss`` (SOPA-s) and
``tpAUC_KL_Loss`` (SOTA-s) of LibAUC 2.0.1: same class names, constructor arguments and defaults,
same ``forward(y_pred, y_true, index)`` and the same values and gradients on LibAUC's valid paths.
A user changes ``from libauc.losses import pAUC_DRO_Loss`` to
``from torchauc.compat.libauc import pAUC_DRO_Loss`` (or the older ``torchauc.libauc_compat``) and
keeps training.

What is computed (l_ij = surrogate(margin - (s_i - s_j)) for positive i, negative j; squared hinge
by default): the per-positive statistics over all negatives, then LibAUC's update of the per-sample
state, then LibAUC's returned "loss" -- a surrogate whose *gradient* is the algorithm's stochastic
gradient estimator (its value is not the pAUC objective):

* CVaR: p_ij = 1[l_ij > s_i] with the old thresholds s (``u_pos``), then
  s_i <- s_i - eta (1 - sum_j p_ij / (beta n-)), loss = mean_ij(p_ij l_ij) / beta.
  Exact in O(n log n): l is monotone in s_j, so {j : l_ij > s_i} is a suffix of the sorted
  negatives (sort + suffix sums + binary search).
* DRO: u_i <- (1 - gamma) u_i + gamma mean_j exp(l_ij / Lambda), loss = mean_ij (e_ij / u_i)(det) l_ij.
* KL: u_i as DRO with gamma0, w <- (1 - gamma1) w + gamma1 mean_i u_i^(Lambda/tau),
  loss = mean_ij (u_i^(Lambda/tau - 1) e_ij / w)(det) l_ij.
  DRO/KL run two tiled C++/CUDA passes with O(n) memory (per-positive row sums, per-negative
  column sums) and a per-row max shift, so exp(l / Lambda) never overflows.

On CUDA a step of any of the three does not wait for the GPU: class sizes stay on the device, the
positives are masked instead of compacted, and an ``index`` given per positive has its length checked
against n+ by a device-side assert. On CPU tensors, where reading n+ costs nothing, the step compacts
the positives with host sizes instead (fewer, smaller passes).

Differences from LibAUC 2.0.1 (its documented defects, fixed):

* State is registered buffers: saved in ``state_dict``, moved by ``.to()``; it is NOT updated in
  ``eval()`` mode or under ``torch.no_grad()`` (the returned value is the same as in training).
* DRO/KL keep their state in the log domain (``log_u_pos``, ``log_w``, float64); ``u_pos`` and ``w``
  are read-only properties. LibAUC gives inf/NaN when exp(l / Lambda) overflows float32 (e.g.
  Lambda = 0.1 on logits); ours stays finite and equals LibAUC wherever LibAUC is finite.
* The returned dtype follows ``y_pred`` (LibAUC always returns float32).
* A batch without positives or without negatives returns 0 with zero gradient and leaves the state
  untouched (LibAUC raises AssertionError or returns NaN).
* Only the ``squared_hinge`` (default) and ``hinge`` surrogates are supported (others raise).
* ``process_group=`` (keyword, default None: each rank uses its own batch as LibAUC does): the
  losses run on the global batch of the group's ranks (scores, labels and indices all-gathered);
  every rank applies the same update to the same touched state entries, so ``u_pos``/``w`` stay
  identical across ranks, and each rank gets the exact gradient of its own samples.
"""

import math
from typing import Any

import torch
from torch import nn

from .._core import devices
from .._core import distributed as D
from .._core import options as O
from .._core import validate as V
from .._core.state_writes import LastWritten


def _default_device(device):
    if device is None:
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    return torch.device(device)


def _positive(value, name, upper=None):
    v = V.finite_float(value, name)
    if v <= 0 or (upper is not None and v > upper):
        rng = f"(0, {upper}]" if upper is not None else "> 0"
        raise ValueError(f"{name} must be in {rng}, got {value}")
    return v


def _flat_inputs(y_pred, y_true, index, state):
    """The checked flat scores and labels of one call, and the index as given."""
    V.tensor(y_pred, "y_pred")
    V.tensor(y_true, "y_true")
    V.tensor(index, "index")
    if not y_pred.is_floating_point():
        raise TypeError(f"y_pred must be a floating point tensor, got {y_pred.dtype}")
    s, y = y_pred.reshape(-1), y_true.reshape(-1)
    if y.numel() != s.numel():
        raise ValueError(f"y_true must have as many elements as y_pred ({s.numel()}), got {y.numel()}")
    if state.device != s.device:
        raise ValueError(
            f"the loss state is on {state.device} but y_pred is on {s.device}; "
            "move the loss with .to(device) (or pass device= at construction)"
        )
    return s, y, index.reshape(-1)


def _check_index_count(index, n, npos):
    if index.numel() != npos:
        raise ValueError(f"index must have one entry per sample ({n}) or per positive ({npos}), got {index.numel()}")


class _Batch:
    """Flattened inputs of one call compacted with host sizes (on CPU, where reading n+ costs no device
    sync): the state rows are the positives' (``rows``), ``empty`` says that a class is absent (the loss
    is then 0 and the state untouched).

    The interface shared with _DeviceBatch: ``per_row`` / ``masked`` / ``per_sample`` move vectors
    between samples and rows (DRO / KL), ``if_live`` keeps a result of a batch with both classes,
    ``store`` writes the rows, ``nneg`` / ``log_npos`` / ``log_nneg`` / ``pairs`` are the class sizes."""

    def __init__(self, y_pred, y_true, index, state):
        self.s, self.y, idx = _flat_inputs(y_pred, y_true, index, state)
        self.pos = self.y == 1
        self.at_pos = self.pos.nonzero().reshape(-1)  # one search for the positives serves every compaction
        idx = idx.to(state.device).long()
        self.rows = idx.index_select(0, self.at_pos) if idx.numel() == self.s.numel() else idx
        self.written = LastWritten(self.rows)
        self.npos = self.at_pos.numel()
        self.nneg = self.s.numel() - self.npos
        self.empty = self.npos == 0 or self.nneg == 0
        if not self.empty:
            _check_index_count(self.rows, self.s.numel(), self.npos)
            self.log_npos, self.log_nneg = math.log(self.npos), math.log(self.nneg)
            self.pairs = float(self.npos * self.nneg)

    def zero(self):
        return (self.s * 0).sum()

    def per_row(self, v):
        """A per-sample vector at the rows (the positives)."""
        return v.index_select(0, self.at_pos)

    def masked(self, v, fill):
        """A per-row vector with ``fill`` at the rows of no positive (none here)."""
        return v

    def per_sample(self, v, rest):
        """Per-row values at their positives, ``rest`` (a scalar, or a per-sample tensor that is
        overwritten) at the negatives."""
        out = rest if isinstance(rest, torch.Tensor) else v.new_full((self.s.numel(),), rest)
        return out.index_copy_(0, self.at_pos, v)

    def if_live(self, x, other):
        """``x`` (the batch has both classes here)."""
        return x

    def last_written(self, v):
        """A per-row vector as LibAUC's ``state[rows] = v`` leaves it and reads it back: a repeated row's
        last value in batch order at each of its entries."""
        return self.written.of(v)

    def store(self, state, v):
        """v at the rows; a repeated row keeps its last value (in batch order) on every device."""
        self.written.put(state, v)


class _DeviceBatch:
    """The inputs of one call with the class sizes left on the device (CUDA: no host sync), with
    _Batch's interface: every vector keeps all n samples and ``pos`` marks the positives; ``live``
    (0-dim) says whether both classes are present (otherwise the loss is 0 and the state untouched, as
    with _Batch.empty); ``empty`` only when n = 0.

    ``rows`` are the state rows the call reads and writes, one per sample: a positive's own row; a
    negative's is the last positive's (it rewrites that row with the same value, so a scatter without
    compaction touches only positives' rows); row 0, rewritten with itself, when not live. A row
    repeated in the batch keeps the value of its last entry (core/state_writes.py). An index per
    positive (instead of per sample) has its length checked against n+ by a device-side assert."""

    def __init__(self, y_pred, y_true, index, state):
        self.s, y, idx = _flat_inputs(y_pred, y_true, index, state)
        n = self.s.numel()
        self.empty = n == 0
        self.pos = y == 1
        npos = self.pos.sum()
        nneg = n - npos
        self.live = (npos > 0) & (nneg > 0)
        self.nneg = nneg.to(torch.float64)
        self.log_npos = torch.log(npos.to(torch.float64))
        self.log_nneg = torch.log(self.nneg)
        self.pairs = (npos * nneg).to(torch.float64)
        idx = idx.to(state.device).long()
        if idx.numel() != n:  # one entry per positive: spread to the samples by the positives' ranks
            torch.ops.aten._assert_async.msg(
                ~self.live | (npos == idx.numel()),
                f"index must have one entry per sample ({n}) or per positive, got {idx.numel()} (device-side check)",
            )
            idx = _index_per_sample(idx, self.pos)
        if n:  # (1,): the last positive (any sample when none; index_select: a 0-dim index would sync)
            self.last = _last_true(self.pos).reshape(1)
            self.rows = torch.where(self.live, torch.where(self.pos, idx, idx.index_select(0, self.last)), 0)
            self.written = LastWritten(self.rows)

    def zero(self):
        return (self.s * 0).sum()

    def per_row(self, v):
        return v

    def masked(self, v, fill):
        return torch.where(self.pos, v, fill)

    def per_sample(self, v, rest):
        return torch.where(self.pos, v, rest)

    def if_live(self, x, other):
        return torch.where(self.live, x, other)

    def last_written(self, v):
        """As _Batch's, a negative's entry taking the last positive's (its row's) value."""
        return self.written.of(torch.where(self.pos, v, v.index_select(0, self.last)))

    def store(self, state, v):
        """v at the positives' rows (a repeated row: its last value); a negative's row (the last
        positive's) gets that positive's value, a one-class batch leaves every row as it is."""
        old = state.view(-1).index_select(0, self.rows)
        self.written.put(state, torch.where(self.live, self.last_written(v).to(state.dtype), old))


def _with_gradient(scores, value, grad):
    """A 0-dim tensor equal to ``value`` whose gradient w.r.t. ``scores`` is ``grad`` (constant)."""
    value = value.to(scores.dtype)
    if not (torch.is_grad_enabled() and scores.requires_grad):
        return value
    g = grad.to(scores.dtype).detach()
    lin = (scores * g).sum()
    return value + (lin - lin.detach())


def _index_per_sample(idx, pos):
    """An index given per positive of the 1-D mask ``pos``, spread over the samples by the positives' ranks
    (a positive gets its own entry, another sample the preceding positive's, or the first / 0): the
    per-sample form, without a host read."""
    if not idx.numel():
        return torch.zeros(pos.shape, dtype=torch.long, device=pos.device)
    rank = torch.cumsum(pos, 0) - 1
    return idx.index_select(0, rank.clamp(0, idx.numel() - 1))


def _last_true(mask):
    """The index of the last True along dim 0 of a bool ``mask`` (0 where none is), on the device:
    argmax of the flipped mask, so no host read."""
    return mask.shape[0] - 1 - torch.argmax(mask.flip(0).to(torch.uint8), 0)


def _g_inverse(u, surr_loss):
    """The largest k + z with surrogate g(k + z) <= u (g = squared hinge or hinge), clamped at 0."""
    return torch.sqrt(torch.clamp_min(u, 0)) if surr_loss == "squared_hinge" else torch.clamp_min(u, 0)


def _column_suffix(z):
    """Column suffix sums of (B, K) z with a zero row appended: out[r, c] = sum_{r' >= r} z[r', c]."""
    tail = torch.flip(torch.cumsum(torch.flip(z, [0]), 0), [0])
    return torch.cat([tail, tail.new_zeros(1, tail.shape[1])])


def _cvar_columns(s64, act, u, margin, surr_loss):
    """SOPA's pair sums of each column of (B, K) float64 scores, its positives ``act`` against the
    rest: pair_sum_i = sum_j p_ij l_ij (differentiable in s64) and count_i = sum_j p_ij with
    p_ij = 1[l_ij > u_i], l_ij = g(margin - s_i + s_j), for every positive i (other entries: finite
    values to be masked). Sizes stay on the device (no host sync). l is nondecreasing in s_j, so
    {j : p_ij = 1} is a suffix of the column's sorted negatives: one column sort, one batched
    searchsorted, column suffix sums (O(B K log B), no pair matrix)."""
    key = torch.where(act, math.inf, s64.detach())  # negatives sorted in each column's first n- rows
    sorted_key, order = torch.sort(key, dim=0)
    n_neg = (~act).sum(0)
    in_neg = torch.arange(key.shape[0], device=key.device)[:, None] < n_neg
    zs = torch.where(in_neg, s64.gather(0, order), 0.0)  # differentiable, zero-padded
    k = margin - s64
    # p_ij = 1[g(k_i + z_j) > u_i]: all pairs when u_i < 0, else z_j > g^{-1}(u_i) - k_i (a suffix)
    threshold = torch.where(act, _g_inverse(u, surr_loss) - k.detach(), 0.0)
    first = torch.searchsorted(sorted_key.t().contiguous(), threshold.t().contiguous(), right=True).t()
    first = torch.minimum(first, n_neg)
    count = torch.where(u < 0, n_neg, n_neg - first)
    # pairs with k + z <= 0 contribute no value or gradient, so the same suffix serves u < 0
    c0 = (n_neg - first).to(torch.float64)
    c1 = _column_suffix(zs).gather(0, first)
    if surr_loss == "hinge":
        return k * c0 + c1, count
    return k * k * c0 + 2 * k * c1 + _column_suffix(zs * zs).gather(0, first), count


def _global(group, y_pred, y_true, index):
    """The global batch over ``process_group`` (every rank then applies the same state update to the
    same touched entries, so the per-sample state stays identical on every rank)."""
    if D.check_group(group) is None:
        return y_pred, y_true, index
    y_pred, y_true = D.gather_batch(group, y_pred, y_true)
    return y_pred, y_true, D.gather_batch(group, V.tensor(index, "index"))


class pAUC_CVaR_Loss(nn.Module):
    r"""SOPA one-way partial AUC loss (Zhu et al., ICML 2022), LibAUC-compatible and exact.

    Args (LibAUC 2.0.1 names and defaults): ``data_len`` (dataset size, the state length),
    ``pos_len`` (stored, unused, as in LibAUC), ``num_neg=None`` (used when ``auto=False``),
    ``margin=1.0``, ``beta=0.2`` (FPR range), ``eta=0.1`` (step size of the thresholds),
    ``surr_loss='squared_hinge'`` (or ``'hinge'``), ``device=None`` (CUDA if available).

    State: buffer ``u_pos`` (data_len, 1) float32, the CVaR thresholds s_i (zeros at start).
    ``forward(y_pred, y_true, index, auto=True)``: ``index`` holds dataset indices for the whole
    batch or for its positives only. Returns mean_ij(p_ij l_ij)/beta with p_ij = 1[l_ij > s_i]
    (old s), computed with a sort of the negatives and suffix sums, O(n log n), no pair matrix.
    """

    u_pos: torch.Tensor  # buffer: the thresholds s_i

    def __init__(
        self,
        data_len: int,
        pos_len: int | None = None,
        num_neg: int | None = None,
        margin: float = 1.0,
        beta: float = 0.2,
        eta: float = 0.1,
        surr_loss: str = "squared_hinge",
        device: torch.device | str | None = None,
        *,
        process_group: "torch.distributed.ProcessGroup | None" = None,
    ) -> None:
        super().__init__()
        self.process_group: torch.distributed.ProcessGroup | None = process_group
        self.data_len: int = int(data_len)
        self.pos_len: int | None = pos_len
        self.num_neg: int | None = num_neg
        self.margin: float = V.finite_float(margin, "margin")
        self.beta: float = _positive(beta, "beta", 1.0)
        self.eta: float = V.finite_float(eta, "eta")
        self.surr_loss: str = V.option(surr_loss, O.LIBAUC_SURROGATE)
        self.register_buffer("u_pos", torch.zeros(self.data_len, 1, device=_default_device(device)))

    def forward(
        self, y_pred: torch.Tensor, y_true: torch.Tensor, index: torch.Tensor, auto: bool = True, **kwargs: Any
    ) -> torch.Tensor:
        num_neg = None if auto else self.num_neg
        if num_neg is None and not auto:
            raise ValueError("num_neg must be given when auto=False")
        batch = _Batch if devices.host_reads_free(self.u_pos) else _DeviceBatch
        b = batch(*_global(self.process_group, y_pred, y_true, index), self.u_pos)
        if b.empty:
            return b.zero()
        u = self.u_pos[b.rows, 0].to(torch.float64)
        loss, count = self._compacted(b, u) if isinstance(b, _Batch) else self._masked(b, u)
        if self.training and torch.is_grad_enabled() and not torch.is_inference_mode_enabled():
            per_neg = count.to(torch.float64) / (self.beta * (b.nneg if num_neg is None else float(num_neg)))
            b.store(self.u_pos, u - self.eta * (1 - per_neg))
        return loss.to(y_pred.dtype)

    def _masked(self, b, u):
        """The loss and every sample's count (read at the positives) with the class sizes on the device:
        the batch as one column of _cvar_columns."""
        act = (b.pos & b.live)[:, None]
        pair_sum, count = _cvar_columns(b.s.to(torch.float64)[:, None], act, u[:, None], self.margin, self.surr_loss)
        loss = torch.where(act, pair_sum, 0.0).sum() / (self.beta * b.pairs.clamp_min(1))
        return b.if_live(loss, b.zero().detach().to(torch.float64)), count[:, 0]

    def _compacted(self, b, u):
        """The loss and the positives' counts with host sizes: the positives x and negatives z apart."""
        s64 = b.s.to(torch.float64)
        x, z = s64[b.pos], s64[~b.pos]
        zs, _ = torch.sort(z.detach())
        k = self.margin - x.detach()  # l_ij = g(k_i + z_j), nondecreasing in z_j
        # p_ij = 1[g(k_i + z_j) > u_i]: all pairs when u_i < 0, else z_j > g^{-1}(u_i) - k_i
        first = torch.searchsorted(zs, _g_inverse(u, self.surr_loss) - k, right=True)
        count = torch.where(u < 0, torch.full_like(first, z.numel()), z.numel() - first)
        # pairs with k + z <= 0 contribute no value or gradient, so the same suffix serves u < 0
        return self._suffix_sum(x, z, first) / (self.beta * b.npos * b.nneg), count

    def _suffix_sum(self, x, z, first):
        """sum_i sum_{j: rank(z_j) >= first_i} l(m - x_i + z_j), differentiable in x and z."""
        zs, _ = torch.sort(z)  # differentiable sort
        zero = zs.new_zeros(1)
        c0 = (zs.numel() - first).to(zs.dtype)
        c1 = torch.cat([torch.flip(torch.cumsum(torch.flip(zs, [0]), 0), [0]), zero])[first]
        k = self.margin - x
        if self.surr_loss == "hinge":
            return (k * c0 + c1).sum()
        c2 = torch.cat([torch.flip(torch.cumsum(torch.flip(zs * zs, [0]), 0), [0]), zero])[first]
        return (k * k * c0 + 2 * k * c1 + c2).sum()


class _ExpRowsLoss(nn.Module):
    """Shared machinery of the DRO and KL losses: exp row sums, log-domain state, gradient."""

    log_u_pos: torch.Tensor  # buffer: log u_i

    def _setup(self, data_len, margin, Lambda, surr_loss, device):
        self.data_len: int = int(data_len)
        self.margin: float = V.finite_float(margin, "margin")
        self.Lambda: float = _positive(Lambda, "Lambda")
        self.surr_loss: str = V.option(surr_loss, O.LIBAUC_SURROGATE)
        dev = _default_device(device)
        self.register_buffer("log_u_pos", torch.full((self.data_len, 1), -math.inf, dtype=torch.float64, device=dev))

    @property
    def u_pos(self) -> torch.Tensor:
        """The moving averages u_i (data_len, 1), float32 as in LibAUC (read-only view of log_u_pos)."""
        return torch.exp(self.log_u_pos).float()

    def _updating(self):
        return self.training and torch.is_grad_enabled() and not torch.is_inference_mode_enabled()

    def _rows(self, b):
        """shift, r0, r1, r2 of every state row of the batch (see _Batch / _DeviceBatch)."""
        out = torch.ops.torchauc.partial_auc_exp_rows(b.s.detach(), b.pos, self.margin, self.Lambda, self.surr_loss)
        return [b.per_row(v) for v in out]

    def _new_log_u(self, b, gamma, shift, r0):
        old = self.log_u_pos[b.rows, 0]
        batch = math.log(gamma) + shift + torch.log(r0) - b.log_nneg
        if gamma >= 1.0:
            return batch
        return torch.logaddexp(math.log1p(-gamma) + old, batch)

    def _finish(self, b, row_log_scale, r1, r2, shift):
        """loss = sum_i a_i r2_i / (n+ n-) with a_i = exp(row_log_scale_i + shift_i), and its gradient;
        a one-class batch gives 0 and a zero gradient."""
        alpha = b.masked(torch.exp(row_log_scale + shift), 0.0)
        value = b.if_live((alpha * r2).sum() / b.pairs, b.zero().detach().to(torch.float64))
        if not (torch.is_grad_enabled() and b.s.requires_grad):
            return value.to(b.s.dtype)
        s = b.s.detach()
        full = b.per_sample(alpha, 0.0)
        col = torch.ops.torchauc.partial_auc_exp_cols(s, b.pos, full, self.margin, self.Lambda, self.surr_loss)
        # d/dx_i at positives: - a_i sum_j e_ij l'_ij; d/dz_j at negatives: + sum_i a_i e_ij l'_ij
        grad = b.if_live(b.per_sample(-alpha * r1, col) / b.pairs, 0.0)
        return _with_gradient(b.s, value, grad)

    def _call(self, y_pred, y_true, index):
        """The batch and its rows (None when the batch is empty). On CPU tensors the batch is compacted
        with host sizes (cheaper there); elsewhere the class sizes stay on the device (no host sync)."""
        batch = _Batch if devices.host_reads_free(self.log_u_pos) else _DeviceBatch
        b = batch(*_global(self.process_group, y_pred, y_true, index), self.log_u_pos)
        if b.empty:
            return b, None
        return b, self._rows(b)


class pAUC_DRO_Loss(_ExpRowsLoss):
    r"""SOPA-s one-way partial AUC loss (KL-DRO; Zhu et al., ICML 2022), LibAUC-compatible and exact.

    Args (LibAUC 2.0.1 names and defaults): ``data_len``, ``gamma=0.9`` (moving-average weight, in
    (0, 1]), ``margin=1.0``, ``Lambda=1.0`` (KL temperature), ``surr_loss='squared_hinge'`` (or
    ``'hinge'``), ``device=None`` (CUDA if available).

    State: buffer ``log_u_pos`` (data_len, 1) float64 = log u_i (u = 0 at start); ``u_pos`` property.
    ``forward(y_pred, y_true, index)``. Cost: two tiled passes over the n+ x n- pairs with O(n) memory.
    """

    def __init__(
        self,
        data_len: int,
        gamma: float = 0.9,
        margin: float = 1.0,
        Lambda: float = 1.0,
        surr_loss: str = "squared_hinge",
        device: torch.device | str | None = None,
        *,
        process_group: "torch.distributed.ProcessGroup | None" = None,
    ) -> None:
        super().__init__()
        self.process_group: torch.distributed.ProcessGroup | None = process_group
        self.gamma: float = _positive(gamma, "gamma", 1.0)
        self._setup(data_len, margin, Lambda, surr_loss, device)

    def forward(self, y_pred: torch.Tensor, y_true: torch.Tensor, index: torch.Tensor, **kwargs: Any) -> torch.Tensor:
        b, rows = self._call(y_pred, y_true, index)
        if rows is None:
            return b.zero()
        shift, r0, r1, r2 = rows
        log_u = b.last_written(self._new_log_u(b, self.gamma, shift, r0))  # LibAUC reads the rows back
        if self._updating():
            b.store(self.log_u_pos, log_u)
        return self._finish(b, -log_u, r1, r2, shift)


class tpAUC_KL_Loss(_ExpRowsLoss):
    r"""SOTA-s two-way partial AUC loss (KL-DRO on both sides; Zhu et al., ICML 2022),
    LibAUC-compatible and exact.

    Args (LibAUC 2.0.1 names and defaults): ``data_len``, ``tau=1.0``, ``Lambda=1.0``,
    ``gammas=(0.9, 0.9)`` (moving-average weights of u and w, in (0, 1]), ``margin=1.0``,
    ``surr_loss='squared_hinge'`` (or ``'hinge'``), ``device=None``.

    State: buffers ``log_u_pos`` (data_len, 1) and ``log_w`` (scalar), float64, log domain
    (u = w = 0 at start); ``u_pos`` and ``w`` properties.
    """

    log_w: torch.Tensor  # buffer: log w

    def __init__(
        self,
        data_len: int,
        tau: float = 1.0,
        Lambda: float = 1.0,
        gammas: tuple[float, float] = (0.9, 0.9),
        margin: float = 1.0,
        surr_loss: str = "squared_hinge",
        device: torch.device | str | None = None,
        *,
        process_group: "torch.distributed.ProcessGroup | None" = None,
    ) -> None:
        super().__init__()
        self.process_group: torch.distributed.ProcessGroup | None = process_group
        self.tau: float = _positive(tau, "tau")
        self.gamma0: float = _positive(gammas[0], "gammas[0]", 1.0)
        self.gamma1: float = _positive(gammas[1], "gammas[1]", 1.0)
        self._setup(data_len, margin, Lambda, surr_loss, device)
        self.register_buffer("log_w", torch.tensor(-math.inf, dtype=torch.float64, device=self.log_u_pos.device))

    @property
    def w(self) -> torch.Tensor:
        return torch.exp(self.log_w).float()

    def forward(self, y_pred: torch.Tensor, y_true: torch.Tensor, index: torch.Tensor, **kwargs: Any) -> torch.Tensor:
        b, rows = self._call(y_pred, y_true, index)
        if rows is None:
            return b.zero()
        shift, r0, r1, r2 = rows
        log_u = b.last_written(self._new_log_u(b, self.gamma0, shift, r0))  # LibAUC reads the rows back
        ratio = self.Lambda / self.tau
        over_pos = torch.logsumexp(b.masked(ratio * log_u, -math.inf), 0)
        batch_w = math.log(self.gamma1) + over_pos - b.log_npos
        log_w = batch_w if self.gamma1 >= 1.0 else torch.logaddexp(math.log1p(-self.gamma1) + self.log_w, batch_w)
        if self._updating():
            b.store(self.log_u_pos, log_u)
            self.log_w.copy_(b.if_live(log_w, self.log_w))
        return self._finish(b, (ratio - 1) * log_u - log_w, r1, r2, shift)


__all__ = ["pAUC_CVaR_Loss", "pAUC_DRO_Loss", "tpAUC_KL_Loss"]


from ..optim.libauc import PDSCA, PESG, SOAP, STACO  # noqa: E402
from .libauc_ap import APLoss, AveragePrecisionLoss, mAPLoss, meanAveragePrecisionLoss  # noqa: E402
from .libauc_aucm import AUCMLoss, CompositionalAUCLoss, MultiLabelAUCMLoss  # noqa: E402
from .libauc_mlpauc import MultiLabelpAUCLoss, mPAUCLoss  # noqa: E402
from .libauc_sampler import DualSampler  # noqa: E402

mAUCMLoss = MultiLabelAUCMLoss

__all__ += [
    "AUCMLoss",
    "CompositionalAUCLoss",
    "MultiLabelAUCMLoss",
    "mAUCMLoss",
    "APLoss",
    "AveragePrecisionLoss",
    "meanAveragePrecisionLoss",
    "mAPLoss",
    "MultiLabelpAUCLoss",
    "mPAUCLoss",
    "DualSampler",
    "PESG",
    "PDSCA",
    "SOAP",
    "STACO",
]
