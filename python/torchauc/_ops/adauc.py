"""adauc_loss and adauc_pgd_step: fake impls and autograd.

adauc_loss is fused: one call returns the loss and its gradients (scores, a, b, alpha), so backward is
a scale by the incoming gradient. adauc_pgd_step is an attack step: no autograd (its output is a new
perturbation, never differentiated)."""

import torch

from ._fused_grad import scaled, skip_zero_grads

_LOSS = "torchauc::adauc_loss"


@torch.library.register_fake(_LOSS)
def _fake_loss(scores, labels, a, b, alpha, imratio, margin, form, compute_grad):
    grad_s = scores.new_empty(scores.shape) if compute_grad else scores.new_empty(0)
    return scores.new_empty(()), grad_s, a.new_empty(a.shape), b.new_empty(b.shape), alpha.new_empty(alpha.shape)


def _setup_context(ctx, inputs, output):
    _, grad_s, grad_a, grad_b, grad_alpha = output
    ctx.has_grad = inputs[8]
    ctx.save_for_backward(grad_s, grad_a, grad_b, grad_alpha)
    ctx.mark_non_differentiable(grad_s, grad_a, grad_b, grad_alpha)
    skip_zero_grads(ctx)


def _backward(ctx, g_loss, *_):
    grad_s, grad_a, grad_b, grad_alpha = ctx.saved_tensors
    need = ctx.needs_input_grad
    if need[0] and not ctx.has_grad:
        raise RuntimeError(
            "torchauc.adauc_loss was called with compute_grad=False; call it through "
            "torchauc.adauc.adauc_loss, which asks for gradients when they are needed"
        )
    if g_loss is None:  # (grads are not materialised) nothing flows into the loss
        return (None,) * 9
    gs = scaled(g_loss, grad_s) if need[0] else None
    ga = scaled(g_loss, grad_a) if need[2] else None
    gb = scaled(g_loss, grad_b) if need[3] else None
    gal = scaled(g_loss, grad_alpha) if need[4] else None
    return gs, None, ga, gb, gal, None, None, None, None


torch.library.register_autograd(_LOSS, _backward, setup_context=_setup_context)


@torch.library.register_fake("torchauc::adauc_pgd_step")
def _fake_pgd_step(inputs, delta, grad, eps, step, norm, lower, upper):
    return torch.empty_like(inputs, memory_format=torch.contiguous_format)
