r"""LibAUC's AUC-margin losses: ``AUCMLoss``, ``CompositionalAUCLoss``, ``MultiLabelAUCMLoss``.

All three are the AUC-M min-max objective of Yuan et al. (ICCV 2021), per label, with the
auxiliary variables a, b (descended by the optimizer) and alpha (ascended by :class:`PESG` /
:class:`PDSCA` in closed form). For a label with scores h, positives P, negatives N, batch size B
and p = n+/B (v1) the loss is, exactly as LibAUC 2.0.1 computes it,

* v1: (1-p)/B sum_P (h-a)^2 + p/B sum_N (h-b)^2 + 2 alpha (p(1-p) m + (p sum_N h - (1-p) sum_P h)/B)
  - p(1-p) alpha^2
* v2: mean_P (h-a)^2 + mean_N (h-b)^2 + 2 alpha (m + mean_N h - mean_P h) - alpha^2

computed by one fused op for all labels (``torch.ops.torchauc.aucm_loss``, csrc/aucm): a pass over
the (B, C) batch for the label-grouped moments (count, sum h, sum h^2 per side and label, float64),
the per-label epilogue, and a pass writing the closed-form gradient: O(B C), no loop over labels, no
host sync. ``MultiLabelAUCMLoss`` returns the mean over the labels (or over ``task_id``) as label
weights of that op, so its backward is a scale of the saved gradient.

Differences from LibAUC 2.0.1 (``semantics="libauc"`` reproduces each one):

* v2 cross term (LibAUC issue #74): LibAUC computes mean_nz(h 1_N - mean_nz(h 1_P)), which is
  (n-/B) mean_N h - mean_P h; ours is mean_N h - mean_P h as in the paper and its docstring.
* LibAUC's v2 means divide by ``count_nonzero`` (wrong when some h - a or h is exactly 0) and give
  NaN on a one-class batch; ours divide by n+ / n- and drop the term of an absent class (0, zero
  gradient).
* ``MultiLabelAUCMLoss`` v1 omits the margin (2 alpha (p(1-p) + ...), LibAUC issue #35); ours keeps
  it. Its a, b, alpha are real ``nn.Parameter``\ s (LibAUC: plain tensors, ``parameters()`` empty).
* ``imratio``: LibAUC ignores it unless ``forward(..., auto=False)`` and then overwrites it with the
  last batch's ratio. Ours: ``auto=None`` (default) uses ``imratio`` when given, else the batch's
  ratio; ``auto=True`` always the batch's; the constructor's value is never overwritten.
* ``CompositionalAUCLoss``'s step counter is a buffer (``state_dict``, ``.to()``) and does not
  advance in ``eval()`` mode. On CUDA the count is also kept on the host (no sync per step); the
  buffer is read only after something else wrote it.
* The returned loss is a 0-dim tensor (LibAUC: shape (1,)); the constructor's ``device`` only
  places the parameters (CUDA if available, as LibAUC).

``process_group=`` (keyword, all three; None = this rank's batch): the loss of the global batch
(the ranks' batches concatenated in rank order). The loss is a function of the per-label moments,
so the ranks all-reduce those (6 C + 1 numbers, one collective) and each rank applies the closed-form
gradient to its own rows: its gradient is exactly the global batch's for its samples. The prior p
and the gradients of a, b and alpha are those of the global batch, identical on every rank, so
PESG / PDSCA keep the scalars synchronised (LibAUC under DDP does not: each rank its own batch).
CompositionalAUCLoss's cross-entropy steps are the global-batch mean (one all-reduce of sum and
count). Ranks may hold different numbers of samples, or none. ``semantics="libauc"`` with v2 (its
``count_nonzero`` means are not moment sums) all-gathers the scores and labels instead.
"""

from typing import Any

import torch
import torch.nn.functional as F
from torch import nn

from .._core import devices
from .._core import distributed as D
from .._core import options as O
from .._core import validate as V
from .._core.tasks import chosen_labels


def _default_device(device):
    if device is None or device == "":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    return torch.device(device)


