"""multiclass_auc_loss: fake impl (its autograd is C++: csrc/multiclass/autograd.cpp).

The op is fused: one call returns the loss and d loss / d scores (computed from O(C) column stats in
the same call), so backward only scales the saved gradient by the incoming one. Differentiable once.
The autograd kernel is registered in C++ for the Autograd key: a Python ``register_autograd`` cost
about as much as the op itself at XCurve's batch sizes."""

import torch

_OP = "torchauc::multiclass_auc_loss"


@torch.library.register_fake(_OP)
def _fake(scores, labels, ignore_index, activation, surrogate, mode, margin, normalization, compute_grad):
    grad = scores.new_empty(scores.shape) if compute_grad else scores.new_empty(0)
    return scores.new_empty(()), grad
