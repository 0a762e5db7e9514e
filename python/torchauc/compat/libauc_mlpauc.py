r"""LibAUC's ``MultiLabelpAUCLoss`` (= ``mPAUCLoss``), every label in one pass.

LibAUC runs its one-way / two-way partial AUC loss once per label column in a Python loop, swapping
the per-label slice of the state in and out. Here the labels are columns of one computation:

* ``'1w'`` / ``'SOPAs'`` (DRO) and ``'2w'`` / ``'SOTAs'`` (KL): one ``partial_auc_exp_rows`` and one
  ``partial_auc_exp_cols`` call on the (B, C) scores (the ops treat each column as its own problem),
  then the state updates of all labels as one gather / scatter into the (C, data_len, 1) state.
* ``'SOPA'`` (CVaR): one column-wise sort of the negatives, one batched ``searchsorted`` and column
  suffix sums (O(B C log B), no pair matrix).

On CUDA the batch stays dense, (B, K) entries with the positives masked and the class sizes on the
device, so a step does not wait for the GPU. On CPU tensors, where reading sizes on the host is free,
the positives are compacted with ``nonzero`` instead and the per-entry work (state reads and writes,
logs, exps) runs over the positives only: 0.69-0.87x the dense form's step time for '1w' / '2w' at
B = 128-1024, 0.82-0.98x for 'SOPA' (C = 10, 20% positives; benchmarks/results/*-mlpauc-cpu.md).
The choice is ``devices.host_reads_free``, as the binary losses'. A ``task_id`` given as a CUDA
tensor is not read on the host either: every label column is computed and the unchosen ones are
masked (its range is a device-side assert); a list or a CPU tensor chooses the columns on the host,
without a device sync.

LibAUC's shared w of ``'2w'`` (``semantics="libauc"``) is a recurrence over the labels in turn,
w_t = (1 - gamma1) w_(t-1) + gamma1 batch_t, solved in closed form with one log-cumsum-exp.
"""

import math
from typing import Any

import torch
from torch import nn

from .._core import devices
from .._core import options as O
from .._core import validate as V
from .._core.state_writes import LastWritten
from .._core.tasks import chosen_labels
from .libauc import _cvar_columns, _global, _last_true, _with_gradient, pAUC_CVaR_Loss, pAUC_DRO_Loss, tpAUC_KL_Loss


class _Labels:
    """The (B, K) problem of one call: the chosen label columns ``h``, their positives ``act`` (of labels
    with both classes, ``live``), the class sizes per label on the device, and the entries' state element
    positions ``at`` in the (C, data_len, 1) state.

    Two forms with one interface, chosen as the binary losses choose theirs (``devices.host_reads_free``):
    _PositiveEntries (CPU) compacts the positives with host sizes, so the per-entry work runs over the
    ~n+ positives instead of all B samples of a label; _DenseEntries (CUDA) keeps every (B, K) entry,
    the positives masked (no host sync). An entry vector is (P,) or (B, K) by form: ``per_entry`` takes
    a (B, K) tensor to it, ``per_label`` a (K,) one, ``masked`` fills its other entries (dense form),
    ``scatter`` puts it back into (B, K); ``if_live`` keeps a result where a label is live, else
    ``zero()``."""

    at: torch.Tensor  # set by the form: the state element positions of its entries
    written: LastWritten  # set by the form: its writes of ``at`` (a repeated position keeps its last value)

    def __init__(self, h, y, index, tasks, chosen, state):
        if state.device != h.device:
            raise ValueError(
                f"the loss state is on {state.device} but y_pred is on {h.device}; "
                "move the loss with .to(device) (or pass device= at construction)"
            )
        B = h.shape[0]
        idx = V.tensor(index, "index").reshape(-1)
        if idx.numel() != B:
            raise ValueError(f"index must have one entry per sample ({B}), got {idx.numel()}")
        self.tasks = tasks
        self.h = h.index_select(1, tasks)
        pos = y.index_select(1, tasks) == 1
        self.npos = pos.sum(0)
        self.nneg = (B - self.npos).to(torch.float64)
        self.live = (self.npos > 0) & (self.nneg > 0)  # labels whose loss is defined; the others add 0
        self.chosen = chosen  # None, or the chosen ones of all the columns (a task_id on the device)
        if chosen is not None:
            self.live &= chosen
        self.act = pos & self.live  # the positives of live labels
        self.pairs = (self.npos * self.nneg).clamp_min(1)  # (1 where not live: masked)
        self.log_nneg = torch.log(self.nneg)
        self.idx = idx.to(h.device).long()
        self.label_at = tasks * state.shape[1]  # (K,) each label's first element in the (C, data_len, 1) state

    def read(self, state):
        """The state entries of the entries' rows."""
        return state.take(self.at)

    def last_written(self, v):
        """An entry vector as LibAUC's per-label ``state[index] = v`` leaves it and reads it back: an
        index repeated within a label takes its last value in batch order at each of its entries."""
        return self.written.of(v)

    def store(self, state, v, old):
        """v at the entries' rows (a repeated row: its last value, on every device)."""
        self.written.put(state, v)

    def zero(self):
        """The loss without a live label, as the labels' own losses: 0 (NaN for NaN scores)."""
        h = self.h if self.chosen is None else torch.where(self.chosen, self.h, 0)
        return (h * 0).sum()


