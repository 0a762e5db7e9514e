r"""Sharpness-aware minimisation for long-tailed training: :class:`SAM`, :class:`ImbSAM`,
:class:`SSESAM`, and :func:`split_head_tail`.

All perturbation math is multi-tensor (``torch._foreach_*``): one global gradient norm
(``torch._foreach_norm`` then one norm of the norms), perturb and restore in place through a
preallocated copy of the weights (restore is an exact copy, never ``p - e``), gradients saved into
preallocated buffers. The buffers live in ``self.state`` (so in ``state_dict``) and are allocated once.

Pass schedules (forward passes F, backward passes B per ``step``):

* :class:`SAM`: the caller's F+B at w, then F+B at w + e (``step(closure)`` or first/second_step).
* :class:`ImbSAM`: F at w, B of the head loss and B of the tail loss on that one graph, then F+B of
  the tail loss at w + e_tail: 2 F, 3 B (the official code: the same).
* :class:`SSESAM`: before the switch, F at w with B head and B tail on that graph, F+B head at
  w + e_head, F+B tail at w + e_tail: 3 F, 4 B (the official code: 4 F, 4 B); after the switch
  (rho_head = 0) the head pass at w + 0 is the pass at w already done: 2 F, 3 B (official: 4 F, 4 B).

Distributed: with ``model=`` a ``DistributedDataParallel`` module, the closure's forward passes run
under ``model.no_sync()`` (several backward passes per forward are not something DDP's reducer
allows) and the optimizer averages each gradient it needs over the process group with one
bucketed (flattened) all-reduce. Without DDP, pass ``process_group`` (or leave the default group
when torch.distributed is initialised) for the same averaging. Equal to single-process training
on the concatenated batch when every rank has the same batch size and the losses are normalised
by the batch size (``split_head_tail(normalization="batch" | "imbsam")``).
"""

import contextlib
from collections.abc import Callable
from typing import Any

import torch
import torch.distributed as dist
from torch.optim.optimizer import ParamsT
from torch.utils._foreach_utils import _group_tensors_by_device_and_dtype

from .._core import options as O
from .._core import validate as V


def split_head_tail(
    per_sample_loss: torch.Tensor, labels: torch.Tensor, tail_classes: Any, *, normalization: str = "batch"
) -> tuple[torch.Tensor, torch.Tensor]:
    r"""(head_loss, tail_loss) from per-sample losses in one pass (one ``index_add`` of the losses
    into two slots keyed by tail membership), differentiable.

    Args:
        per_sample_loss: (B,) losses (e.g. ``cross_entropy(..., reduction="none")``).
        labels: (B,) integer class labels.
        tail_classes: a bool mask over classes (C,) or a sequence / tensor of tail class ids.
        normalization: ``"batch"``: sum / B each (SSE-SAM's L_h, L_t); ``"imbsam"``: head sum / B and
            2 * tail sum / B (the ImbSAM repository); ``"count"``: the mean over each group's own
            samples (SSE-SAM's copy of ImbSAM; an empty group gives 0).
    """
    V.tensor(per_sample_loss, "per_sample_loss")
    V.tensor(labels, "labels")
    V.option(normalization, O.HEAD_TAIL_NORM)
    loss = per_sample_loss.reshape(-1)
    labels = labels.reshape(-1)
    if labels.numel() != loss.numel():
        raise ValueError(f"labels must have one entry per loss ({loss.numel()}), got {labels.numel()}")
    tail = torch.as_tensor(tail_classes, device=labels.device)
    is_tail = tail[labels] if tail.dtype == torch.bool else torch.isin(labels, tail.to(labels.dtype))
    slot = is_tail.long()
    sums = loss.new_zeros(2).index_add(0, slot, loss)
    if normalization == "count":
        sums = sums / torch.bincount(slot, minlength=2).clamp_min(1).to(sums.dtype)
    else:
        sums = sums / max(loss.numel(), 1)
        if normalization == "imbsam":
            sums = sums * sums.new_tensor([1.0, 2.0])
    return sums[0], sums[1]


def _grouped(*lists):
    """The lists split by (device, dtype) so every multi-tensor call sees one kind of tensor."""
    grouped = _group_tensors_by_device_and_dtype([list(t) for t in lists])
    return [(device, tensors) for (device, _), (tensors, _) in grouped.items()]


