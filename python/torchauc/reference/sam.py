"""Re-implementations of the official SAM-family codes, per-parameter loops and clones as written
there: test oracles and benchmark baselines for torchauc.optim.sam (not imported by torchauc).

* :class:`DavdaSAM`: davda54/sam ``sam.py`` (the de-facto SAM interface).
* :class:`OfficialImbSAM` + :func:`imbsam_step`: cool-xuan/Imbalanced_SAM ``imbsam.py`` and the
  training step of its ``utils/trainval.py`` (first/second/third_step around 2 F and 3 B).
* :func:`ssesam_step`: Zemdalk/SSE-SAM's 4-pass schedule (F+B head at w, F+B head at w + e_h,
  F+B tail at w, F+B tail at w + e_t), the perturbations as in its ``ssesam.py``.
"""

from collections.abc import Callable
from typing import Any

import torch
from torch.optim.optimizer import ParamsT


class DavdaSAM(torch.optim.Optimizer):
    def __init__(
        self,
        params: ParamsT,
        base_optimizer: type[torch.optim.Optimizer],
        rho: float = 0.05,
        adaptive: bool = False,
        **kwargs: Any,
    ) -> None:
        assert rho >= 0.0, f"Invalid rho, should be non-negative: {rho}"
        defaults = dict(rho=rho, adaptive=adaptive, **kwargs)
        super().__init__(params, defaults)
        self.base_optimizer = base_optimizer(self.param_groups, **kwargs)
        self.param_groups = self.base_optimizer.param_groups
        self.defaults.update(self.base_optimizer.defaults)

    @torch.no_grad()
    def first_step(self, zero_grad: bool = False) -> None:
        grad_norm = self._grad_norm()
        for group in self.param_groups:
            scale = group["rho"] / (grad_norm + 1e-12)
            for p in group["params"]:
                if p.grad is None:
                    continue
                self.state[p]["old_p"] = p.data.clone()
                e_w = (torch.pow(p, 2) if group["adaptive"] else 1.0) * p.grad * scale.to(p)
                p.add_(e_w)
        if zero_grad:
            self.zero_grad()

    @torch.no_grad()
    def second_step(self, zero_grad: bool = False) -> None:
        for group in self.param_groups:
            for p in group["params"]:
                if p.grad is None:
                    continue
                p.data = self.state[p]["old_p"]
        self.base_optimizer.step()
        if zero_grad:
            self.zero_grad()

    @torch.no_grad()
    def step(self, closure: Callable[[], Any] | None = None):
        assert closure is not None, "Sharpness Aware Minimization requires closure, but it was not provided"
        closure = torch.enable_grad()(closure)
        self.first_step(zero_grad=True)
        closure()
        self.second_step()

    def _grad_norm(self):
        shared_device = self.param_groups[0]["params"][0].device
        norm = torch.norm(
            torch.stack(
                [
                    ((torch.abs(p) if group["adaptive"] else 1.0) * p.grad).norm(p=2).to(shared_device)
                    for group in self.param_groups
                    for p in group["params"]
                    if p.grad is not None
                ]
            ),
            p=2,
        )
        return norm


class OfficialImbSAM:
    """ImbSAM's optimizer wrapper: saves the head gradient, perturbs along the tail gradient, and on
    the third step restores (p - e), adds the head gradient back and steps the base optimizer."""

    def __init__(self, optimizer, model, rho: float = 0.05) -> None:
        self.optimizer, self.model, self.rho = optimizer, model, rho
        self.state = {}

    @torch.no_grad()
    def first_step(self) -> None:
        for p in self.model.parameters():
            if p.grad is None:
                continue
            self.state.setdefault(p, {})["grad_normal"] = p.grad.clone()
        self.optimizer.zero_grad()

    @torch.no_grad()
    def second_step(self, rho: float | None = None) -> None:
        rho = self.rho if rho is None else rho
        grads = [torch.norm(p.grad, p=2) for p in self.model.parameters() if p.grad is not None]
        grad_norm = torch.norm(torch.stack(grads), p=2) + 1.0e-16
        for p in self.model.parameters():
            if p.grad is None:
                continue
            eps = p.grad.clone()
            eps.mul_(rho / grad_norm)
            self.state.setdefault(p, {})["eps"] = eps
            p.add_(eps)
        self.optimizer.zero_grad()

    @torch.no_grad()
    def third_step(self, step: bool = True) -> None:
        for p in self.model.parameters():
            if p.grad is None:
                continue
            p.sub_(self.state[p]["eps"])
            if step and "grad_normal" in self.state[p]:
                p.grad.add_(self.state[p]["grad_normal"])
        if step:
            self.optimizer.step()
            self.optimizer.zero_grad()


def imbsam_step(model, opt, x: torch.Tensor, y: torch.Tensor, head_tail) -> None:
    """One ImbSAM training step as in trainval.py; head_tail(logits, y) -> (head_loss, tail_loss)."""
    head, tail = head_tail(model(x), y)
    head.backward(retain_graph=True)
    opt.first_step()
    tail.backward()
    opt.second_step()
    _, tail = head_tail(model(x), y)
    tail.backward()
    opt.third_step()


def ssesam_step(model, opt, x: torch.Tensor, y: torch.Tensor, head_tail, rho_head, rho_tail) -> None:
    """One SSE-SAM step with the official 4-pass schedule (opt: an OfficialImbSAM wrapper for its
    per-parameter perturbation code); rho_head = 0 after the stage switch (the passes still run)."""
    head, _ = head_tail(model(x), y)
    head.backward()
    opt.second_step(rho_head)  # w + e_h
    head, _ = head_tail(model(x), y)
    head.backward()
    opt.third_step(step=False)  # back to w, keeps the sharp head gradient in p.grad
    opt.first_step()  # saves it, zeroes
    _, tail = head_tail(model(x), y)
    tail.backward()
    opt.second_step(rho_tail)  # w + e_t
    _, tail = head_tail(model(x), y)
    tail.backward()
    opt.third_step()  # back to w, tail's sharp gradient + head's, base step
