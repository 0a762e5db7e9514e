"""SOD ops (sod_*): fake impls (the autograd of sod_si_loss is C++: csrc/sod/autograd.cpp).

sod_si_loss is fused: one call returns the loss and its gradient in pred, so backward is a scale by
the incoming gradient (no double backward). sod_frames and sod_frame_stats carry no gradient."""

import torch


@torch.library.register_fake("torchauc::sod_frames")
def _frames_fake(masks, threshold, min_area, connectivity):
    b = masks.shape[0]
    return masks.new_empty(masks.shape, dtype=torch.int32), masks.new_empty((b,), dtype=torch.long)


@torch.library.register_fake("torchauc::sod_si_loss")
def _si_loss_fake(pred, target, boxes, counts, base, compute_grad):
    return pred.new_empty(()), (pred.new_empty(pred.shape) if compute_grad else pred.new_empty(0))


@torch.library.register_fake("torchauc::sod_frame_stats")
def _frame_stats_fake(pred, pred_norm, target, boxes, counts, thresholds, official_frame_match):
    b, k, t = pred.shape[0], boxes.shape[1], thresholds.shape[0]
    hist = pred.new_empty((b, k + 2, 2, t + 1, 2), dtype=torch.long)
    return hist, pred.new_empty((b, k + 2, 3), dtype=torch.float64)