class _SAMBase(torch.optim.Optimizer):
    """The base optimizer sharing our param groups (the popular SAM implementation's arrangement),
    preallocated buffers per parameter, and the perturb / restore / norm primitives."""

    def __init__(
        self,
        params: ParamsT,
        base_optimizer: Callable[..., torch.optim.Optimizer],
        defaults: dict[str, Any],
        kwargs: Any,
    ) -> None:
        super().__init__(params, dict(defaults, **kwargs))
        self.base_optimizer: torch.optim.Optimizer = base_optimizer(self.param_groups, **kwargs)
        self.param_groups = self.base_optimizer.param_groups
        self.defaults.update(self.base_optimizer.defaults)

    def _params(self):
        return [p for g in self.param_groups for p in g["params"]]

    def _buffers(self, name, params):
        """self.state[p][name] for each p, allocated on first use."""
        out = []
        for p in params:
            st = self.state[p]
            if name not in st:
                st[name] = torch.zeros_like(p, memory_format=torch.preserve_format)
            out.append(st[name])
        return out

    @staticmethod
    def _global_norm(tensors, eps):
        """||concat(tensors)||_2 + eps as a 0-dim tensor on the first tensor's device."""
        device = tensors[0].device
        norms = [n.to(device) for _, (ts,) in _grouped(tensors) for n in torch._foreach_norm(ts)]
        return torch.linalg.vector_norm(torch.stack(norms)) + eps

    def _perturb(self, params, direction, scale):
        """Saves params into their 'old_p' buffers, then p <- old + direction * scale (in place)."""
        old = self._buffers("old_p", params)
        for device, (ps, olds, ds) in _grouped(params, old, direction):
            torch._foreach_copy_(olds, ps)
            if device.type == "cpu":  # a host scalar costs no sync here: one p += s d pass
                torch._foreach_add_(ps, ds, alpha=float(scale))
            else:  # no host sync: p <- d s + old
                torch._foreach_copy_(ps, ds)
                torch._foreach_mul_(ps, scale.to(device=device, dtype=ps[0].dtype))
                torch._foreach_add_(ps, olds)

    def _restore(self, params):
        old = [self.state[p]["old_p"] for p in params]
        for _, (ps, olds) in _grouped(params, old):
            torch._foreach_copy_(ps, olds)

    def state_dict(self) -> dict[str, Any]:
        sd = super().state_dict()
        sd["base_optimizer"] = self.base_optimizer.state_dict()
        return sd

    def load_state_dict(self, state_dict: dict[str, Any]) -> None:
        state_dict = dict(state_dict)
        base = state_dict.pop("base_optimizer", None)
        super().load_state_dict(state_dict)
        self.base_optimizer.param_groups = self.param_groups
        if base is not None:
            self.base_optimizer.load_state_dict(base)
            self.param_groups = self.base_optimizer.param_groups


class SAM(_SAMBase):
    r"""Sharpness-aware minimisation (Foret et al., ICLR 2021) with the interface and updates of the
    popular implementation (davda54/sam): ``SAM(params, base_optimizer, rho=0.05, adaptive=False,
    **kwargs)``, ``first_step(zero_grad)``, ``second_step(zero_grad)``, ``step(closure)``.

    ``first_step``: e = rho g / (||g|| + 1e-12) (``adaptive``: e = rho p^2 g / (||p g|| + 1e-12), ASAM),
    w <- w + e. ``second_step``: w restored exactly, then the base optimizer steps.
    ``step(closure)``: first_step(zero_grad=True), closure() (forward + backward at w + e), second_step.
    Differences: one global norm from ``torch._foreach_norm`` and in-place multi-tensor perturbation
    through a preallocated weight copy (the original clones every weight every step and launches one
    norm per tensor); ``state_dict`` includes the base optimizer's state.
    """

    def __init__(
        self,
        params: ParamsT,
        base_optimizer: type[torch.optim.Optimizer],
        rho: float = 0.05,
        adaptive: bool = False,
        **kwargs: Any,
    ) -> None:
        if not rho >= 0:
            raise ValueError(f"rho must be >= 0, got {rho}")
        super().__init__(params, base_optimizer, dict(rho=rho, adaptive=adaptive), kwargs)
        self._perturbed = []

    @torch.no_grad()
    def _grad_norm(self, params):
        grads = [p.grad for p in params]
        if any(g["adaptive"] for g in self.param_groups):
            adaptive = {p for g in self.param_groups if g["adaptive"] for p in g["params"]}
            grads = [g * p.abs() if p in adaptive else g for p, g in zip(params, grads)]
        return self._global_norm(grads, 0.0)

    @torch.no_grad()
    def first_step(self, zero_grad: bool = False) -> None:
        params = [p for p in self._params() if p.grad is not None]
        self._perturbed = params
        if not params:
            return
        norm = self._grad_norm(params)
        for group in self.param_groups:
            ps = [p for p in group["params"] if p.grad is not None]
            if not ps:
                continue
            scale = group["rho"] / (norm + 1e-12)
            if group["adaptive"]:
                direction = torch._foreach_mul(torch._foreach_pow(ps, 2), [p.grad for p in ps])
            else:
                direction = [p.grad for p in ps]
            self._perturb(ps, direction, scale)
        if zero_grad:
            self.zero_grad()

    @torch.no_grad()
    def second_step(self, zero_grad: bool = False) -> None:
        if self._perturbed:
            self._restore(self._perturbed)
        self._perturbed = []
        self.base_optimizer.step()
        if zero_grad:
            self.zero_grad()

    @torch.no_grad()
    def step(self, closure: Callable[[], Any] | None = None) -> Any:
        if closure is None:
            raise ValueError("SAM.step needs a closure (forward and backward at the perturbed weights)")
        closure = torch.enable_grad()(closure)
        self.first_step(zero_grad=True)
        closure()
        self.second_step()


