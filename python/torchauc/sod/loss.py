"""Size-invariant SOD loss (Li et al., ICML 2024): :func:`si_loss` and its module :class:`SILoss`."""

from collections.abc import Callable

import torch
from torch import nn

from .._core import distributed as D
from .._core import options as O
from .._core import validate as V
from .frames import Frames, _frame_args

_BASE_CODES = {"bce": 1, "dice": 2, "bce+dice": 3}
_DICE_EPS = 1e-5  # the official DiceLoss smoothing


def _pred4(pred):
    V.tensor(pred, "pred")
    if not pred.is_floating_point():
        raise TypeError(f"pred must be a floating point tensor of probabilities, got {pred.dtype}")
    if pred.dim() == 3:
        pred = pred.unsqueeze(1)
    if pred.dim() != 4:
        raise ValueError(f"pred must have shape (B, H, W) or (B, C, H, W), got {tuple(pred.shape)}")
    return pred


def _target3(target, pred):
    V.tensor(target, "target")
    if target.dim() == 4 and target.shape[1] == 1:
        target = target[:, 0]
    want = (pred.shape[0], pred.shape[2], pred.shape[3])
    if tuple(target.shape) != want:
        raise ValueError(f"target must have shape {want} (or with a channel of 1), got {tuple(target.shape)}")
    return target


def si_loss(
    pred: torch.Tensor,
    target: torch.Tensor,
    frames: "Frames | tuple[torch.Tensor, torch.Tensor]",
    *,
    base: "str | Callable[[torch.Tensor, torch.Tensor], torch.Tensor]" = "bce",
    process_group: "torch.distributed.ProcessGroup | None" = None,
) -> torch.Tensor:
    r"""Size-invariant loss: the base loss of every frame plus the weighted background MSE.

    .. math::
        L = \frac{1}{B}\sum_b \Big[\sum_{k<K_b}\sum_c \ell(p_{b,c}[f_k], g_b[f_k])
            + \alpha_b \operatorname{mean}_{x \in bg_b} (\bar p_b(x) - g_b(x))^2\Big],
        \quad \alpha_b = \frac{|bg_b|}{HW - |bg_b|}

    with frames f_k the boxes of image b, bg_b the pixels in no box, \bar p the mean over the C
    (deep-supervision) channels. An image without frames scores ``sum_c l(p_c, g)`` on the whole
    image (the official fallback). Frames are summed, not averaged, as in the official ``SILoss``.

    Args:
        pred: (B, H, W) or (B, C, H, W) probabilities (after the sigmoid), any float dtype and stride.
        target: (B, H, W) ground truth in [0, 1] (soft values allowed).
        frames: a :class:`~torchauc.sod.Frames` (or a ``(boxes, counts)`` pair) of the batch.
        base: ``"bce"`` (torch's binary cross-entropy, mean over the frame), ``"dice"`` (the official
            ``1 - (2 sum pg + 1e-5) / (sum p + sum g + 1e-5)`` over the frame), ``"bce+dice"`` (their
            sum, EDN's setting), or a callable ``base(pred, target) -> per-pixel loss`` of pred's shape
            (B, C, H, W) (e.g. ``lambda p, g: F.binary_cross_entropy(p, g, reduction="none")``), whose
            frame loss is its mean over the frame.

    Returns a 0-dim tensor of pred's dtype. The built-in bases run as one fused op (per-(image, frame)
    sums in one pass, the gradient in a second; no host sync, no loop over images or frames); a
    callable base runs through integral images in PyTorch ops. NaN predictions give a NaN loss.

    ``process_group`` (None: this rank's batch): the images are independent, so the group only makes
    the mean over images that of the global batch (one all-reduce of the image-loss sum and the image
    count; a rank may hold no image). Equal to one process on the concatenated batch.
    """
    pred = _pred4(pred)
    target = _target3(target, pred)
    boxes, counts = _frame_args(frames, pred.shape[0], pred.device)
    group = D.check_group(process_group)
    if group is not None:
        b = pred.shape[0]
        local = _si_loss(pred, target, boxes, counts, base) * b if b else pred.sum() * 0
        total = D.all_reduce_sum_replicated(
            torch.stack([local.double(), local.new_tensor(b, dtype=torch.float64)]), group
        )
        return (total[0] / total[1]).to(pred.dtype)
    if pred.shape[0] == 0:
        raise ValueError("pred must hold at least one image")
    return _si_loss(pred, target, boxes, counts, base)


