r"""Sharpness-aware minimisation for long-tailed training: :class:`SAM`, :class:`ImbSAM`,
:class:`SSESAM`, and :func:`split_head_tail`.

The optimizer's own work is bandwidth bound, so it makes the fewest passes over parameter-sized
memory: ``torchauc::sam_perturb`` takes the global gradient norm and writes w + e into a spare buffer
per parameter (one multi-tensor op, one parallel region each; CUDA: ATen's multi-tensor ops), then
the storages are swapped, so restoring w is a swap back (exact, never ``p - e``, no copy); a plain
``torch.optim.SGD`` base optimizer steps in one fused pass (``torchauc::sam_sgd_step``: same update
and momentum state). Gradients that must be kept go into preallocated buffers. The buffers live in
``self.state`` (so in ``state_dict``) and are allocated once; per step nothing parameter-sized is
allocated. Swapping storages (as the popular SAM implementation's ``p.data = old_p`` does) means a
parameter's ``data_ptr`` alternates between two buffers across ``first_step``/``second_step``.

Pass schedules (forward passes F, backward passes B per ``step``):

* :class:`SAM`: the caller's F+B at w, then F+B at w + e (``step(closure)`` or first/second_step).
* :class:`ImbSAM`: F at w, B of the head loss and B of the tail loss on that one graph, then F+B of
  the tail loss at w + e_tail: 2 F, 3 B (the official code: the same).
* :class:`SSESAM`: before the switch, F at w with B head and B tail on that graph, F+B head at
  w + e_head, F+B tail at w + e_tail: 3 F, 4 B (the official code: 4 F, 4 B); after the switch
  (rho_head = 0) the head pass at w + 0 is the pass at w already done: 2 F, 3 B (official: 4 F, 4 B).
* ``step_split`` (ImbSAM, SSE-SAM; models whose samples do not interact): every pass runs on the rows
  its loss reads, so a pass costs its group's share of the batch: SSE-SAM 2 F + 2 B of the batch
  before the switch (the closure's forward at w feeds both groups, so the closure API cannot split).

Distributed: with ``model=`` a ``DistributedDataParallel`` module, the closure's forward passes run
under ``model.no_sync()`` (several backward passes per forward are not something DDP's reducer
allows) and the optimizer averages each gradient it needs over the process group with one
bucketed (flattened) all-reduce. Without DDP, pass ``process_group`` (or leave the default group
when torch.distributed is initialised) for the same averaging. Equal to single-process training
on the concatenated batch when every rank has the same batch size and the losses are normalised
by the batch size (``split_head_tail(normalization="batch" | "imbsam")``).
"""

import abc
import contextlib
from collections.abc import Callable
from typing import Any

import torch
import torch.distributed as dist
from torch.optim.optimizer import ParamsT
from torch.optim.optimizer import _global_optimizer_post_hooks as _GLOBAL_POST
from torch.optim.optimizer import _global_optimizer_pre_hooks as _GLOBAL_PRE
from torch.utils._foreach_utils import _group_tensors_by_device_and_dtype

from .._core import options as O
from .._core import validate as V


