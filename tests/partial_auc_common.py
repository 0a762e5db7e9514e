"""Data and gradient helpers shared by the partial AUC tests (test_partial_auc_*.py)."""

import torch


def batch(n, pos_frac=0.3, seed=0, ties=False, dtype=torch.float64, device="cpu", prob=True):
    g = torch.Generator().manual_seed(seed)
    s = torch.rand(n, generator=g, dtype=torch.float64) if prob else torch.randn(n, generator=g, dtype=torch.float64)
    if ties:
        s = torch.round(s * 4) / 4
    y = (torch.rand(n, generator=g) < pos_frac).long()
    y[0], y[-1] = 1, 0
    return s.to(dtype).to(device), y.to(device)


def value_and_grad(fn, s, *args, **kw):
    s = s.detach().clone().requires_grad_()
    v = fn(s, *args, **kw)
    (g,) = torch.autograd.grad(v, s, allow_unused=True)
    return v.detach(), (torch.zeros_like(s) if g is None else g)