class _HeadTailSAM(_SAMBase):
    """ImbSAM and SSE-SAM: ``step(closure)`` with ``closure() -> (head_loss, tail_loss)``."""

    def __init__(
        self,
        params: ParamsT,
        base_optimizer: Callable[..., torch.optim.Optimizer],
        defaults: dict[str, Any],
        kwargs: Any,
        model: torch.nn.Module | None,
        process_group: "torch.distributed.ProcessGroup | None",
    ) -> None:
        super().__init__(params, base_optimizer, defaults, kwargs)
        self.model: torch.nn.Module | None = model
        self.process_group: torch.distributed.ProcessGroup | None = process_group
        self.passes: dict[str, int] = {"forward": 0, "backward": 0}  # counted by step: what the schedule costs

    # ---- distributed
    def _world(self):
        if not (dist.is_available() and dist.is_initialized()):
            return 1
        group = getattr(self.model, "process_group", None) or self.process_group
        return dist.get_world_size(group)

    def _forward(self, closure):
        no_sync = getattr(self.model, "no_sync", None) if self._world() > 1 else None
        with no_sync() if no_sync is not None else contextlib.nullcontext(), torch.enable_grad():
            out = closure()
        self.passes["forward"] += 1
        if not (isinstance(out, (tuple, list)) and len(out) == 2):
            raise TypeError("the closure must return (head_loss, tail_loss), both un-backwarded")
        return out

    def _backward(self, params, loss, retain_graph=False):
        """Fresh gradients of ``loss`` in p.grad for every p (zeros where unused), averaged over ranks."""
        for _, (gs,) in _grouped([p.grad for p in params]):
            torch._foreach_zero_(gs)
        with torch.enable_grad():
            loss.backward(retain_graph=retain_graph)
        self.passes["backward"] += 1
        world = self._world()
        if world > 1:
            group = getattr(self.model, "process_group", None) or self.process_group
            grads = [p.grad for p in params]
            flat = torch._utils._flatten_dense_tensors(grads)
            dist.all_reduce(flat, group=group)
            flat /= world
            torch._foreach_copy_(grads, torch._utils._unflatten_dense_tensors(flat, grads))

    def _materialise_grads(self, params):
        for p in params:
            if p.grad is None:
                p.grad = torch.zeros_like(p)

    def _save_grads(self, name, params):
        buf = self._buffers(name, params)
        for _, (bs, gs) in _grouped(buf, [p.grad for p in params]):
            torch._foreach_copy_(bs, gs)
        return buf

    def _sharp_pass(self, closure, params, direction, rho, which):
        """Gradient of the head (which=0) or tail (1) loss at w + rho d / (||d|| + 1e-16), in p.grad."""
        scale = rho / self._global_norm(direction, 1e-16)
        self._perturb(params, direction, scale)
        loss = self._forward(closure)[which]
        self._backward(params, loss)
        self._restore(params)

    @torch.no_grad()
    def _head_tail_step(self, closure, rho_head, rho_tail):
        params = [p for p in self._params() if p.requires_grad]
        self._materialise_grads(params)
        head, tail = self._forward(closure)
        self._backward(params, head, retain_graph=True)
        g_head = self._save_grads("head_grad", params)
        self._backward(params, tail)
        if rho_head > 0:
            g_tail = self._save_grads("tail_grad", params)
            self._sharp_pass(closure, params, g_head, rho_head, 0)
            self._save_grads("head_grad", params)  # the head's sharp gradient replaces its plain one
            direction = g_tail
        else:  # the tail's plain gradient, still in p.grad (read by the perturbation before it is zeroed)
            direction = [p.grad for p in params]
        self._sharp_pass(closure, params, direction, rho_tail, 1)
        for _, (gs, hs) in _grouped([p.grad for p in params], g_head):
            torch._foreach_add_(gs, hs)
        self.base_optimizer.step()
        return (head + tail).detach()