class _PositiveEntries(_Labels):
    """The positives of live labels compacted with ``nonzero`` (host sizes), row-major: per sample in
    batch order: a dataset index repeated within a label stores its last sample's value, as LibAUC's
    writes on the CPU (on every device: core/state_writes.py). ``empty``: no live label (the loss is 0,
    nothing is stored)."""

    def __init__(self, h, y, index, tasks, chosen, state):
        super().__init__(h, y, index, tasks, chosen, state)
        rows, self.cols = self.act.nonzero(as_tuple=True)
        self.flat = rows * self.act.shape[1] + self.cols  # positions in the (B, K) entries
        self.at = self.idx.index_select(0, rows) + self.label_at.index_select(0, self.cols)
        self.written = LastWritten(self.at)
        self.empty = self.cols.numel() == 0

    def per_entry(self, v):
        return v.take(self.flat)

    def per_label(self, v):
        return v.index_select(0, self.cols)

    def masked(self, v, fill):
        return v

    def scatter(self, v, rest):
        """(B, K): v at the positives, ``rest`` (a scalar, or a (B, K) tensor that is overwritten) elsewhere."""
        out = rest if isinstance(rest, torch.Tensor) else v.new_full(self.act.shape, rest)
        return out.put_(self.flat, v)

    def if_live(self, x):
        return x


class _DenseEntries(_Labels):
    """Every (B, K) entry, the positives masked (class sizes stay on the device: no host sync on CUDA).
    The rows: a positive's own; the others' the last positive's of their column (a scatter rewrites
    that row with the same value, so it touches only positives' rows, in batch order as LibAUC's
    writes); a column without positives rewrites one of its rows with itself. ``empty``: B = 0."""

    def __init__(self, h, y, index, tasks, chosen, state):
        super().__init__(h, y, index, tasks, chosen, state)
        self.last = _last_true(self.act)  # (K,) each column's last positive
        rows = torch.where(self.act, self.idx[:, None], self.idx.index_select(0, self.last))
        self.at = rows + self.label_at
        self.written = LastWritten(self.at)
        self.empty = h.shape[0] == 0

    def per_entry(self, v):
        return v

    def per_label(self, v):
        return v

    def masked(self, v, fill):
        return torch.where(self.act, v, fill)

    def scatter(self, v, rest):
        return torch.where(self.act, v, rest)

    def if_live(self, x):
        return torch.where(self.live.any(), x, self.zero())

    def last_written(self, v):
        """As the base's, the entries that are not positives taking their row's value (see the class)."""
        return self.written.of(torch.where(self.act, v, v.gather(0, self.last[None, :])))

    def store(self, state, v, old):
        """v at the positives' rows (see the class); a label that is not live rewrites ``old`` (its read)."""
        self.written.put(state, torch.where(self.live, self.last_written(v), old))


