"""adauc_loss and adauc_pgd_step: fake impls (the autograd of adauc_loss is C++: csrc/adauc/autograd.cpp).

adauc_loss is fused: one call returns the loss and its gradients (scores, a, b, alpha), so backward is
a scale by the incoming gradient. adauc_pgd_step is an attack step: no autograd (its output is a new
perturbation, never differentiated)."""

import torch

_LOSS = "torchauc::adauc_loss"


@torch.library.register_fake(_LOSS)
def _fake_loss(scores, labels, a, b, alpha, imratio, margin, form, compute_grad):
    grad_s = scores.new_empty(scores.shape) if compute_grad else scores.new_empty(0)
    return scores.new_empty(()), grad_s, a.new_empty(a.shape), b.new_empty(b.shape), alpha.new_empty(alpha.shape)


@torch.library.register_fake("torchauc::adauc_pgd_step")
def _fake_pgd_step(inputs, delta, grad, eps, step, norm, lower, upper):
    return torch.empty_like(inputs, memory_format=torch.contiguous_format)
