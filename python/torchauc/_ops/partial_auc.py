"""Partial-AUC ops: fake (shape-only) impls. partial_auc_select / exp_rows / exp_cols return
selections and statistics that the losses in torchauc.partial_auc / torchauc.compat.libauc combine
into values and gradients; they are not differentiable themselves (the losses never pass tensors
that require grad into them). partial_auc_upauci is a fused loss whose autograd is C++
(csrc/partial_auc/autograd.cpp)."""

import torch


@torch.library.register_fake("torchauc::partial_auc_select")
def _select_fake(scores, labels, max_fpr, min_tpr, rounding):
    return scores.new_empty((scores.numel(),), dtype=torch.bool)


def _exp_shape(scores):
    """exp_rows / exp_cols: (n,) for one problem, (n, C) for C independent problems (columns)."""
    return tuple(scores.shape) if scores.dim() == 2 else (scores.numel(),)


@torch.library.register_fake("torchauc::partial_auc_exp_rows")
def _rows_fake(scores, labels, margin, Lambda, surrogate):
    return tuple(scores.new_empty(_exp_shape(scores), dtype=torch.float64) for _ in range(4))


@torch.library.register_fake("torchauc::partial_auc_exp_cols")
def _cols_fake(scores, labels, row_scale, margin, Lambda, surrogate):
    return scores.new_empty(_exp_shape(scores), dtype=torch.float64)


# partial_auc_upauci is fused (loss and every gradient in one call), like pairwise_auc_loss: the
# backward scales the saved gradients; differentiable once.
@torch.library.register_fake("torchauc::partial_auc_upauci")
def _upauci_fake(scores, labels, weights, params, max_fpr, min_tpr, omega, compute_grad):
    if not compute_grad:
        return scores.new_empty(()), scores.new_empty(0), scores.new_empty(0), params.new_empty(0)
    return scores.new_empty(()), scores.new_empty(scores.shape), weights.new_empty(weights.shape), params.new_empty(7)
