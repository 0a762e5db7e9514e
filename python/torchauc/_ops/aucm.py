"""aucm_moments and aucm_loss (LibAUC's AUC-M losses): fake impls and autograd.

aucm_loss is fused: one call returns the weighted loss over the labels and its gradients (scores,
a, b, alpha), so backward is a scale by the incoming gradient. aucm_moments has no autograd: the
loss differentiates through the moments in closed form (they only enter through aucm_loss)."""

import torch

from ._fused_grad import scaled, skip_zero_grads

_LOSS = "torchauc::aucm_loss"


@torch.library.register_fake("torchauc::aucm_moments")
def _fake_moments(scores, labels):
    return scores.new_empty(6 * scores.shape[1] + 1, dtype=torch.float64)


@torch.library.register_fake(_LOSS)
def _fake_loss(scores, labels, a, b, alpha, prior, weights, moments, margin, version, compute_grad):
    grad_s = scores.new_empty(scores.shape) if compute_grad else scores.new_empty(0)
    loss = scores.new_empty((), dtype=torch.promote_types(scores.dtype, a.dtype))
    return loss, grad_s, a.new_empty(a.shape), b.new_empty(b.shape), alpha.new_empty(alpha.shape)


def _setup_context(ctx, inputs, output):
    _, grad_s, grad_a, grad_b, grad_alpha = output
    ctx.has_grad = inputs[10]
    ctx.save_for_backward(grad_s, grad_a, grad_b, grad_alpha)
    ctx.mark_non_differentiable(grad_s, grad_a, grad_b, grad_alpha)
    skip_zero_grads(ctx)


def _backward(ctx, g_loss, *_):
    grad_s, grad_a, grad_b, grad_alpha = ctx.saved_tensors
    need = ctx.needs_input_grad
    if need[0] and not ctx.has_grad:
        raise RuntimeError(
            "torchauc.aucm_loss was called with compute_grad=False; call it through "
            "torchauc.compat.libauc_aucm.aucm_loss, which asks for gradients when they are needed"
        )
    if g_loss is None:  # (grads are not materialised) nothing flows into the loss
        return (None,) * 11
    gs = scaled(g_loss, grad_s) if need[0] else None
    ga = scaled(g_loss, grad_a) if need[2] else None
    gb = scaled(g_loss, grad_b) if need[3] else None
    gal = scaled(g_loss, grad_alpha) if need[4] else None
    return (gs, None, ga, gb, gal) + (None,) * 6


torch.library.register_autograd(_LOSS, _backward, setup_context=_setup_context)
