r"""Optimizers for the partial-AUC minimax losses.

* :class:`ASGDA`: the STORM-style variance-reduced stochastic gradient descent-ascent of PAUCI
  (Shao et al., NeurIPS 2022; XCurve ``ASGDA``), for :class:`torchauc.losses.PAUCILoss`, and of
  UPAUCI (Algorithm 1 of the TPAMI 2026 paper) for :class:`torchauc.losses.UPAUCILoss`.
* :class:`SGD4MinMaxPAUC`: SGD with descent on ``a`` and ascent on ``b`` for
  :class:`torchauc.losses.InsRelaxedPAUCLoss` (XCurve ``SGD4MinMaxPAUC``).
"""

from collections.abc import Callable
from typing import Any

import torch
from torch.optim import Optimizer
from torch.optim.optimizer import ParamsT

from .._core import devices
from .._core import validate as V


class ASGDA(Optimizer):
    r"""Accelerated stochastic gradient descent-ascent (STORM estimator), two calls per iteration::

        loss_fn(model(x), y).backward(); opt.step(pre=True); opt.zero_grad()
        loss_fn(model(x), y).backward(); opt.step(pre=False); opt.zero_grad()

    With eta_t = k / (m + t)^(1/3) and the estimator v (zeros at start):

    * ``step(pre=True)``: records the gradient g_old, then p <- (1 - eta) p + eta clip(p -+ nu (v + wd p))
      (``-`` descent; ``+`` with ``maximize=True`` groups, where weight decay pulls toward 0 as well);
    * ``step(pre=False)`` (after a new backward on the same batch at the new point):
      v <- g + (1 - c eta^2)(v - g_old), c = ``c1`` (``c2`` for the group named ``'g'``, as in XCurve),
      then t <- t + 1.

    Param-group keys: ``name``, ``clip`` (lo, hi), ``maximize`` (ascent), ``weight_decay``;
    :meth:`torchauc.losses.PAUCILoss.asgda_groups` builds the groups of the loss variables.

    Differences from XCurve's ``ASGDA``: ``weight_decay`` is honoured (XCurve passes it positionally
    into ``SGD`` where it lands in ``dampening`` and is ignored); the variables the paper maximises
    (``maximize=True``, PAUCI's ``g``) ascend. ``all_descent=True`` reproduces the official code,
    which descends on every group. ``t`` is counted internally (pass ``t=`` to override). The
    official code uses the exponent 0.333 in eta_t (``eta_power=0.333`` reproduces it; default 1/3
    as in the paper).

    UPAUCI (Algorithm 1 of "Closing the Approximation Gap", TPAMI 2026): pass
    ``instance_weights=loss`` (a :class:`torchauc.losses.UPAUCILoss`) and the scalar groups of
    ``loss.asgda_groups()``. The max block {γ, c} then ascends with step ``lam`` (default: ``nu``) and
    its own STORM estimator w (constant ``c2``, the paper's iota_2); c is projected onto [0, 1] and
    updated sparsely: only the ids of the current batch (``loss.batch_ids``; a repeated id gets the
    sum of its gradients) change, in c and in w. (Dense Algorithm 1 would also decay w and move c
    at the ids outside the batch, where the gradient is 0.) ``lam`` also sets the step of every other
    ``maximize=True`` group when given; ``lam=None`` and no ``instance_weights`` is the PAUCI path.
    """

    k: float
    m: float
    c1: float
    c2: float

    def __init__(
        self,
        params: ParamsT,
        nu: float = 0.02,
        k: float = 1.0,
        m: float = 500.0,
        c1: float = 3.0,
        c2: float = 3.0,
        weight_decay: float = 0.0,
        all_descent: bool = False,
        eta_power: float = 1.0 / 3.0,
        lam: float | None = None,
        instance_weights: "torch.nn.Module | None" = None,
    ) -> None:
        for name, v in (("nu", nu), ("k", k), ("m", m), ("c1", c1), ("c2", c2)):
            if not (v == v and v >= 0):
                raise ValueError(f"{name} must be >= 0, got {v}")
        if weight_decay < 0:
            raise ValueError(f"weight_decay must be >= 0, got {weight_decay}")
        defaults = dict(nu=nu, weight_decay=weight_decay, maximize=False, clip=None, name=None)
        super().__init__(params, defaults)
        self.k, self.m, self.c1, self.c2 = float(k), float(m), float(c1), float(c2)
        self.all_descent: bool = bool(all_descent)
        self.eta_power: float = float(eta_power)
        if lam is not None and not (lam == lam and lam >= 0):
            raise ValueError(f"lam must be >= 0, got {lam}")
        self.lam: float | None = None if lam is None else float(lam)
        if instance_weights is not None and not (
            isinstance(getattr(instance_weights, "c", None), torch.Tensor) and hasattr(instance_weights, "batch_ids")
        ):
            raise TypeError("instance_weights must be a UPAUCILoss (a module with a 'c' buffer and 'batch_ids')")
        self.instance_weights: Any = instance_weights
        self._c_w = None  # STORM estimator of c (same shape), created at the first step
        self._c_g_old = None  # (ids, gradient) of the pre step
        self.t: int = 0

    def eta(self, t: int | None = None) -> float:
        return self.k / (self.m + (self.t if t is None else t)) ** self.eta_power

    @torch.no_grad()
    def step(self, closure: Callable[[], Any] | None = None, pre: bool = False, t: int | None = None) -> Any:
        loss = None
        if closure is not None:
            with torch.enable_grad():
                loss = closure()
        eta = self.eta(t)
        for group in self.param_groups:
            ascend = group["maximize"] and not self.all_descent
            rho = (self.c2 if group["name"] == "g" else self.c1) * eta * eta
            for p in group["params"]:
                if p.grad is None:
                    continue
                state = self.state[p]
                if "v" not in state:
                    state["v"] = torch.zeros_like(p)
                    state["g_old"] = torch.zeros_like(p)
                if pre:
                    state["g_old"].copy_(p.grad)
                    d = state["v"]
                    if group["weight_decay"] != 0:
                        d = d + group["weight_decay"] * (-p if ascend else p)
                    step = group["nu"] if self.lam is None or not ascend else self.lam
                    target = p + step * d if ascend else p - step * d
                    if group["clip"] is not None:
                        target = target.clamp(group["clip"][0], group["clip"][1])
                    p.mul_(1 - eta).add_(target, alpha=eta)
                else:
                    state["v"].copy_(p.grad + (1 - rho) * (state["v"] - state["g_old"]))
        if self.instance_weights is not None:
            self._step_instance_weights(pre, eta)
        if not pre and t is None:
            self.t += 1
        return loss

    def _step_instance_weights(self, pre, eta):
        mod = self.instance_weights
        ids, cb = mod.batch_ids, mod.batch_c
        if ids is None or cb is None or cb.grad is None:
            return
        c = mod.c
        if devices.host_reads_free(ids):  # the batch's distinct ids (a host-sized unique: free on the CPU)
            uids, inv = torch.unique(ids, return_inverse=True)
            g = torch.zeros(uids.numel(), dtype=c.dtype, device=c.device).index_add_(0, inv, cb.grad.to(c.dtype))
        else:
            # CUDA: no host size (unique would wait for the GPU). Every entry keeps its id, the gradient
            # summed over repeats in a dataset-sized buffer; a repeated id writes the same value each time
            uids = ids
            g = torch.zeros_like(c).index_add_(0, ids, cb.grad.to(c.dtype)).index_select(0, ids)
        if self._c_w is None:
            self._c_w = torch.zeros_like(c)
        w = self._c_w
        if pre:
            self._c_g_old = (uids, g)
            step = self.defaults["nu"] if self.lam is None else self.lam
            cu = c.index_select(0, uids)
            target = (cu + step * w.index_select(0, uids)).clamp_(0.0, 1.0)
            c.index_copy_(0, uids, cu.mul_(1 - eta).add_(target, alpha=eta))
        else:
            msg = "step(pre=False) must follow step(pre=True) on the same batch of ids"
            if self._c_g_old is None or self._c_g_old[0].shape != uids.shape:
                raise ValueError(msg)
            V.data_check((self._c_g_old[0] == uids).all(), msg)
            xi = self.c2 * eta * eta
            wu = w.index_select(0, uids)
            w.index_copy_(0, uids, g + (1 - xi) * (wu - self._c_g_old[1]))
            self._c_g_old = None

    def state_dict(self) -> dict[str, Any]:
        """The optimizer's state, plus the step counter and the instance weights' STORM estimator."""
        sd = super().state_dict()
        if self.instance_weights is not None:
            sd["t"], sd["c_w"] = self.t, self._c_w
        return sd

    def load_state_dict(self, state_dict: dict[str, Any]) -> None:
        """Restore :meth:`state_dict` (the step counter and the instance-weight estimator included)."""
        sd = dict(state_dict)
        t, c_w = sd.pop("t", None), sd.pop("c_w", None)
        super().load_state_dict(sd)
        if t is not None:
            self.t = int(t)
        if c_w is not None:
            self._c_w = c_w.clone()


