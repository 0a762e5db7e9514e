r"""Optimizer of the AdAUC min-max objective (XCurve ``AdvAUCOptimizer``)."""

from collections.abc import Callable
from typing import Any

import torch
from torch.optim import Optimizer
from torch.optim.optimizer import ParamsT


class AdAUCOptimizer(Optimizer):
    r"""Momentum SGD with XCurve's gradient clipping, descent-ascent per param group.

    Per group, with d = clamp(grad, -clip_value, clip_value) + weight_decay * p (clip first, as
    XCurve), buf = d on the first step, then buf <- momentum buf + (1 - dampening) d, and
    d <- d + momentum buf (nesterov) or buf:

    * p <- p - lr d (descent: the model, a, b),
    * p <- p + lr d for groups with ``maximize=True`` (ascent: alpha),
    * groups with ``clamp=(lo, hi)`` are projected after the step (RegAdAUC's multipliers).

    Usage: ``AdAUCOptimizer(list(model.parameters()) and loss.param_groups(), lr=0.1)``, i.e.
    ``AdAUCOptimizer([{"params": model.parameters()}, *loss.param_groups()], lr=0.1)``. Every group is
    updated with multi-tensor (``torch._foreach_*``) ops, no per-parameter Python loop.

    Differences from XCurve: any param groups (XCurve hard-wires a, b, alpha); weight decay on b is
    b's (XCurve adds ``b`` into a's gradient).
    """

    def __init__(
        self,
        params: ParamsT,
        lr: float,
        momentum: float = 0.9,
        dampening: float = 0.0,
        weight_decay: float = 0.0,
        nesterov: bool = False,
        clip_value: float = 1.0,
    ) -> None:
        if lr < 0:
            raise ValueError(f"lr must be >= 0, got {lr}")
        if momentum < 0:
            raise ValueError(f"momentum must be >= 0, got {momentum}")
        if weight_decay < 0:
            raise ValueError(f"weight_decay must be >= 0, got {weight_decay}")
        if not clip_value > 0:
            raise ValueError(f"clip_value must be > 0, got {clip_value}")
        if nesterov and (momentum <= 0 or dampening != 0):
            raise ValueError("nesterov needs momentum > 0 and dampening 0")
        defaults = dict(lr=lr, momentum=momentum, dampening=dampening, weight_decay=weight_decay, nesterov=nesterov,
                        clip_value=clip_value, maximize=False, clamp=None)  # fmt: skip
        super().__init__(params, defaults)

    @torch.no_grad()
    def step(self, closure: Callable[[], Any] | None = None) -> Any:
        loss = None
        if closure is not None:
            with torch.enable_grad():
                loss = closure()
        for group in self.param_groups:
            params = [p for p in group["params"] if p.grad is not None]
            if not params:
                continue
            clip = group["clip_value"]
            d = torch._foreach_clamp_max(torch._foreach_clamp_min([p.grad for p in params], -clip), clip)
            if group["weight_decay"] != 0:
                torch._foreach_add_(d, params, alpha=group["weight_decay"])
            momentum = group["momentum"]
            if momentum != 0:
                fresh = [i for i, p in enumerate(params) if "momentum_buffer" not in self.state[p]]
                for i in fresh:  # first step only: the buffer starts as a copy of d
                    self.state[params[i]]["momentum_buffer"] = d[i].clone()
                old = [i for i in range(len(params)) if i not in set(fresh)]
                if old:
                    bufs = [self.state[params[i]]["momentum_buffer"] for i in old]
                    torch._foreach_mul_(bufs, momentum)
                    torch._foreach_add_(bufs, [d[i] for i in old], alpha=1 - group["dampening"])
                bufs = [self.state[p]["momentum_buffer"] for p in params]
                if group["nesterov"]:
                    torch._foreach_add_(d, bufs, alpha=momentum)
                else:
                    d = bufs
            torch._foreach_add_(params, d, alpha=group["lr"] if group["maximize"] else -group["lr"])
            if group["clamp"] is not None:
                lo, hi = group["clamp"]
                torch._foreach_clamp_min_(params, lo)
                torch._foreach_clamp_max_(params, hi)
        return loss


__all__ = ["AdAUCOptimizer"]