def _columns(y_pred, y_true, num_labels, allow_empty=False):
    """(B, C) scores and 0/1 labels as LibAUC's check_tensor_shape gives them, checked (an empty
    batch only where ``allow_empty``: a rank of a process group)."""
    V.tensor(y_pred, "y_pred")
    V.tensor(y_true, "y_true")
    if not y_pred.is_floating_point():
        raise TypeError(f"y_pred must be a floating point tensor, got {y_pred.dtype}")
    h = y_pred.reshape(-1, num_labels) if y_pred.dim() == 1 else y_pred
    y = y_true.reshape(-1, num_labels) if y_true.dim() == 1 else y_true
    if h.dim() != 2 or h.shape[1] != num_labels:
        raise ValueError(f"y_pred must have shape (B, {num_labels}), got {tuple(y_pred.shape)}")
    if y.shape != h.shape:
        raise ValueError(f"y_true must have the shape of y_pred {tuple(h.shape)}, got {tuple(y_true.shape)}")
    if y.device != h.device:
        raise ValueError(f"y_true is on {y.device} but y_pred is on {h.device}")
    if h.shape[0] == 0 and not allow_empty:
        raise ValueError("y_pred must not be empty")
    return h, y


def label_moments(h, y, group=None):
    """The per-label moments of a (B, C) batch as one float64 vector (``aucm_moments``: the (6, C)
    table n+, n-, sum_P h, sum_N h, sum_P h^2, sum_N h^2, then B), summed over the ranks of
    ``group`` (one all-reduce of 6 C + 1 numbers). No autograd: aucm_loss differentiates through
    them in closed form."""
    moments = torch.ops.torchauc.aucm_moments(h, y)
    return moments if group is None else D.all_reduce_sum(moments, group)


def aucm_loss(
    h: torch.Tensor,
    y: torch.Tensor,
    a: torch.Tensor,
    b: torch.Tensor,
    alpha: torch.Tensor,
    margin: float,
    version: str,
    prior: torch.Tensor | None = None,
    weights: torch.Tensor | None = None,
    moments: torch.Tensor | None = None,
) -> torch.Tensor:
    """sum_c weights[c] * (AUC-M loss of label c) over a (B, C) batch (``weights=None``: the mean
    over the labels), value and closed-form gradients in one fused op (``torchauc::aucm_loss``,
    one pass for the moments, one for the gradient). a, b, alpha (and prior, weights): C entries.
    ``prior``: v1's p per label, None = the batch's ratio of positives. ``moments``: those of
    :func:`label_moments` when the loss is that of a larger (global) batch, else this batch's. The
    loss has the dtype of h and a together; the moments and the epilogue are float64."""
    grad = V.needs_grad(h)
    return torch.ops.torchauc.aucm_loss(h, y, a, b, alpha, prior, weights, moments, margin, version, grad)[0]


def _libauc_v2_columns(h, y, a, b, alpha, margin, v1_margin):
    """LibAUC's v2 expression, literally (``count_nonzero`` means, the #74 parenthesis for
    AUCMLoss / CompositionalAUCLoss): per-label losses (C,), through autograd."""
    dt = torch.promote_types(h.dtype, a.dtype)
    pos, neg = (y == 1).to(dt), (y == 0).to(dt)

    def mean(t):
        return t.sum(0) / torch.count_nonzero(t, dim=0)

    sq = mean((h - a) ** 2 * pos) + mean((h - b) ** 2 * neg) - alpha**2
    if v1_margin:
        return sq + 2 * alpha * (margin + mean(h * neg - mean(h * pos)))
    return sq + 2 * alpha * (margin + mean(h * neg) - mean(h * pos))