class MultiLabelpAUCLoss(nn.Module):
    r"""One-way / two-way partial AUC averaged over labels (LibAUC ``MultiLabelpAUCLoss`` =
    ``mPAUCLoss``): the loss of ``mode`` (``'1w'``/``'SOPAs'``: :class:`pAUC_DRO_Loss`,
    ``'2w'``/``'SOTAs'``: :class:`tpAUC_KL_Loss`, ``'SOPA'``: :class:`pAUC_CVaR_Loss`) on each label
    column, with one slice of the per-sample state per label.

    Args (LibAUC 2.0.1): ``mode='1w', num_labels=10, device=None, **kwargs`` (the wrapped loss's
    arguments, ``data_len`` among them). ``forward(y_pred (B, C), y_true (B, C), index (B,),
    task_id=[])``. State: the wrapped loss's per-sample buffers with a leading label axis
    (e.g. ``log_u_pos`` (C, data_len, 1)); for ``'2w'`` also one ``log_w`` per label (LibAUC shares
    a single w across labels, updated label after label; ``semantics="libauc"`` reproduces that).
    All labels are computed in one pass (the column-batched ops of the wrapped losses); a label
    without positives or without negatives in the batch adds 0 and keeps its state, as the wrapped
    losses. In ``eval()`` nothing is stored; the value is the training value.
    ``process_group=`` (keyword): as the wrapped losses, the loss of the global batch (scores, labels
    and indices all-gathered once); every rank updates the same entries, so the state stays identical.
    """

    _MODES = {"SOPA": pAUC_CVaR_Loss, "SOPAs": pAUC_DRO_Loss, "1w": pAUC_DRO_Loss, "SOTAs": tpAUC_KL_Loss}
    _MODES["2w"] = tpAUC_KL_Loss

    mode: str
    num_labels: int
    loss_fn: Any  # the wrapped loss of ``mode`` (hyperparameters only), set past nn.Module's registration
    u_pos: torch.Tensor  # buffers, by mode: SOPA's thresholds, SOPAs / SOTAs' log row means, SOTAs' log w
    log_u_pos: torch.Tensor
    log_w: torch.Tensor

    def __init__(
        self,
        mode: str = "1w",
        num_labels: int = 10,
        device: torch.device | str | None = None,
        *,
        semantics: str = "fixed",
        process_group: "torch.distributed.ProcessGroup | None" = None,
        **kwargs: Any,
    ) -> None:
        super().__init__()
        self.process_group: torch.distributed.ProcessGroup | None = process_group
        if mode not in self._MODES:
            raise ValueError(f"mode must be one of {', '.join(map(repr, self._MODES))}; got {mode!r}")
        self.mode, self.num_labels = mode, int(num_labels)
        if self.num_labels < 1:
            raise ValueError(f"num_labels must be >= 1, got {num_labels}")
        self.semantics: str = V.option(semantics, O.LIBAUC_SEMANTICS)
        inner = self._MODES[mode](device=device, **kwargs)
        object.__setattr__(self, "loss_fn", inner)  # hyperparameters only: the state lives here, per label
        self.data_len: int = inner.data_len
        self._two_way = mode in ("SOTAs", "2w")
        names = ["u_pos"] if mode == "SOPA" else ["log_u_pos"]
        if self._two_way and self.semantics == "fixed":
            names.append("log_w")
        for name in names:
            buf = getattr(inner, name)
            self.register_buffer(name, buf.unsqueeze(0).repeat(self.num_labels, *([1] * buf.dim())).contiguous())
        if self._two_way and self.semantics == "libauc":
            self.register_buffer("log_w", inner.log_w.clone())  # one w shared by all labels

    def _updating(self):
        return self.training and torch.is_grad_enabled() and not torch.is_inference_mode_enabled()

    def _tasks(self, task_id, device):
        """The label columns computed, on ``device`` in increasing order, and None: all by default, else
        the chosen ones (read on the host). A task_id tensor off the host (CUDA) is not read, as that
        would sync: every column is computed and the second result, (C,) bool, marks the chosen ones
        (its range is a device-side assert)."""
        C = self.num_labels
        chosen = chosen_labels(task_id, C)
        if chosen is None:
            return torch.arange(C, device=device), None
        if devices.host_reads_free(chosen):
            return chosen.nonzero().reshape(-1).to(device, non_blocking=True), None
        return torch.arange(C, device=device), chosen.to(device, non_blocking=True)

    def forward(
        self, y_pred: torch.Tensor, y_true: torch.Tensor, index: torch.Tensor, task_id: Any = (), **kwargs: Any
    ) -> torch.Tensor:
        V.tensor(y_pred, "y_pred")
        V.tensor(y_true, "y_true")
        C = self.num_labels
        if y_pred.numel() % C or y_true.numel() != y_pred.numel():
            raise ValueError(
                f"y_pred and y_true must have shape (B, {C}), got {tuple(y_pred.shape)}, {tuple(y_true.shape)}"
            )
        if not y_pred.is_floating_point():
            raise TypeError(f"y_pred must be a floating point tensor, got {y_pred.dtype}")
        h, y = y_pred.reshape(-1, C), y_true.reshape(-1, C)
        h, y, index = _global(self.process_group, h, y, index)
        state = self.u_pos if self.mode == "SOPA" else self.log_u_pos
        entries = _PositiveEntries if devices.host_reads_free(state) else _DenseEntries
        b = entries(h, y, index, *self._tasks(task_id, h.device), state)
        K = b.tasks.numel() if b.chosen is None else b.chosen.sum()
        if b.empty:
            return b.zero() / K
        total = b.if_live(self._cvar(b) if self.mode == "SOPA" else self._exp(b))
        return total.to(y_pred.dtype) / K

    # ------------------------------------------------------------ SOPA (CVaR thresholds)
    def _cvar(self, b):
        inner = self.loss_fn
        u = b.read(self.u_pos).to(torch.float64)
        columns = _cvar_columns(b.h.to(torch.float64), b.act, b.scatter(u, 0.0), inner.margin, inner.surr_loss)
        pair_sum, count = (b.per_entry(t) for t in columns)
        loss = b.masked(pair_sum / (inner.beta * b.per_label(b.pairs)), 0.0).sum()
        if self._updating():
            b.store(self.u_pos, u - inner.eta * (1 - count / (inner.beta * b.per_label(b.nneg))), u)
        return loss

    # ------------------------------------------------------------ SOPAs / SOTAs (exp row sums)
    def _exp(self, b):
        inner = self.loss_fn
        s = b.h.detach()
        rows = torch.ops.torchauc.partial_auc_exp_rows(s, b.act, inner.margin, inner.Lambda, inner.surr_loss)
        shift, r0, r1, r2 = (b.per_entry(t) for t in rows)
        gamma = inner.gamma0 if self._two_way else inner.gamma
        batch = math.log(gamma) + shift + torch.log(r0) - b.per_label(b.log_nneg)
        old = b.read(self.log_u_pos)
        log_u = b.last_written(batch if gamma >= 1.0 else torch.logaddexp(math.log1p(-gamma) + old, batch))
        row_log_scale = -log_u
        if self._two_way:
            ratio = inner.Lambda / inner.tau
            row_log_scale = (ratio - 1) * log_u - b.per_label(self._log_w(b, ratio * log_u))
        if self._updating():
            b.store(self.log_u_pos, log_u, old)
        alpha = b.masked(torch.exp(row_log_scale + shift) / b.per_label(b.pairs), 0.0)
        value = (alpha * r2).sum()
        if not (torch.is_grad_enabled() and b.h.requires_grad):
            return value
        # d/dz_j at negatives: + sum_i a_i e_ij l'_ij; d/dx_i at positives: - a_i sum_j e_ij l'_ij
        alpha_bk = b.scatter(alpha, 0.0)
        col = torch.ops.torchauc.partial_auc_exp_cols(s, b.act, alpha_bk, inner.margin, inner.Lambda, inner.surr_loss)
        return _with_gradient(b.h, value, b.scatter(-alpha * r1, col))

    def _log_w(self, b, scaled_log_u):
        """log w of each chosen label after this batch (and stored when training)."""
        inner = self.loss_fn
        dense = b.scatter(scaled_log_u, -math.inf)
        batch = math.log(inner.gamma1) + torch.logsumexp(dense, 0) - torch.log(b.npos.clamp_min(1).double())
        decay = math.log1p(-inner.gamma1) if inner.gamma1 < 1.0 else -math.inf
        if self.semantics == "fixed":
            old = self.log_w[b.tasks]
            log_w = batch if inner.gamma1 >= 1.0 else torch.logaddexp(decay + old, batch)
            if self._updating():
                self.log_w[b.tasks] = torch.where(b.live, log_w, old)
            return log_w
        # LibAUC: one w, updated label after label (live labels only), w_t = decay w_(t-1) + batch_t:
        # log w_t = t log(decay) + logaddexp(log w_0, logcumsumexp_s(batch_s - s log(decay)))
        if inner.gamma1 >= 1.0:
            log_w = batch
        else:
            t = torch.cumsum(b.live, 0).to(torch.float64)
            terms = torch.where(b.live, batch - t * decay, -math.inf)
            log_w = t * decay + torch.logaddexp(self.log_w, torch.logcumsumexp(terms, 0))
        if self._updating():  # the value after the last live label (index_select: a 0-dim index would sync)
            last = _last_true(b.live).reshape(1)
            self.log_w.copy_(torch.where(b.live.any(), log_w.index_select(0, last)[0], self.log_w))
        return log_w


mPAUCLoss = MultiLabelpAUCLoss
