r"""LibAUC's optimizers: :class:`PESG` (AUC-M), :class:`PDSCA` (compositional AUC), :class:`SOAP`
(AP losses; LibAUC's SOPA/SOPAs/SOTAs share its update rule) and :class:`STACO` (SOAP's update
with LibAUC's STACO defaults).

All of them apply, per parameter, d = clamp(grad, +-clip_value) + epoch_decay (w - w_ref) +
weight_decay w, then an SGD-momentum or Adam step; ``update_regularizer(decay_factor)`` divides the
learning rate and moves w_ref to the mean of the iterates since the last call ("epoch decay");
``update_lr(decay_factor)`` divides the learning rate. PESG and PDSCA also train the loss's ``a``
and ``b`` and ascend its ``alpha`` in closed form: alpha <- clip(alpha + lr (2 (m + b - a) - 2 alpha),
0, 999), once per step in which ``alpha`` received a gradient.

Same arguments, defaults and trajectories as LibAUC 2.0.1 with ``semantics="libauc"``. Differences
by default (``semantics="fixed"``):

* w_ref starts at the initial weights w0 (LibAUC: N(0, 0.01^2) noise, pulling the first stage
  toward 0);
* PESG's SGD momentum is buf <- m buf + (1 - m) d (LibAUC: buf <- (1 - m) buf + m d, an EMA that
  keeps only 10% of the history at the default m = 0.9);
* PDSCA clears ``alpha.grad`` after each AUC step, so the next cross-entropy step is recognised as
  one (LibAUC tells the steps apart by ``alpha.grad is None``, which stays false after the first
  AUC step because ``zero_grad`` never clears ``alpha``);
* ``update_lr`` / ``update_regularizer`` divide the rate of every parameter group (LibAUC: the
  first); with ``epoch_decay=0`` ``update_regularizer`` only changes the rate (LibAUC raises);
* nothing is printed unless ``verbose=True`` (LibAUC's default ``verbose=True`` is kept as a
  keyword, but messages go to the ``torchauc`` logger instead of stdout).
"""

import logging
import math
from collections.abc import Callable
from typing import Any

import torch
from torch.optim import Optimizer
from torch.optim.optimizer import ParamsT

from .._core import options as O
from .._core import validate as V

_log = logging.getLogger("torchauc")


