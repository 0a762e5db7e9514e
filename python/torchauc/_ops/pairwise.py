"""pairwise_auc_loss: fake impl (its autograd is C++: csrc/pairwise/autograd.cpp).

The op is fused: one call returns the loss and its gradients (w.r.t. scores and the optional weights),
so backward is a scale by the incoming gradient, with no second pass over the data. The returned
gradients are constants for autograd: the loss is differentiable once (no double backward). The
autograd kernel is registered in C++ for the Autograd key: a Python ``register_autograd`` costs
more than the kernel itself at training batch sizes."""

import torch

_OP = "torchauc::pairwise_auc_loss"


@torch.library.register_fake(_OP)
def _fake(scores, labels, pos_weights, neg_weights, surrogate, margin, reduction, compute_grad, scale=1.0):
    loss = scores.new_empty(())

    def grad_like(t):
        return t.new_empty(t.shape) if (compute_grad and t is not None) else scores.new_empty(0)

    return loss, grad_like(scores), grad_like(pos_weights), grad_like(neg_weights)