class SGD4MinMaxPAUC(Optimizer):
    r"""SGD for :class:`torchauc.losses.InsRelaxedPAUCLoss` (XCurve ``SGD4MinMaxPAUC``).

    Model parameters: SGD with momentum/dampening/nesterov/weight decay; once
    ``epoch >= epoch_to_opt``: a <- a - lr clip(g_a), b <- b + lr clip(g_b) (ascent), with the
    gradients clamped to +-``clip_value``. ``step(epoch=0)``; a missing gradient of a or b is skipped
    (XCurve raises).
    """

    a: torch.Tensor
    b: torch.Tensor
    lr: float
    clip_value: float
    epoch_to_opt: int

    def __init__(
        self,
        params: ParamsT,
        a: torch.Tensor,
        b: torch.Tensor,
        lr: float = 1e-2,
        momentum: float = 0.0,
        dampening: float = 0.0,
        nesterov: bool = False,
        weight_decay: float = 0.0,
        clip_value: float = 5.0,
        epoch_to_opt: int = 10,
    ) -> None:
        if lr < 0:
            raise ValueError(f"lr must be >= 0, got {lr}")
        super().__init__(
            params, dict(lr=lr, momentum=momentum, dampening=dampening, nesterov=nesterov, weight_decay=weight_decay)
        )
        self.a, self.b = a, b
        self.lr, self.clip_value, self.epoch_to_opt = lr, float(clip_value), int(epoch_to_opt)

    @torch.no_grad()
    def step(self, closure: Callable[[], Any] | None = None, epoch: int = 0) -> Any:
        loss = None
        if closure is not None:
            with torch.enable_grad():
                loss = closure()
        for group in self.param_groups:
            for p in group["params"]:
                if p.grad is None:
                    continue
                d = p.grad
                if group["weight_decay"] != 0:
                    d = d.add(p, alpha=group["weight_decay"])
                if group["momentum"] != 0:
                    st = self.state[p]
                    if "buf" not in st:
                        st["buf"] = d.clone()
                    else:
                        st["buf"].mul_(group["momentum"]).add_(d, alpha=1 - group["dampening"])
                    d = d.add(st["buf"], alpha=group["momentum"]) if group["nesterov"] else st["buf"]
                p.add_(d, alpha=-group["lr"])
        if epoch >= self.epoch_to_opt:
            c = self.clip_value
            if self.a.grad is not None:
                self.a.sub_(self.lr * self.a.grad.clamp(-c, c))
            if self.b.grad is not None:
                self.b.add_(self.lr * self.b.grad.clamp(-c, c))
        return loss