class _EpochDecayOptimizer(Optimizer):
    """Clipping, epoch decay (w_ref, iterate sums) and the SGD/Adam updates shared by the three."""

    def _init_common(self, params, defaults, semantics, verbose, extra=()):
        self.semantics: str = V.option(semantics, O.LIBAUC_SEMANTICS)
        self.verbose: bool = bool(verbose)
        params = list(params)
        if params and isinstance(params[0], dict):
            seen = {id(p) for g in params for p in g["params"]}
            extra = [p for p in extra if id(p) not in seen]
            if extra:
                params.append({"params": extra})
        else:
            seen = {id(p) for p in params}
            params = params + [p for p in extra if id(p) not in seen]
        super().__init__(params, defaults)
        self.T: int = 0  # iterates summed since the last update_regularizer
        self.steps: int = 0
        if defaults["epoch_decay"] > 0:
            for p in self._params():
                st = self.state[p]
                if self.semantics == "libauc":  # LibAUC draws one N(0, 0.01^2) tensor per parameter
                    st["model_ref"] = torch.empty(p.shape).normal_(mean=0, std=0.01).to(p.device)
                else:
                    st["model_ref"] = p.detach().clone()
                st["model_acc"] = torch.zeros_like(p, dtype=torch.float32)

    def _params(self):
        return [p for g in self.param_groups for p in g["params"]]

    @property
    def optim_step(self) -> int:
        return self.steps

    def _direction(self, p, group):
        d = torch.clamp(p.grad, -group["clip_value"], group["clip_value"])
        if group["epoch_decay"] > 0:
            d = d + group["epoch_decay"] * (p - self.state[p]["model_ref"])
        return d + group["weight_decay"] * p

    def _accumulate(self, p, group):
        if group["epoch_decay"] > 0:
            self.state[p]["model_acc"] += p

    def _adam(self, p, d, group):
        st = self.state[p]
        if "step" not in st:
            st["step"] = 0
            st["exp_avg"] = torch.zeros_like(p)
            st["exp_avg_sq"] = torch.zeros_like(p)
            if group["amsgrad"]:
                st["max_exp_avg_sq"] = torch.zeros_like(p)
        beta1, beta2 = group["betas"]
        st["step"] += 1
        bc1, bc2 = 1 - beta1 ** st["step"], 1 - beta2 ** st["step"]
        st["exp_avg"].mul_(beta1).add_(d, alpha=1 - beta1)
        st["exp_avg_sq"].mul_(beta2).addcmul_(d, d, value=1 - beta2)
        sq = st["exp_avg_sq"]
        if group["amsgrad"]:
            torch.max(st["max_exp_avg_sq"], sq, out=st["max_exp_avg_sq"])
            sq = st["max_exp_avg_sq"]
        denom = (sq.sqrt() / math.sqrt(bc2)).add_(group["eps"])
        p.addcdiv_(st["exp_avg"], denom, value=-group["lr"] / bc1)

    def _ascend_alpha(self, loss_fn, lr):
        alpha = getattr(loss_fn, "alpha", None)
        if alpha is None or alpha.grad is None:
            return False
        a, b, m = loss_fn.a, loss_fn.b, loss_fn.margin
        alpha.copy_(torch.clamp(alpha + lr * (2 * (m + b - a) - 2 * alpha), 0, 999))
        return True

    def _groups_to_decay(self):
        return self.param_groups[:1] if self.semantics == "libauc" else self.param_groups

    def update_lr(self, decay_factor: float | None = None) -> None:
        """Divides the learning rate by ``decay_factor``."""
        if decay_factor is not None:
            for g in self._groups_to_decay():
                g["lr"] = g["lr"] / decay_factor
            if self.verbose:
                _log.info("Reducing learning rate to %.5f @ T=%s", self.param_groups[0]["lr"], self.steps)

    def update_regularizer(self, decay_factor: float | None = None) -> None:
        """Divides the learning rate and resets the epoch-decay reference to the mean iterate."""
        self.update_lr(decay_factor)
        if self.T > 0:
            for p in self._params():
                st = self.state[p]
                if "model_ref" in st:
                    st["model_ref"] = (st["model_acc"] / self.T).to(p.dtype)
                    st["model_acc"].zero_()
        self.T = 0

    def state_dict(self) -> dict[str, Any]:
        sd = super().state_dict()
        sd["T"], sd["steps"] = self.T, self.steps
        return sd

    def load_state_dict(self, state_dict: dict[str, Any]) -> None:
        state_dict = dict(state_dict)
        self.T, self.steps = state_dict.pop("T", 0), state_dict.pop("steps", 0)
        super().load_state_dict(state_dict)

    def _finish(self):
        self.T += 1
        self.steps += 1


def _check(lr, weight_decay, epoch_decay, mode=None, betas=(0.9, 0.999), eps=1e-8):
    if not lr >= 0:
        raise ValueError(f"lr must be >= 0, got {lr}")
    if not weight_decay >= 0:
        raise ValueError(f"weight_decay must be >= 0, got {weight_decay}")
    if not epoch_decay >= 0:
        raise ValueError(f"epoch_decay must be >= 0, got {epoch_decay}")
    if mode is not None and mode not in ("sgd", "adam"):
        raise ValueError(f"mode must be 'sgd' or 'adam', got {mode!r}")
    if not (0 <= betas[0] < 1 and 0 <= betas[1] < 1):
        raise ValueError(f"betas must be in [0, 1), got {betas}")
    if not eps >= 0:
        raise ValueError(f"eps must be >= 0, got {eps}")