def _tail_mask(labels, tail_classes):
    """(B,) bool: whether each label is a tail class (tail_classes: a bool mask over classes or ids)."""
    tail = torch.as_tensor(tail_classes, device=labels.device)
    return tail[labels] if tail.dtype == torch.bool else torch.isin(labels, tail.to(labels.dtype))


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
    slot = _tail_mask(labels, tail_classes).long()
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

    def _perturb(self, params, directions, rho, eps, norm=None):
        """p <- p + rho_p d_p / (norm + eps) for every p (norm = ||directions|| unless given): the
        perturbed weights are written into each p's spare buffer in one pass (torchauc::sam_perturb,
        which also takes the norm in one pass), then the storages are swapped, so the weights at w are
        never touched and restoring them is a swap back: exact, and no copy."""
        spare = self._buffers("spare", params)
        by_device: dict[torch.device, list[int]] = {}
        for i, p in enumerate(params):
            by_device.setdefault(p.device, []).append(i)
        if len(by_device) > 1 and norm is None:  # one global norm over every device
            norm = self._global_norm(directions, 0.0)
        for device, idx in by_device.items():
            torch.ops.torchauc.sam_perturb(
                [params[i] for i in idx],
                [directions[i] for i in idx],
                [spare[i] for i in idx],
                [float(rho[i]) for i in idx],
                eps,
                None if norm is None else norm.to(device),
            )
        self._swap(params)

    def _swap(self, params):
        """Exchanges each p's storage with its spare buffer (where p is on w + e after _perturb)."""
        for p in params:
            st = self.state[p]
            p.data, st["spare"] = st["spare"], p.data

    _restore = _swap

    def _fused_sgd_groups(self):
        """The param groups with their stepped params when the base optimizer is a plain
        torch.optim.SGD that torchauc::sam_sgd_step can replace (same update, same state), else None."""
        base = self.base_optimizer
        hooks = (base._optimizer_step_pre_hooks, base._optimizer_step_post_hooks, _GLOBAL_PRE, _GLOBAL_POST)
        if type(base) is not torch.optim.SGD or any(hooks) or "step" in vars(base):  # step patched: call it
            return None
        out = []
        for group in self.param_groups:
            params = [p for p in group["params"] if p.grad is not None]
            if group.get("differentiable") or any(
                isinstance(group[k], torch.Tensor) for k in ("lr", "momentum", "dampening", "weight_decay")
            ):
                return None
            if any(p.grad.is_sparse or p.grad.dtype != p.dtype or p.device != params[0].device for p in params):
                return None
            have = {base.state[p].get("momentum_buffer") is not None for p in params}
            if group["momentum"] != 0 and len(have) > 1:  # some buffers new, some not: torch's own path
                return None
            out.append((group, params))
        return out

    def _base_step(self):
        """The base optimizer's step; a plain torch.optim.SGD runs as one fused pass over each group
        (p, grad and momentum buffer read once, p and buffer written once) instead of three."""
        groups = self._fused_sgd_groups()
        if groups is None:
            self.base_optimizer.step()
            return
        for group, params in groups:
            if not params:
                continue
            bufs, fresh = [], False
            if group["momentum"] != 0:
                states = [self.base_optimizer.state[p] for p in params]
                fresh = states[0].get("momentum_buffer") is None
                if fresh:
                    for st, p in zip(states, params):
                        st["momentum_buffer"] = torch.empty_like(p)
                bufs = [st["momentum_buffer"] for st in states]
            torch.ops.torchauc.sam_sgd_step(
                params,
                [p.grad for p in params],
                bufs,
                fresh,
                float(group["lr"]),
                float(group["momentum"]),
                float(group["dampening"]),
                float(group["weight_decay"]),
                bool(group["nesterov"]),
                bool(group["maximize"]),
            )

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
    Differences: one fused op for the global norm and the perturbation into a preallocated spare
    buffer, restore by swapping storages back, a plain SGD base optimizer fused into one pass (the
    original clones every weight every step, launches one norm per tensor and several passes per
    parameter); ``state_dict`` includes the base optimizer's state.
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
        params, rho, adaptive = [], [], []
        for group in self.param_groups:
            for p in group["params"]:
                if p.grad is not None:
                    params.append(p)
                    rho.append(group["rho"])
                    adaptive.append(group["adaptive"])
        self._perturbed = params
        if not params:
            return
        if any(adaptive):  # ASAM: e = rho p^2 g / ||p g||, the norm not the direction's
            norm = self._grad_norm(params)
            directions = [p * p * p.grad if a else p.grad for p, a in zip(params, adaptive)]
            self._perturb(params, directions, rho, 1e-12, norm)
        else:
            self._perturb(params, [p.grad for p in params], rho, 1e-12)
        if zero_grad:
            self.zero_grad()

    @torch.no_grad()
    def second_step(self, zero_grad: bool = False) -> None:
        if self._perturbed:
            self._restore(self._perturbed)
        self._perturbed = []
        self._base_step()
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

    def _run(self, fn):
        """fn() with autograd on (under DDP's no_sync when distributed), counted as a forward pass."""
        no_sync = getattr(self.model, "no_sync", None) if self._world() > 1 else None
        with no_sync() if no_sync is not None else contextlib.nullcontext(), torch.enable_grad():
            out = fn()
        self.passes["forward"] += 1
        return out

    def _forward(self, closure):
        out = self._run(closure)
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

    def _grad_of(self, params, loss):
        """p.grad <- d loss / d p; loss None (an empty group) gives zeros without a pass."""
        if loss is None:
            for _, (gs,) in _grouped([p.grad for p in params]):
                torch._foreach_zero_(gs)
        else:
            self._backward(params, loss)

    def _materialise_grads(self, params):
        for p in params:
            if p.grad is None:
                p.grad = torch.zeros_like(p)

    def _save_grads(self, name, params):
        buf = self._buffers(name, params)
        for _, (bs, gs) in _grouped(buf, [p.grad for p in params]):
            torch._foreach_copy_(bs, gs)
        return buf

    def _sharp_pass(self, loss_at, params, direction, rho, which):
        """Gradient of the head (which=0) or tail (1) loss at w + rho d / (||d|| + 1e-16), in p.grad."""
        self._perturb(params, direction, [rho] * len(params), 1e-16)
        self._grad_of(params, loss_at(which))
        self._restore(params)

    @torch.no_grad()
    def _head_tail_step(self, plain, loss_at, rho_head, rho_tail):
        """The schedule: plain(params) leaves grad L_head(w) in the 'head_grad' buffers and grad
        L_tail(w) in p.grad and returns the loss at w; loss_at(which) is the head (0) or tail (1) loss
        at the current weights (None: an empty group)."""
        params = [p for p in self._params() if p.requires_grad]
        self._materialise_grads(params)
        loss = plain(params)
        g_head = self._buffers("head_grad", params)
        if rho_head > 0:
            g_tail = self._save_grads("tail_grad", params)
            self._sharp_pass(loss_at, params, g_head, rho_head, 0)
            self._save_grads("head_grad", params)  # the head's sharp gradient replaces its plain one
            direction = g_tail
        else:  # the tail's plain gradient, still in p.grad (read by the perturbation before it is zeroed)
            direction = [p.grad for p in params]
        self._sharp_pass(loss_at, params, direction, rho_tail, 1)
        for _, (gs, hs) in _grouped([p.grad for p in params], g_head):
            torch._foreach_add_(gs, hs)
        self._base_step()
        return loss

    def _closure_step(self, closure, rho_head, rho_tail):
        """One forward at w serves both plain gradients (two backward passes on its graph)."""

        def plain(params):
            head, tail = self._forward(closure)
            self._backward(params, head, retain_graph=True)
            self._save_grads("head_grad", params)
            self._backward(params, tail)
            return (head + tail).detach()

        return self._head_tail_step(plain, lambda which: self._forward(closure)[which], rho_head, rho_tail)

    _default_normalization = "batch"  # step_split's, each class's official one

    @abc.abstractmethod
    def _radii(self) -> tuple[float, float]:
        """(rho_head, rho_tail) in effect (ImbSAM: 0 and rho; SSE-SAM: by its switch epoch)."""

    def step_split(
        self,
        model: torch.nn.Module,
        inputs: torch.Tensor,
        labels: torch.Tensor,
        per_sample_loss: Callable[[torch.Tensor, torch.Tensor], torch.Tensor],
        tail_classes: Any,
        *,
        normalization: str | None = None,
    ) -> Any:
        r"""A step that runs every pass only on the samples its loss reads: the head loss on the
        head rows of ``inputs``, the tail loss on the tail rows. The same update as
        ``step(closure)`` with ``split_head_tail(per_sample_loss(model(inputs), labels), labels,
        tail_classes, normalization=...)`` (up to float rounding), for models whose samples do not
        interact (train-mode BatchNorm couples them: refused). Each pass costs its group's share of
        the batch, so SSE-SAM's schedule costs 2 forward + 2 backward passes of the batch before the
        switch (the closure: 3 + 4; the official code: 4 + 4) and ImbSAM's 1 + 1 plus the tail's
        share.

        Args:
            model: the module (called as ``model(rows)``).
            inputs: (B, ...) batch, indexed by rows.
            labels: (B,) class ids.
            per_sample_loss: ``(outputs, labels) -> (b,)`` losses (e.g. cross entropy, reduction none).
            tail_classes: a bool mask over classes or tail class ids.
            normalization: as :func:`split_head_tail` (default: the class's official one).
        Returns the (detached) loss at w. The row split costs one host sync on CUDA.
        """
        norm = V.option(normalization or self._default_normalization, O.HEAD_TAIL_NORM)
        if any(isinstance(m, torch.nn.modules.batchnorm._BatchNorm) and m.training for m in model.modules()):
            raise ValueError("step_split needs samples that do not interact; train-mode BatchNorm couples them")
        labels = V.tensor(labels, "labels").reshape(-1)
        if V.tensor(inputs, "inputs").shape[0] != labels.numel():
            raise ValueError(f"inputs must have one row per label ({labels.numel()}), got {inputs.shape[0]}")
        is_tail = _tail_mask(labels, tail_classes)
        groups = [torch.nonzero(~is_tail).flatten(), torch.nonzero(is_tail).flatten()]
        n = max(labels.numel(), 1)
        scale = {"batch": (1 / n, 1 / n), "imbsam": (1 / n, 2 / n)}.get(
            norm, tuple(1 / max(len(r), 1) for r in groups)
        )  # "count": each group's own mean
        rows = [(inputs[r], labels[r]) for r in groups]

        def loss_at(which):
            x, y = rows[which]
            if y.numel() == 0:
                return None
            return self._run(lambda: per_sample_loss(model(x), y).sum() * scale[which])

        def plain(params):
            head = loss_at(0)
            self._grad_of(params, head)
            self._save_grads("head_grad", params)
            tail = loss_at(1)
            self._grad_of(params, tail)
            return sum((t.detach() for t in (head, tail) if t is not None), torch.zeros((), device=labels.device))

        return self._head_tail_step(plain, loss_at, *self._radii())


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

    _default_normalization = "imbsam"

    def _radii(self):
        return 0.0, self.param_groups[0]["rho"]

    def step(self, closure: Callable[[], Any] | None = None) -> Any:
        if closure is None:
            raise ValueError("ImbSAM.step needs a closure returning (head_loss, tail_loss)")
        return self._closure_step(closure, *self._radii())


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

    def _radii(self):
        return self.rho_head, self.param_groups[0]["rho_tail"]

    def step(self, closure: Callable[[], Any] | None = None) -> Any:
        if closure is None:
            raise ValueError("SSESAM.step needs a closure returning (head_loss, tail_loss)")
        return self._closure_step(closure, *self._radii())


__all__ = ["SAM", "ImbSAM", "SSESAM", "split_head_tail"]
