"""multiclass_auc_loss: fake impl and autograd.

The op is fused: one call returns the loss and d loss / d scores (computed from O(C) column stats in
the same call), so backward only scales the saved gradient by the incoming one. Differentiable once."""

import torch

from ._fused_grad import scaled, skip_zero_grads

_OP = "torchauc::multiclass_auc_loss"


@torch.library.register_fake(_OP)
def _fake(scores, labels, ignore_index, activation, surrogate, mode, margin, normalization, compute_grad):
    grad = scores.new_empty(scores.shape) if compute_grad else scores.new_empty(0)
    return scores.new_empty(()), grad


def _setup_context(ctx, inputs, output):
    _, grad = output
    ctx.has_grad = inputs[8]
    ctx.save_for_backward(grad)
    ctx.mark_non_differentiable(grad)
    skip_zero_grads(ctx)


def _backward(ctx, g_loss, _g_grad):
    if not ctx.has_grad:
        raise RuntimeError(
            "torchauc.multiclass_auc_loss was called with compute_grad=False; call it through "
            "torchauc.functional.multiclass_auc_loss or pixel_auc_loss, which ask for gradients when needed"
        )
    (grad,) = ctx.saved_tensors
    if g_loss is None:  # (grads are not materialised) nothing flows into the loss
        return None, None, None, None, None, None, None, None, None
    return scaled(g_loss, grad), None, None, None, None, None, None, None, None


torch.library.register_autograd(_OP, _backward, setup_context=_setup_context)
