"""Partial-AUC ops: fake (shape-only) impls. The three ops return selections and statistics that the
losses in torchauc.partial_auc / torchauc.compat.libauc combine into values and gradients; they are
not differentiable themselves (the losses never pass tensors that require grad into them)."""

import torch


@torch.library.register_fake("torchauc::partial_auc_select")
def _select_fake(scores, labels, max_fpr, min_tpr, rounding):
    return scores.new_empty((scores.numel(),), dtype=torch.bool)


@torch.library.register_fake("torchauc::partial_auc_exp_rows")
def _rows_fake(scores, labels, margin, Lambda, surrogate):
    n = scores.numel()
    return tuple(scores.new_empty((n,), dtype=torch.float64) for _ in range(4))


@torch.library.register_fake("torchauc::partial_auc_exp_cols")
def _cols_fake(scores, labels, row_scale, margin, Lambda, surrogate):
    return scores.new_empty((scores.numel(),), dtype=torch.float64)