class ImbSAM(_HeadTailSAM):
    r"""ImbSAM (Zhou et al., ICCV 2023): sharpness-aware on the tail classes only,
    g = grad L_head(w) + grad L_tail(w + rho g_tail / ||g_tail||), then the base optimizer steps.

    ``step(closure)``: the closure runs the forward pass and returns ``(head_loss, tail_loss)``
    un-backwarded (``split_head_tail``); 2 forward, 3 backward passes. Both normalisations of the
    official codes are :func:`split_head_tail`'s ``normalization``: ``"imbsam"`` (the ImbSAM
    repository: head / B, 2 tail / B) or ``"count"`` (SSE-SAM's copy: head and tail means).
    ``model``/``process_group``: see the module notes on DDP. Returns the (detached) loss at w.
    """

    def __init__(
        self,
        params: ParamsT,
        base_optimizer: type[torch.optim.Optimizer],
        rho: float = 0.05,
        *,
        model: torch.nn.Module | None = None,
        process_group: "torch.distributed.ProcessGroup | None" = None,
        **kwargs: Any,
    ) -> None:
        if not rho >= 0:
            raise ValueError(f"rho must be >= 0, got {rho}")
        super().__init__(params, base_optimizer, dict(rho=rho), kwargs, model, process_group)

    def step(self, closure: Callable[[], Any] | None = None) -> Any:
        if closure is None:
            raise ValueError("ImbSAM.step needs a closure returning (head_loss, tail_loss)")
        return self._head_tail_step(closure, 0.0, self.param_groups[0]["rho"])


class SSESAM(_HeadTailSAM):
    r"""SSE-SAM (Lyu et al., AAAI 2025): g = grad L_h(w + e_h) + grad L_t(w + e_t), e = rho g / ||g||
    per group (global norms + 1e-16), with rho_head set to 0 from ``switch_epoch`` on (the official
    code: epoch >= gamma * epochs, e.g. 140 of 200); before it SAM-like on both groups, after it
    ImbSAM-like.

    ``step(closure)``: closure() -> ``(head_loss, tail_loss)`` un-backwarded (``split_head_tail``,
    ``normalization="batch"`` as the official code); 3 forward / 4 backward passes before the switch,
    2 / 3 after (the official code runs 4 / 4 throughout). Call :meth:`update_rho` once at the end of
    every epoch (the epoch count is in the param groups, so in ``state_dict``). Returns the
    (detached) loss at w.
    """

    def __init__(
        self,
        params: ParamsT,
        base_optimizer: type[torch.optim.Optimizer],
        rho_head: float = 0.05,
        rho_tail: float = 0.1,
        switch_epoch: int | None = None,
        *,
        model: torch.nn.Module | None = None,
        process_group: "torch.distributed.ProcessGroup | None" = None,
        **kwargs: Any,
    ) -> None:
        if not (rho_head >= 0 and rho_tail >= 0):
            raise ValueError(f"rho_head and rho_tail must be >= 0, got {rho_head}, {rho_tail}")
        if switch_epoch is not None and (isinstance(switch_epoch, bool) or not isinstance(switch_epoch, int)):
            raise TypeError(f"switch_epoch must be an int or None, got {type(switch_epoch).__name__}")
        defaults = dict(rho_head=rho_head, rho_tail=rho_tail, switch_epoch=switch_epoch, epoch=0)
        super().__init__(params, base_optimizer, defaults, kwargs, model, process_group)

    @property
    def rho_head(self):
        """The head radius in effect: 0 from the switch epoch on."""
        g = self.param_groups[0]
        switched = g["switch_epoch"] is not None and g["epoch"] >= g["switch_epoch"]
        return 0.0 if switched else g["rho_head"]

    def update_rho(self) -> None:
        """End of an epoch: counts it; from ``switch_epoch`` on the head radius is 0."""
        for g in self.param_groups:
            g["epoch"] += 1

    def step(self, closure: Callable[[], Any] | None = None) -> Any:
        if closure is None:
            raise ValueError("SSESAM.step needs a closure returning (head_loss, tail_loss)")
        return self._head_tail_step(closure, self.rho_head, self.param_groups[0]["rho_tail"])


__all__ = ["SAM", "ImbSAM", "SSESAM", "split_head_tail"]
