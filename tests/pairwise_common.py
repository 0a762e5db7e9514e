"""Shared by the pairwise test files: one forward+backward of the public loss."""

import torch

from torchauc import functional as F


def run(s, y, surrogate="square", a=None, b=None, margin=1.0, reduction="mean") -> list[torch.Tensor]:
    """[loss, d/d scores] (+ [d/d pos_weights, d/d neg_weights] when both weights are given), each
    input a fresh leaf."""
    x = s.detach().clone().requires_grad_()
    wa = a.detach().clone().requires_grad_() if a is not None else None
    wb = b.detach().clone().requires_grad_() if b is not None else None
    loss = F.pairwise_auc_loss(x, y, surrogate=surrogate, margin=margin, pos_weights=wa, neg_weights=wb,
                               reduction=reduction)  # fmt: skip
    loss.backward()
    return [loss.detach(), x.grad] + ([wa.grad, wb.grad] if wa is not None and wb is not None else [])