def _loss_vars(loss_fn, name):
    try:
        return [loss_fn.a, loss_fn.b]
    except AttributeError:
        raise TypeError(f"loss_fn must be an AUC-M loss with a, b, alpha and margin (for {name})") from None


class PESG(_EpochDecayOptimizer):
    r"""Proximal epoch stochastic gradient (LibAUC ``PESG``, Yuan et al., ICCV 2021) for
    :class:`AUCMLoss` / :class:`MultiLabelAUCMLoss`.

    ``PESG(params, loss_fn, lr=0.1, mode='sgd', clip_value=1.0, weight_decay=1e-5,
    epoch_decay=2e-3, momentum=0.9, betas=(0.9, 0.999), eps=1e-8, amsgrad=False, verbose=True,
    device=None, *, semantics='fixed')``; the loss's ``a`` and ``b`` are added to ``params``.
    """

    loss_fn: Callable[..., torch.Tensor]
    mode: str

    def __init__(
        self,
        params: ParamsT,
        loss_fn: Callable[..., torch.Tensor],
        lr: float = 0.1,
        mode: str = "sgd",
        clip_value: float = 1.0,
        weight_decay: float = 1e-5,
        epoch_decay: float = 2e-3,
        momentum: float = 0.9,
        betas: tuple[float, float] = (0.9, 0.999),
        eps: float = 1e-8,
        amsgrad: bool = False,
        verbose: bool = True,
        device: torch.device | str | None = None,
        *,
        semantics: str = "fixed",
        **kwargs: Any,
    ) -> None:
        mode = str(mode).lower()
        _check(lr, weight_decay, epoch_decay, mode, betas, eps)
        self.loss_fn, self.mode = loss_fn, mode
        defaults = dict(
            lr=lr,
            clip_value=clip_value,
            momentum=momentum,
            betas=betas,
            eps=eps,
            amsgrad=amsgrad,
            weight_decay=weight_decay,
            epoch_decay=epoch_decay,
        )
        self._init_common(params, defaults, semantics, verbose, _loss_vars(loss_fn, "PESG"))

    @torch.no_grad()
    def step(self, closure: Callable[[], Any] | None = None) -> Any:
        loss = None
        if closure is not None:
            with torch.enable_grad():
                loss = closure()
        ema = self.semantics == "libauc"
        for group in self.param_groups:
            mom = group["momentum"]
            for p in group["params"]:
                if p.grad is None:
                    continue
                d = self._direction(p, group)
                if self.mode == "adam":
                    self._adam(p, d, group)
                else:
                    if mom != 0:
                        st = self.state[p]
                        if "momentum_buffer" not in st:
                            st["momentum_buffer"] = d.clone()
                        elif ema:
                            st["momentum_buffer"].mul_(1 - mom).add_(d, alpha=mom)
                        else:
                            st["momentum_buffer"].mul_(mom).add_(d, alpha=1 - mom)
                        d = st["momentum_buffer"]
                    p.sub_(group["lr"] * d)
                self._accumulate(p, group)
        self._ascend_alpha(self.loss_fn, self.param_groups[-1]["lr"] if ema else self.param_groups[0]["lr"])
        self._finish()
        return loss