def _si_loss(pred, target, boxes, counts, base):
    if callable(base):
        return _si_loss_map(pred, target, boxes, counts, base)
    V.option(base, O.SOD_BASE)
    grad = V.needs_grad(pred)
    return torch.ops.torchauc.sod_si_loss(pred, target, boxes, counts, _BASE_CODES[base], grad)[0]


def _box_sums(integral, boxes):
    """Sums over boxes (B, K, 4) [x0, y0, x1, y1) of maps whose integral images are (B, M, H+1, W+1)."""
    b, m = integral.shape[:2]
    flat = integral.flatten(2)
    w1 = integral.shape[3]
    x0, y0, x1, y1 = boxes.unbind(-1)

    def at(y, x):
        idx = (y * w1 + x).unsqueeze(1).expand(b, m, -1)
        return flat.gather(2, idx)

    return at(y1, x1) - at(y0, x1) - at(y1, x0) + at(y0, x0)  # (B, M, K)


def _integral(maps):
    s = maps.double().cumsum(-2).cumsum(-1)
    return nn.functional.pad(s, (1, 0, 1, 0))


def _si_loss_map(pred, target, boxes, counts, base):
    """si_loss with a per-pixel base loss: box means through integral images (vectorised, autograd)."""
    b, c, h, w = pred.shape
    loss_map = base(pred, target.to(pred.dtype).unsqueeze(1).expand_as(pred))
    if not isinstance(loss_map, torch.Tensor) or loss_map.shape != pred.shape:
        raise ValueError(f"a callable base must return a per-pixel loss of pred's shape {tuple(pred.shape)}")
    k = boxes.shape[1]
    valid = torch.arange(k, device=pred.device) < counts.clamp(0, k).unsqueeze(1)  # (B, K)
    none = counts <= 0
    # images without frames: one frame, the whole image, and no background term
    whole = torch.tensor([0, 0, w, h], device=pred.device, dtype=torch.long)
    boxes = torch.cat([torch.where(valid.unsqueeze(-1), boxes, 0), whole.expand(b, 1, 4)], 1)
    valid = torch.cat([valid, none.unsqueeze(1)], 1)
    area = ((boxes[..., 2] - boxes[..., 0]).clamp(min=0) * (boxes[..., 3] - boxes[..., 1]).clamp(min=0)).double()
    frame_sums = _box_sums(_integral(loss_map), boxes)  # (B, C, K + 1)
    use = valid & (area > 0)
    frame_loss = torch.where(use.unsqueeze(1), frame_sums / area.clamp(min=1).unsqueeze(1), 0).sum((1, 2))
    # background: pixels covered by no frame (a coverage count by a 2-D difference array)
    cover = torch.zeros(b, (h + 1) * (w + 1), device=pred.device, dtype=torch.long)
    x0, y0, x1, y1 = boxes[:, :k].unbind(-1)
    on = valid[:, :k].long()
    for yy, xx, sign in ((y0, x0, 1), (y0, x1, -1), (y1, x0, -1), (y1, x1, 1)):
        cover.scatter_add_(1, yy * (w + 1) + xx, sign * on)
    bg = cover.view(b, h + 1, w + 1).cumsum(1).cumsum(2)[:, :h, :w] == 0
    n_bg = bg.sum((1, 2)).double()
    sq = ((pred.mean(1) - target.to(pred.dtype)) ** 2 * bg).double().sum((1, 2))
    bg_term = torch.where(~none & (n_bg > 0), sq / (h * w - n_bg).clamp(min=1), 0)
    return ((frame_loss + bg_term).sum() / b).to(pred.dtype)


