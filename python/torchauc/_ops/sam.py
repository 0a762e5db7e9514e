"""SAM family ops (sam_*): fake impls only. They write optimizer buffers in place under
torch.no_grad() (torchauc.optim.sam) and have no autograd formula."""

import torch


@torch.library.register_fake("torchauc::sam_perturb")
def _perturb_fake(params, directions, out, rho, eps, norm):
    return None


@torch.library.register_fake("torchauc::sam_sgd_step")
def _sgd_step_fake(params, grads, momentum_buffers, fresh, lr, momentum, dampening, weight_decay, nesterov, maximize):
    return None