class PDSCA(_EpochDecayOptimizer):
    r"""Primal-dual stochastic compositional adaptive method (LibAUC ``PDSCA``, Yuan et al.,
    ICLR 2022) for :class:`CompositionalAUCLoss`.

    On a cross-entropy step (``alpha`` got no gradient): w <- w - lr0 d, then w <- buf with
    buf <- (1 - beta1) buf + beta1 w (as LibAUC). On an AUC step: buf <- (1 - beta2) buf + beta2 d,
    w <- w - lr buf, and the closed-form alpha ascent. ``PDSCA(params, loss_fn, lr=0.1, lr0=None
    (= lr), beta1=0.99, beta2=0.999, clip_value=1.0, weight_decay=1e-5, epoch_decay=2e-3,
    verbose=True, device='cuda', *, semantics='fixed')``.
    """

    def __init__(
        self,
        params: ParamsT,
        loss_fn: Callable[..., torch.Tensor],
        lr: float = 0.1,
        lr0: float | None = None,
        beta1: float = 0.99,
        beta2: float = 0.999,
        clip_value: float = 1.0,
        weight_decay: float = 1e-5,
        epoch_decay: float = 2e-3,
        verbose: bool = True,
        device: torch.device | str = "cuda",
        *,
        semantics: str = "fixed",
        **kwargs: Any,
    ) -> None:
        lr0 = lr if lr0 is None else lr0
        _check(lr, weight_decay, epoch_decay)
        _check(lr0, weight_decay, epoch_decay)
        self.loss_fn = loss_fn
        defaults = dict(
            lr=lr,
            lr0=lr0,
            clip_value=clip_value,
            weight_decay=weight_decay,
            epoch_decay=epoch_decay,
            beta1=beta1,
            beta2=beta2,
        )
        self._init_common(params, defaults, semantics, verbose, _loss_vars(loss_fn, "PDSCA"))

    @torch.no_grad()
    def step(self, closure: Callable[[], Any] | None = None) -> Any:
        loss = None
        if closure is not None:
            with torch.enable_grad():
                loss = closure()
        alpha = self.loss_fn.alpha
        auc_step = alpha.grad is not None
        for group in self.param_groups:
            for p in group["params"]:
                if p.grad is None:
                    continue
                d = self._direction(p, group)
                st = self.state[p]
                if not auc_step:
                    p.sub_(group["lr0"] * d)
                    if group["beta1"] != 0:
                        if "weight_buffer" not in st:
                            st["weight_buffer"] = p.clone()
                        else:
                            st["weight_buffer"].mul_(1 - group["beta1"]).add_(p, alpha=group["beta1"])
                        p.copy_(st["weight_buffer"])
                else:
                    if group["beta2"] != 0:
                        if "momentum_buffer" not in st:
                            st["momentum_buffer"] = d.clone()
                        else:
                            st["momentum_buffer"].mul_(1 - group["beta2"]).add_(d, alpha=group["beta2"])
                        d = st["momentum_buffer"]
                    p.sub_(group["lr"] * d)
                self._accumulate(p, group)
        libauc = self.semantics == "libauc"
        if self._ascend_alpha(self.loss_fn, self.param_groups[-1 if libauc else 0]["lr"]) and not libauc:
            alpha.grad = None
        self._finish()
        return loss

    def update_lr(self, decay_factor: float | None = None, decay_factor0: float | None = None) -> None:
        """Divides ``lr`` by ``decay_factor`` and ``lr0`` by ``decay_factor0``."""
        super().update_lr(decay_factor)
        if decay_factor0 is not None:
            for g in self._groups_to_decay():
                g["lr0"] = g["lr0"] / decay_factor0

    def update_regularizer(self, decay_factor: float | None = None, decay_factor0: float | None = None) -> None:
        self.update_lr(None, decay_factor0)
        super().update_regularizer(decay_factor)