def plain_loss(
    pred: torch.Tensor,
    target: torch.Tensor,
    *,
    base: "str | Callable[[torch.Tensor, torch.Tensor], torch.Tensor]" = "bce",
    process_group: "torch.distributed.ProcessGroup | None" = None,
) -> torch.Tensor:
    """The official warm-up loss (``DSLoss``): the base loss of each channel over the whole batch,
    summed over channels (BCE: mean over all pixels; Dice: one Dice over all pixels of the batch).
    ``process_group``: that of the global batch, from per-channel sums (pixel count, loss sum, and
    for Dice the sums of p g, p and g) all-reduced once."""
    pred = _pred4(pred)
    target = _target3(target, pred).to(pred.dtype)
    t = target.unsqueeze(1).expand_as(pred)
    if not callable(base):
        V.option(base, O.SOD_BASE)
    dims = (0, 2, 3)
    sums = [pred.new_full((pred.shape[1],), float(pred.shape[0] * pred.shape[2] * pred.shape[3]))]  # pixels
    if callable(base):
        sums.append(base(pred, t).sum(dims))
    elif base in ("bce", "bce+dice"):
        sums.append(nn.functional.binary_cross_entropy(pred, t, reduction="none").sum(dims))
    if not callable(base) and base in ("dice", "bce+dice"):
        sums += [(pred * t).sum(dims), pred.sum(dims), t.sum(dims)]
    sums = torch.stack(sums)  # (#sums, C)
    if D.check_group(process_group) is not None:
        sums = D.all_reduce_sum_replicated(sums, process_group)
    total = pred.new_zeros(())
    if callable(base) or base in ("bce", "bce+dice"):
        total = total + (sums[1] / sums[0]).sum()
    if not callable(base) and base in ("dice", "bce+dice"):
        inter, ps, ts = sums[-3:]
        total = total + (1 - (2 * inter + _DICE_EPS) / (ps + ts + _DICE_EPS)).sum()
    return total


class SILoss(nn.Module):
    """Size-invariant SOD loss (see :func:`si_loss`) with the official warm-up.

    ``forward(pred, target, frames, *, epoch=None)``: during the first ``warmup_epochs`` epochs (when
    ``epoch``, or the epoch set by :meth:`set_epoch`, is below it) the plain loss of the official
    ``DSLoss`` (:func:`plain_loss`), afterwards the SI loss. Without any epoch given it is the SI loss.

    Drop-in for the official ``SILoss(criterion)`` of Ferry-Li/SI-SOD: ``criterion=[BCELoss]`` is
    ``base="bce"``, ``[DiceLoss]`` ``"dice"``, ``[BCELoss, DiceLoss]`` ``"bce+dice"``; pass the frames
    of :func:`~torchauc.sod.frames` instead of the ``weight`` bitmask.

    ``process_group=`` (keyword): the loss of the global batch, as in :func:`si_loss` and
    :func:`plain_loss` (sums all-reduced; no score is gathered).
    """

    base: str | Callable[[torch.Tensor, torch.Tensor], torch.Tensor]
    warmup_epochs: int
    epoch: int | None

    def __init__(
        self,
        base: "str | Callable[[torch.Tensor, torch.Tensor], torch.Tensor]" = "bce",
        *,
        warmup_epochs: int = 20,
        process_group: "torch.distributed.ProcessGroup | None" = None,
    ) -> None:
        super().__init__()
        self.process_group: torch.distributed.ProcessGroup | None = process_group
        if not callable(base):
            V.option(base, O.SOD_BASE)
        if isinstance(warmup_epochs, bool) or not isinstance(warmup_epochs, int) or warmup_epochs < 0:
            raise ValueError(f"warmup_epochs must be a non-negative int, got {warmup_epochs!r}")
        self.base, self.warmup_epochs, self.epoch = base, warmup_epochs, None

    def set_epoch(self, epoch: int) -> None:
        self.epoch = int(epoch)

    def forward(
        self,
        pred: torch.Tensor,
        target: torch.Tensor,
        frames: "Frames | tuple[torch.Tensor, torch.Tensor]",
        *,
        epoch: int | None = None,
    ) -> torch.Tensor:
        epoch = self.epoch if epoch is None else epoch
        if epoch is not None and epoch < self.warmup_epochs:
            return plain_loss(pred, target, base=self.base, process_group=self.process_group)
        return si_loss(pred, target, frames, base=self.base, process_group=self.process_group)

    def extra_repr(self) -> str:
        return f"base={self.base!r}, warmup_epochs={self.warmup_epochs}"


__all__ = ["si_loss", "plain_loss", "SILoss"]