class _AUCMBase(nn.Module):
    def _setup(self, margin, imratio, version, device, num_labels, semantics, process_group):
        self.process_group: torch.distributed.ProcessGroup | None = process_group
        self.margin: float = V.finite_float(margin, "margin")
        self.version: str = V.option(version, O.AUCM_VERSION)
        self.semantics: str = V.option(semantics, O.LIBAUC_SEMANTICS)
        self.num_labels: int = int(num_labels)
        self.imratio: float | None = imratio
        self._p_libauc = imratio  # LibAUC overwrites its p with the last batch's ratio
        dev = _default_device(device)
        self.device = dev
        self.a: nn.Parameter = nn.Parameter(torch.zeros(self.num_labels, device=dev))
        self.b: nn.Parameter = nn.Parameter(torch.zeros(self.num_labels, device=dev))
        self.alpha: nn.Parameter = nn.Parameter(torch.zeros(self.num_labels, device=dev))

    def _per_label(self, value, h):
        return torch.as_tensor(value, dtype=h.dtype, device=h.device).reshape(-1).expand(self.num_labels)

    def _prior(self, auto, h, batch_ratio):
        """p of v1 (C,); None = the (global) batch's ratio of positives, which the op computes.
        ``batch_ratio()`` gives that ratio where LibAUC's bookkeeping keeps it."""
        if self.version != "v1":
            return None
        if self.semantics == "libauc":
            if auto is None or auto or self._p_libauc is None:
                self._p_libauc = batch_ratio()
                return None
            return self._per_label(self._p_libauc, h)
        if auto is True or self.imratio is None:
            return None
        return self._per_label(self.imratio, h)

    def _loss(self, y_pred, y_true, auto, v1_margin=True, chosen=None):
        """The mean of the per-label losses over the ``chosen`` labels ((C,) bool, on any device; all
        labels when None) of the batch, or
        of the global batch over ``process_group``: the moments all-reduced (LibAUC's literal v2:
        the scores and labels all-gathered)."""
        group = D.check_group(self.process_group)
        if self.version == "v2" and self.semantics == "libauc":
            if group is not None:
                y_true = torch.as_tensor(y_true, device=y_pred.device)
                y_pred, y_true = D.gather_batch(group, y_pred, y_true)
            h, y = _columns(y_pred, y_true, self.num_labels)
            losses = _libauc_v2_columns(h, y, self.a, self.b, self.alpha, self.margin, v1_margin)
            if chosen is None:
                return losses.mean()
            chosen = chosen.to(losses.device, non_blocking=True)
            return torch.where(chosen, losses, 0).sum() / chosen.sum()
        h, y = _columns(y_pred, y_true, self.num_labels, allow_empty=group is not None)
        moments = None
        if group is not None:
            moments = label_moments(h, y, group)
            if not bool(moments[-1] > 0):
                raise ValueError("y_pred must not be empty (on every rank of process_group together)")

        def batch_ratio():
            m = label_moments(h, y) if moments is None else moments
            return (m[: self.num_labels] / m[-1]).to(h.dtype)

        prior = self._prior(auto, h, batch_ratio)
        weights = None
        if chosen is not None:  # 1 / #chosen at the chosen labels (made where the mask is: no sync)
            weights = (chosen.to(torch.float64) / chosen.sum()).to(h.device, non_blocking=True)
        margin = self.margin if v1_margin else 1.0
        return aucm_loss(h, y, self.a, self.b, self.alpha, margin, self.version, prior, weights, moments)


class AUCMLoss(_AUCMBase):
    r"""AUC-margin loss (LibAUC ``AUCMLoss``), v1 (with the class prior p) or v2 (without).

    Args (LibAUC 2.0.1 names and defaults): ``margin=1.0``, ``imratio=None`` (p of v1; see the
    module notes), ``version='v1'``, ``device=None``; keyword-only ``semantics='fixed'``
    (``'libauc'`` reproduces LibAUC's v2 cross term #74 and ``imratio`` handling).
    Parameters ``a``, ``b``, ``alpha`` (shape (1,)): train with :class:`torchauc.optim.PESG`.
    ``forward(y_pred, y_true, auto=None)``: y_pred (B,) or (B, 1) scores (sigmoid outputs for the
    default margin), y_true 0/1.
    """

    def __init__(
        self,
        margin: float = 1.0,
        imratio: float | None = None,
        version: str = "v1",
        device: torch.device | str | None = None,
        *,
        semantics: str = "fixed",
        process_group: "torch.distributed.ProcessGroup | None" = None,
    ) -> None:
        super().__init__()
        self._setup(margin, imratio, version, device, 1, semantics, process_group)

    def forward(
        self, y_pred: torch.Tensor, y_true: torch.Tensor, auto: bool | None = None, **kwargs: Any
    ) -> torch.Tensor:
        return self._loss(y_pred, y_true, auto)


