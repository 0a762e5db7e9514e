"""aucm_moments and aucm_loss (LibAUC's AUC-M losses): fake impls (the autograd of aucm_loss is C++:
csrc/aucm/autograd.cpp).

aucm_loss is fused: one call returns the weighted loss over the labels and its gradients (scores,
a, b, alpha), so backward is a scale by the incoming gradient. aucm_moments has no autograd: the
loss differentiates through the moments in closed form (they only enter through aucm_loss)."""

import torch

_LOSS = "torchauc::aucm_loss"


@torch.library.register_fake("torchauc::aucm_moments")
def _fake_moments(scores, labels):
    return scores.new_empty(6 * scores.shape[1] + 1, dtype=torch.float64)


@torch.library.register_fake(_LOSS)
def _fake_loss(scores, labels, a, b, alpha, prior, weights, moments, margin, version, compute_grad):
    grad_s = scores.new_empty(scores.shape) if compute_grad else scores.new_empty(0)
    loss = scores.new_empty((), dtype=torch.promote_types(scores.dtype, a.dtype))
    return loss, grad_s, a.new_empty(a.shape), b.new_empty(b.shape), alpha.new_empty(alpha.shape)
