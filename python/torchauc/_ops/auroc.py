"""AUROC metric ops: fake (shape-only) impls. Metrics are not differentiable, so no autograd."""

import torch


@torch.library.register_fake("torchauc::auroc_binary_stats")
def _binary_fake(scores, labels, weights):
    cols = scores.shape[1] if scores.dim() == 2 else 1
    return scores.new_empty((cols, 3), dtype=torch.float64)


@torch.library.register_fake("torchauc::auroc_multiclass_stats")
def _multiclass_fake(scores, labels, weights, ignore_index):
    c = scores.shape[1]
    return scores.new_empty((c, c), dtype=torch.float64), scores.new_empty((c,), dtype=torch.float64)


@torch.library.register_fake("torchauc::auroc_partial_stats")
def _partial_fake(scores, labels, max_fpr, min_tpr):
    return scores.new_empty((5,), dtype=torch.float64)


@torch.library.register_fake("torchauc::auroc_partial_area")
def _area_fake(scores, labels, weights, max_fpr):
    return scores.new_empty((3,), dtype=torch.float64)


@torch.library.register_fake("torchauc::auroc_average_precision")
def _ap_fake(scores, labels, weights):
    cols = scores.shape[1] if scores.dim() == 2 else 1
    return scores.new_empty((cols, 3), dtype=torch.float64)