class SOAP(_EpochDecayOptimizer):
    r"""LibAUC's ``SOAP`` (Qi et al., NeurIPS 2021) for :class:`APLoss`: Adam (default) or SGD with
    momentum/dampening/nesterov, after clipping and epoch decay. ``SOAP(params, lr=1e-3,
    mode='adam', clip_value=1.0, weight_decay=1e-5, epoch_decay=0, momentum=0.9, nesterov=False,
    dampening=0.1, betas=(0.9, 0.999), eps=1e-8, amsgrad=False, verbose=True, device=None, *,
    semantics='fixed')``.
    """

    def __init__(
        self,
        params: ParamsT,
        lr: float = 1e-3,
        mode: str = "adam",
        clip_value: float = 1.0,
        weight_decay: float = 1e-5,
        epoch_decay: float = 0,
        momentum: float = 0.9,
        nesterov: bool = False,
        dampening: float = 0.1,
        betas: tuple[float, float] = (0.9, 0.999),
        eps: float = 1e-8,
        amsgrad: bool = False,
        verbose: bool = True,
        device: torch.device | str | None = None,
        *,
        semantics: str = "fixed",
        **kwargs: Any,
    ) -> None:
        mode = str(mode).lower()
        _check(lr, weight_decay, epoch_decay, mode, betas, eps)
        if momentum < 0:
            raise ValueError(f"momentum must be >= 0, got {momentum}")
        if nesterov and (momentum <= 0 or dampening != 0):
            raise ValueError("nesterov momentum requires a momentum and zero dampening")
        self.mode: str = mode
        defaults = dict(
            lr=lr,
            weight_decay=weight_decay,
            epoch_decay=epoch_decay,
            momentum=momentum,
            dampening=dampening,
            nesterov=nesterov,
            betas=betas,
            eps=eps,
            amsgrad=amsgrad,
            clip_value=clip_value,
        )
        self._init_common(params, defaults, semantics, verbose)

    @torch.no_grad()
    def step(self, closure: Callable[[], Any] | None = None) -> Any:
        loss = None
        if closure is not None:
            with torch.enable_grad():
                loss = closure()
        for group in self.param_groups:
            mom = group["momentum"]
            for p in group["params"]:
                if p.grad is None:
                    continue
                d = self._direction(p, group)
                if self.mode == "adam":
                    self._adam(p, d, group)
                else:
                    if mom != 0:
                        st = self.state[p]
                        if "momentum_buffer" not in st:
                            st["momentum_buffer"] = d.clone()
                        else:
                            st["momentum_buffer"].mul_(mom).add_(d, alpha=1 - group["dampening"])
                        buf = st["momentum_buffer"]
                        d = d.add(buf, alpha=mom) if group["nesterov"] else buf
                    p.add_(d, alpha=-group["lr"])
                self._accumulate(p, group)
        self._finish()
        return loss


class STACO(SOAP):
    r"""LibAUC's ``STACO`` (Zhou et al., TMLR 2025; the optimizer paired with the two-way partial AUC
    losses): LibAUC 2.0.1's ``STACO.step`` is ``SOAP.step`` (Adam or SGD after clipping and epoch
    decay), with other defaults: ``STACO(params, mode='adam', lr=1e-3, clip_value=1.0,
    weight_decay=0, epoch_decay=0, betas=(0.9, 0.999), eps=1e-8, amsgrad=False, momentum=0.9,
    nesterov=False, dampening=0, verbose=False, device=None, *, semantics='fixed')``.
    """

    def __init__(
        self,
        params: ParamsT,
        mode: str = "adam",
        lr: float = 1e-3,
        clip_value: float = 1.0,
        weight_decay: float = 0,
        epoch_decay: float = 0,
        betas: tuple[float, float] = (0.9, 0.999),
        eps: float = 1e-8,
        amsgrad: bool = False,
        momentum: float = 0.9,
        nesterov: bool = False,
        dampening: float = 0,
        verbose: bool = False,
        device: torch.device | str | None = None,
        *,
        semantics: str = "fixed",
        **kwargs: Any,
    ) -> None:
        super().__init__(
            params,
            lr=lr,
            mode=mode,
            clip_value=clip_value,
            weight_decay=weight_decay,
            epoch_decay=epoch_decay,
            momentum=momentum,
            nesterov=nesterov,
            dampening=dampening,
            betas=betas,
            eps=eps,
            amsgrad=amsgrad,
            verbose=verbose,
            device=device,
            semantics=semantics,
        )


__all__ = ["PESG", "PDSCA", "SOAP", "STACO"]
