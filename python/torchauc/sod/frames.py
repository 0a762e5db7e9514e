"""Frames of size-invariant SOD: the bounding boxes of the salient objects of each ground truth."""

from typing import NamedTuple

import torch

from .._core import validate as V

MAX_FRAMES = 63  # frames of one image (bits of the official per-pixel bitmask)


class Frames(NamedTuple):
    """The frames of a batch: ``boxes`` (B, K, 4) int64 rows ``[x0, y0, x1, y1)`` (half-open: the
    frame is ``image[..., y0:y1, x0:x1]``; rows ``k >= counts[b]`` are zeros), ``counts`` (B,) int64
    frames per image, and ``labels`` (B, H, W) int32, the frame id 1..counts[b] of each pixel of a kept
    component (0 elsewhere)."""

    boxes: torch.Tensor
    counts: torch.Tensor
    labels: torch.Tensor


def _masks(masks, name="masks"):
    V.tensor(masks, name)
    if masks.dim() == 4 and masks.shape[1] == 1:
        masks = masks[:, 0]
    if masks.dim() == 2:
        masks = masks[None]
    if masks.dim() != 3:
        raise ValueError(f"{name} must have shape (B, H, W), (B, 1, H, W) or (H, W), got {tuple(masks.shape)}")
    return masks


def frames(masks: torch.Tensor, *, min_area: int = 25, connectivity: int = 4, threshold: float = 0.5) -> Frames:
    """Frames of ground-truth masks, as the official preprocessing (``generate_weight.py``) makes them.

    The mask is binarised (``mask > threshold``; pass ``threshold=127.5`` for 0..255 masks, as the
    official code), split into ``connectivity``-connected components (4: scikit-image's
    ``connectivity=1``, the official choice; or 8), components of fewer than ``min_area`` pixels are
    dropped (the official 25; SI_Metric's config uses 50), and when none remains the first component
    (in raster order of its first pixel) is kept. Components are numbered in that raster order, as
    ``skimage.measure.label`` numbers them; frame k is the bounding box of component k.

    The official code finds the components at the dataset's resolution and resizes the label map
    to 384^2 (nearest) before taking the boxes; here everything happens at the resolution of
    ``masks``, so pass the masks as the loss will see them (boxes may differ by the resize's
    rounding from the official ``.npy`` files).

    Args:
        masks: (B, H, W), (B, 1, H, W) or (H, W) ground truth of any real or bool dtype, CPU or CUDA.

    Returns a :class:`Frames`. One host sync (the largest frame count sizes ``boxes``): compute the
    frames once per image, with the dataset, not per step.
    """
    masks = _masks(masks)
    threshold = V.finite_float(threshold, "threshold")
    if isinstance(min_area, bool) or not isinstance(min_area, int) or min_area < 0:
        raise ValueError(f"min_area must be a non-negative int, got {min_area!r}")
    if connectivity not in (4, 8):
        raise ValueError(f"connectivity must be 4 or 8, got {connectivity!r}")
    labels, counts = torch.ops.torchauc.sod_frames(masks, threshold, min_area, connectivity)
    k = int(counts.max()) if counts.numel() else 0
    if k > MAX_FRAMES:
        raise ValueError(f"an image has {k} frames, more than the {MAX_FRAMES} a bitmask holds; raise min_area")
    # per-frame bounding boxes: the memory bank's per-class bbox reduction over the frame ids
    stats = torch.ops.torchauc.memory_bank_class_bbox(labels, k + 1, 0)[0][:, 1:]  # [count, y0, y1, x0, x1]
    present = (stats[..., 0] > 0).unsqueeze(-1)
    boxes = torch.stack([stats[..., 3], stats[..., 1], stats[..., 4] + 1, stats[..., 2] + 1], -1)
    return Frames(torch.where(present, boxes, torch.zeros_like(boxes)), counts, labels)


def _frame_args(frames, batch, device):
    """(boxes int64, counts int64) of a Frames or a (boxes, counts[, ...]) pair, checked against the batch."""
    if not isinstance(frames, (tuple, list)) or len(frames) < 2:
        raise TypeError("frames must be a torchauc.sod.Frames or a (boxes, counts) pair")
    boxes, counts = V.tensor(frames[0], "frames.boxes"), V.tensor(frames[1], "frames.counts")
    if boxes.dim() != 3 or boxes.shape[0] != batch or boxes.shape[2] != 4:
        raise ValueError(f"frames.boxes must have shape ({batch}, K, 4), got {tuple(boxes.shape)}")
    if counts.shape != (batch,):
        raise ValueError(f"frames.counts must have shape ({batch},), got {tuple(counts.shape)}")
    if boxes.is_floating_point() or counts.is_floating_point():
        raise TypeError("frames.boxes and frames.counts must be integer tensors")
    return boxes.to(device=device, dtype=torch.long), counts.to(device=device, dtype=torch.long)


__all__ = ["Frames", "frames", "MAX_FRAMES"]
