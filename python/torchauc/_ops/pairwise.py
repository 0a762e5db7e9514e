"""pairwise_auc_loss: fake impl and autograd.

The op is fused: one call returns the loss and its gradients (w.r.t. scores and the optional weights),
so backward is a scale by the incoming gradient, with no second pass over the data. The returned
gradients are constants for autograd: the loss is differentiable once (no double backward)."""

import torch

_OP = "torchauc::pairwise_auc_loss"


@torch.library.register_fake(_OP)
def _fake(scores, labels, pos_weights, neg_weights, surrogate, margin, reduction, compute_grad):
    loss = scores.new_empty(())

    def grad_like(t):
        return t.new_empty(t.shape) if (compute_grad and t is not None) else scores.new_empty(0)

    return loss, grad_like(scores), grad_like(pos_weights), grad_like(neg_weights)


def _setup_context(ctx, inputs, output):
    _, grad_s, grad_a, grad_b = output
    ctx.has_grad = inputs[7]
    ctx.save_for_backward(grad_s, grad_a, grad_b)
    ctx.mark_non_differentiable(grad_s, grad_a, grad_b)


def _backward(ctx, g_loss, _g1, _g2, _g3):
    if not ctx.has_grad:
        raise RuntimeError(
            "torchauc.pairwise_auc_loss was called with compute_grad=False; call it through "
            "torchauc.functional.pairwise_auc_loss, which asks for gradients when they are needed"
        )
    grad_s, grad_a, grad_b = ctx.saved_tensors
    ga = g_loss * grad_a if ctx.needs_input_grad[2] else None
    gb = g_loss * grad_b if ctx.needs_input_grad[3] else None
    return g_loss * grad_s, None, ga, gb, None, None, None, None


torch.library.register_autograd(_OP, _backward, setup_context=_setup_context)
