r"""Adversarial examples for AUC training: :func:`pgd`, the PGD attack of AdAUC (XCurve's
``PGDAdversary``) with a fused step.

Each attack step is one ``torchauc.adauc_pgd_step`` call over the whole batch (sign or normalised
gradient step, projection onto the eps-ball, clamp to the input range), CPU or CUDA; the best
perturbation across restarts is kept per sample on the device (no host sync).
"""

import math
from collections.abc import Callable

import torch

from ._core import options as O
from ._core import validate as V


def _attack_output(model, x, y, target):
    out = model(x)
    if out.numel() == y.numel():
        out = out.reshape(y.shape)
    return torch.sigmoid(out) if target == "probability" else out


def _random_start(x, eps, generator, lower, upper):
    """uniform(-eps, eps) per element from ``generator``, then clamped to the input range (as XCurve,
    for both norms; the first l2 step projects it onto the ball)."""
    delta = torch.empty_like(x).uniform_(-eps, eps, generator=generator)
    return torch.clamp(delta, lower - x, upper - x)


def pgd(
    model: torch.nn.Module,
    x: torch.Tensor,
    y: torch.Tensor,
    loss_fn: Callable[..., torch.Tensor],
    *,
    eps: float = 8 / 255,
    step: float = 2 / 255,
    steps: int = 10,
    restarts: int = 1,
    norm: str = "linf",
    clamp: tuple[float, float] | None = (0.0, 1.0),
    random_start: bool = True,
    target: str = "probability",
    generator: torch.Generator | None = None,
    eval_mode: bool = True,
) -> torch.Tensor:
    r"""Projected gradient ascent on ``loss_fn(f(x + delta), y)``; returns delta (detached, x's shape).

    Per step: ``delta <- Proj(delta + step * sign(g))`` (``norm="linf"``) or
    ``Proj(delta + step * g / ||g||_2)`` per sample (``"l2"``), Proj = onto the eps-ball, then delta is
    clamped so that x + delta stays in ``clamp`` — one fused op over the batch.

    Args:
        model: maps x to outputs; run in eval mode during the attack when ``eval_mode`` (batch-norm
            statistics untouched) and put back to its previous mode after, even on error. Parameter
            gradients are not touched (the attack differentiates w.r.t. delta only).
        x: (n, ...) inputs; y: labels handed to ``loss_fn``.
        loss_fn: ``loss_fn(output, y)`` -> a scalar or per-sample losses (n,) (e.g.
            :meth:`torchauc.losses.AdAUCLoss.per_sample`); the attack ascends their sum. With
            per-sample losses the best restart is chosen per sample, else per batch.
        eps, step, steps, restarts: ball radius, step size, steps per restart, restarts.
        clamp: (lower, upper) input range, or None for no range.
        random_start: start each restart at a uniform point of the eps-box (drawn from ``generator``).
        target: ``"probability"`` attacks the loss of ``sigmoid(output)``, the scores the AdAUC loss is
            trained on; ``"logit"`` attacks the raw output as XCurve does.

    Differences from XCurve's ``PGDAdversary``: the best loss starts at -inf (XCurve's 0 returns
    delta = 0 whenever the loss is negative, which the AdAUC loss often is); per-sample restarts need
    per-sample losses; the final evaluation forward runs only when restarts > 1.
    """
    V.tensor(x, "x")
    V.option(norm, O.ATTACK_NORM)
    V.option(target, O.ATTACK_TARGET)
    eps, step = V.finite_float(eps, "eps"), V.finite_float(step, "step")
    if eps < 0 or step < 0:
        raise ValueError(f"eps and step must be >= 0, got eps={eps}, step={step}")
    if isinstance(steps, bool) or not isinstance(steps, int) or steps < 0:
        raise ValueError(f"steps must be an int >= 0, got {steps!r}")
    if isinstance(restarts, bool) or not isinstance(restarts, int) or restarts < 1:
        raise ValueError(f"restarts must be an int >= 1, got {restarts!r}")
    lower, upper = (-math.inf, math.inf) if clamp is None else (float(clamp[0]), float(clamp[1]))
    if not lower <= upper:
        raise ValueError(f"clamp must be (lower, upper) with lower <= upper, got {clamp}")
    x = x.detach()
    was_training = model.training
    if eval_mode:
        model.eval()
    try:
        best_delta = best_loss = None
        for _ in range(restarts):
            delta = _random_start(x, eps, generator, lower, upper) if random_start else torch.zeros_like(x)
            for _ in range(steps):
                with torch.enable_grad():
                    delta.requires_grad_(True)
                    loss = loss_fn(_attack_output(model, x + delta, y, target), y)
                    (g,) = torch.autograd.grad(loss.sum(), delta)
                delta = torch.ops.torchauc.adauc_pgd_step(x, delta.detach(), g, eps, step, norm, lower, upper)
            if restarts == 1:
                return delta.detach()
            with torch.no_grad():
                loss = loss_fn(_attack_output(model, x + delta, y, target), y).reshape(-1)
            loss = loss.expand(x.shape[0]) if loss.numel() == 1 else loss
            if best_delta is None:
                best_delta, best_loss = delta, loss
                continue
            better = loss >= best_loss  # ties go to the later restart, as XCurve
            best_delta = torch.where(better.view(-1, *([1] * (x.dim() - 1))), delta, best_delta)
            best_loss = torch.maximum(best_loss, loss)
        return best_delta.detach()
    finally:
        model.train(was_training)


__all__ = ["pgd"]
