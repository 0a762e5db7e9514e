"""Pure-PyTorch references of the AdAUC family (float64): the loss as XCurve's AdvAUROCLoss writes it
(indicator means), the square pairwise AUC it is the saddle form of (a pair matrix, small n only),
and the plain PGD loop the fused attack must equal step for step."""

import math
from collections.abc import Callable

import torch


def adauc_loss(
    scores: torch.Tensor,
    labels: torch.Tensor,
    a,
    b,
    alpha,
    imratio: float | None = None,
    margin: float = 1.0,
    form: str = "canonical",
) -> torch.Tensor:
    s = scores.reshape(-1).double()
    y = labels.reshape(-1).double()
    a, b, alpha = (torch.as_tensor(t).double().reshape(()) for t in (a, b, alpha))
    p = y.mean() if imratio is None else torch.tensor(float(imratio), dtype=torch.float64)
    c = p * (1 - p) if form == "canonical" else p
    pos, neg = (y == 1).double(), (y == 0).double()
    return (
        (1 - p) * torch.mean((s - a) ** 2 * pos)
        + p * torch.mean((s - b) ** 2 * neg)
        + 2 * (margin + alpha) * torch.mean(p * s * neg - (1 - p) * s * pos)
        - c * alpha**2
    )


def pair_square_mean(scores: torch.Tensor, labels: torch.Tensor, margin: float = 1.0):
    """mean over (positive, negative) pairs of (margin - s_pos + s_neg)^2, by the pair matrix."""
    s, y = scores.reshape(-1).double(), labels.reshape(-1)
    d = margin - s[y == 1][:, None] + s[y == 0][None, :]
    return (d**2).mean()


def _output(model, x, y, target):
    out = model(x)
    out = out.reshape(y.shape) if out.numel() == y.numel() else out
    return torch.sigmoid(out) if target == "probability" else out


def pgd(
    model,
    x: torch.Tensor,
    y: torch.Tensor,
    loss_fn: Callable[..., torch.Tensor],
    eps: float,
    step: float,
    steps: int,
    restarts: int = 1,
    norm: str = "linf",
    clamp=(0.0, 1.0),
    generator: torch.Generator | None = None,
    target: str = "probability",
) -> torch.Tensor:
    """The plain loop (XCurve's PGDAdversary with the best loss starting at -inf, per-sample restarts
    when loss_fn returns per-sample losses, and the model in eval mode during the attack)."""
    lo, hi = (-math.inf, math.inf) if clamp is None else clamp
    was_training = model.training
    model.eval()
    max_loss = torch.full((x.shape[0],), -math.inf, dtype=x.dtype)
    max_delta = torch.zeros_like(x)
    for _ in range(restarts):
        delta = torch.zeros_like(x).uniform_(-eps, eps, generator=generator)
        delta = torch.clamp(delta, lo - x, hi - x)
        delta.requires_grad = True
        for _ in range(steps):
            loss = loss_fn(_output(model, x + delta, y, target), y)
            loss.sum().backward()
            g = delta.grad.detach()
            d = delta.detach()
            if norm == "linf":
                d = torch.clamp(d + step * torch.sign(g), min=-eps, max=eps)
            else:
                g_norm = torch.norm(g.view(g.shape[0], -1), dim=1).view(-1, *([1] * (x.dim() - 1)))
                d = (d + g / (g_norm + 1e-10) * step).view(d.size(0), -1).renorm(p=2, dim=0, maxnorm=eps).view_as(d)
            d = torch.clamp(d, lo - x, hi - x)
            delta.data = d
            delta.grad.zero_()
        with torch.no_grad():
            all_loss = loss_fn(_output(model, x + delta, y, target), y).reshape(-1).expand(x.shape[0])
        better = all_loss >= max_loss
        max_delta[better] = delta.detach()[better]
        max_loss = torch.max(max_loss, all_loss)
    model.train(was_training)
    return max_delta