class CompositionalAUCLoss(_AUCMBase):
    r"""Compositional AUC loss (LibAUC ``CompositionalAUCLoss``, Yuan et al., ICLR 2022).

    Alternates ``k`` cross-entropy steps (``binary_cross_entropy(y_pred, y_true)``: y_pred are
    probabilities) with ``k`` AUC-M steps, counted by the buffer ``step``; train with
    :class:`torchauc.optim.PDSCA`. Args as LibAUC 2.0.1: ``margin=1.0, k=1, version='v1',
    imratio=None, backend='ce', device=None``; keyword-only ``semantics='fixed'``.
    ``forward(y_pred, y_true, k=None, auto=None)``; ``k`` overrides the constructor's value.
    """

    step: torch.Tensor  # the buffer registered in __init__

    def __init__(
        self,
        margin: float = 1.0,
        k: int = 1,
        version: str = "v1",
        imratio: float | None = None,
        backend: str = "ce",
        device: torch.device | str | None = None,
        *,
        semantics: str = "fixed",
        process_group: "torch.distributed.ProcessGroup | None" = None,
    ) -> None:
        super().__init__()
        if int(k) < 1:
            raise ValueError(f"k must be >= 1, got {k}")
        if backend != "ce":
            raise ValueError(f"backend must be 'ce', got {backend!r}")
        self.k: int = int(k)
        self.backend: str = backend
        self._setup(margin, imratio, version, device, 1, semantics, process_group)
        self.register_buffer("step", torch.zeros((), dtype=torch.int64, device=self.a.device))
        self._host_step, self._host_step_key = 0, None

    @staticmethod
    def _step_key(step):  # which tensor holds the count, and how often it was written in place
        return step.device, step.data_ptr(), step._version

    def _step_count(self, step) -> int:
        """The value of the ``step`` buffer. Off the host (CUDA) reading it would wait for the GPU, so
        the count this module wrote last is kept on the host, and the buffer is read only when
        something else wrote it since (a loaded state_dict, a move, a user's write: its storage or
        version counter tells)."""
        if devices.host_reads_free(step):
            return int(step)
        key = self._step_key(step)
        if key != self._host_step_key:
            self._host_step, self._host_step_key = int(step), key
        return self._host_step

    def is_auc_step(self) -> bool:
        """Whether the next forward returns the AUC-M loss (else cross-entropy)."""
        return self._step_count(self.step) % (2 * self.k) >= self.k

    def forward(
        self, y_pred: torch.Tensor, y_true: torch.Tensor, k: int | None = None, auto: bool | None = None, **kwargs: Any
    ) -> torch.Tensor:
        if k is not None:
            if int(k) < 1:
                raise ValueError(f"k must be >= 1, got {k}")
            self.k = int(k)
        step = self.step
        count = self._step_count(step)
        auc = count % (2 * self.k) >= self.k
        if self.training or self.semantics == "libauc":
            step += 1
            if not devices.host_reads_free(step):
                self._host_step, self._host_step_key = count + 1, self._step_key(step)
        if not auc:
            group = D.check_group(self.process_group)
            h, y = _columns(y_pred, y_true, 1, allow_empty=group is not None)
            return D.global_mean(F.binary_cross_entropy(h, y.to(h.dtype), reduction="none"), group)
        return self._loss(y_pred, y_true, auto)


class MultiLabelAUCMLoss(_AUCMBase):
    r"""AUC-M averaged over labels (LibAUC ``MultiLabelAUCMLoss`` = ``mAUCMLoss``), one fused
    expression over the (B, C) batch.

    Args (LibAUC 2.0.1): ``margin=1.0, version='v1', imratio=None`` (per-label list or scalar),
    ``num_labels=10, device=None``; keyword-only ``semantics='fixed'`` (``'libauc'`` drops the
    margin of v1, issue #35). Parameters ``a``, ``b``, ``alpha`` of shape (num_labels,).
    ``forward(y_pred, y_true, task_id=[], auto=None)``: the mean over the labels in ``task_id``
    (all when empty). A list or CPU tensor ``task_id`` is checked on the host; a CUDA tensor stays on
    the device (no host sync): its range is a device-side assert.
    """

    def __init__(
        self,
        margin: float = 1.0,
        version: str = "v1",
        imratio: float | None = None,
        num_labels: int = 10,
        device: torch.device | str | None = None,
        *,
        semantics: str = "fixed",
        process_group: "torch.distributed.ProcessGroup | None" = None,
    ) -> None:
        super().__init__()
        if imratio is not None and not isinstance(imratio, (int, float)) and len(imratio) != int(num_labels):
            raise ValueError(f"imratio must have num_labels ({num_labels}) entries, got {len(imratio)}")
        self._setup(margin, imratio, version, device, num_labels, semantics, process_group)

    @property
    def get_a(self) -> torch.Tensor:
        return self.a.mean()

    @property
    def get_b(self) -> torch.Tensor:
        return self.b.mean()

    @property
    def get_alpha(self) -> torch.Tensor:
        return self.alpha.mean()

    def forward(
        self, y_pred: torch.Tensor, y_true: torch.Tensor, task_id: Any = (), auto: bool | None = None, **kwargs: Any
    ) -> torch.Tensor:
        chosen = chosen_labels(task_id, self.num_labels)
        return self._loss(y_pred, y_true, auto, v1_margin=self.semantics != "libauc", chosen=chosen)


__all__ = ["AUCMLoss", "CompositionalAUCLoss", "MultiLabelAUCMLoss", "aucm_loss", "label_moments"]
