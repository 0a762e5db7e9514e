"""Partial-AUC ops: fake (shape-only) impls and autograd. partial_auc_select / exp_rows / exp_cols return
selections and statistics that the losses in torchauc.partial_auc / torchauc.compat.libauc combine
into values and gradients; they are not differentiable themselves (the losses never pass tensors
that require grad into them). partial_auc_upauci is a fused loss with autograd (below)."""

import torch

from ._fused_grad import scaled, skip_zero_grads


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
_UPAUCI = "torchauc::partial_auc_upauci"


@torch.library.register_fake(_UPAUCI)
def _upauci_fake(scores, labels, weights, params, max_fpr, min_tpr, omega, compute_grad):
    if not compute_grad:
        return scores.new_empty(()), scores.new_empty(0), scores.new_empty(0), params.new_empty(0)
    return scores.new_empty(()), scores.new_empty(scores.shape), weights.new_empty(weights.shape), params.new_empty(7)


def _upauci_setup(ctx, inputs, output):
    _, gs, gw, gp = output
    ctx.has_grad = inputs[7]
    ctx.save_for_backward(gs, gw, gp)
    ctx.mark_non_differentiable(gs, gw, gp)
    skip_zero_grads(ctx)


def _upauci_backward(ctx, g_loss, _g1, _g2, _g3):
    if not ctx.has_grad:
        raise RuntimeError(
            "torchauc.partial_auc_upauci was called with compute_grad=False; call it through "
            "torchauc.partial_auc.upauci_loss, which asks for gradients when they are needed"
        )
    if g_loss is None:  # (grads are not materialised) nothing flows into the loss
        return (None,) * 8
    gs, gw, gp = ctx.saved_tensors
    need = ctx.needs_input_grad
    return (
        scaled(g_loss, gs) if need[0] else None,
        None,
        scaled(g_loss, gw) if need[2] else None,
        scaled(g_loss.to(gp.dtype), gp) if need[3] else None,
        None,
        None,
        None,
        None,
    )


torch.library.register_autograd(_UPAUCI, _upauci_backward, setup_context=_upauci_setup)
