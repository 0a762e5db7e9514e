"""torch.distributed helpers: the global batch of the losses and the state sync of the metrics.

Losses (``process_group=`` keyword, ``None`` = this rank's batch only). Every rank computes the same
loss over the global batch (the concatenation of the ranks' batches in rank order). Because the value
is *replicated*, the backward of each collective needs no communication: the gradient of the loss
with respect to this rank's inputs is its own slice of the gradient with respect to the gathered
batch (:func:`gather_batch`), and its local moment sums enter the reduced sums with coefficient 1
(:func:`all_reduce_sum_replicated`). Each rank so receives exactly the single-process gradient of
its own samples.

A family adopts it in a few lines::

    def my_loss(scores, labels, *, ..., process_group=None):
        if process_group is not None:                   # sort-based / any loss: exact by gathering
            scores, labels = D.gather_batch(process_group, scores, labels)
        ...                                             # the local code, unchanged

or, for a loss that is a function of per-label (per-class) sums::

        sums = torch.stack([...])                       # this rank's moment sums, with autograd
        sums = D.all_reduce_sum_replicated(sums, process_group)   # O(#sums) bytes
        ...                                             # the loss from the global sums

DDP convention: DDP *averages* parameter gradients over ranks, while the gradient of the global loss
is the *sum* of the ranks' gradients; multiply the loss by :func:`world_size` ``(process_group)``
before ``backward`` (or the learning rate by it) to take the single-device step.
"""

import math
from typing import Any

import torch
import torch.distributed as dist


def initialized():
    return dist.is_available() and dist.is_initialized()


def world_size(group=None):
    """Size of ``group`` (default: the default group; 1 when torch.distributed is not initialised)."""
    return dist.get_world_size(group) if initialized() else 1


def rank(group=None):
    return dist.get_rank(group) if initialized() else 0


def check_group(group, name="process_group"):
    """The process group a loss runs over, or None (local; also for a group of one rank). Rejects
    what is not a group."""
    if group is None:
        return None
    if not initialized():
        raise ValueError(f"{name} was given but torch.distributed is not initialised (call init_process_group)")
    if not isinstance(group, dist.ProcessGroup):
        raise TypeError(f"{name} must be a torch.distributed ProcessGroup (e.g. dist.group.WORLD) or None, "
                        f"got {type(group).__name__}")  # fmt: skip
    return group if world_size(group) > 1 else None


def _sizes(n, device, group):
    """Dim-0 sizes of every rank (one tiny all_gather)."""
    mine = torch.tensor([n], dtype=torch.int64, device=device)
    sizes = [torch.zeros_like(mine) for _ in range(world_size(group))]
    dist.all_gather(sizes, mine, group=group)
    return [int(s) for s in sizes]


def _gather_padded(t, sizes, group):
    """Concatenation of every rank's t (dim-0 lengths ``sizes``), in rank order."""
    padded = t.new_zeros((max(sizes),) + tuple(t.shape[1:]))
    padded[: t.shape[0]] = t
    parts = [torch.empty_like(padded) for _ in sizes]
    dist.all_gather(parts, padded.contiguous(), group=group)
    return torch.cat([p[:s] for p, s in zip(parts, sizes)], 0)


class _GatherBatch(torch.autograd.Function):
    """Variable-length all_gather along dim 0 whose backward is this rank's slice (replicated loss)."""

    @staticmethod
    def forward(ctx, t, sizes, offset, group):
        ctx.rows = (offset, t.shape[0])
        return _gather_padded(t.detach(), sizes, group)

    @staticmethod
    def backward(ctx, grad):
        offset, n = ctx.rows
        return grad[offset : offset + n], None, None, None


class _GatherBatchPartial(_GatherBatch):
    """As _GatherBatch for a tensor that feeds a *split* computation (each rank a different part):
    each rank's gradient is partial, so the backward sums it over the ranks before slicing."""

    @staticmethod
    def backward(ctx, grad):
        offset, n = ctx.rows
        grad = grad.detach().clone().contiguous()
        dist.all_reduce(grad, group=ctx.group)
        return grad[offset : offset + n], None, None, None

    @staticmethod
    def forward(ctx, t, sizes, offset, group):
        ctx.group = group
        return _GatherBatch.forward(ctx, t, sizes, offset, group)


def gather_batch(group, *tensors, partial=False) -> Any:  # one tensor in: a tensor; several: a list
    """The global batch: each tensor (dim 0 = samples; other dims equal on every rank) concatenated
    over the ranks of ``group`` in rank order, differentiable (backward: this rank's rows). A None
    entry stays None; every rank must pass the same optional tensors (checked, in the same small
    all_gather that exchanges the sizes). ``partial=True``: the gathered tensors feed a computation
    that each rank does only part of (e.g. a model head on its share of the rows), so the backward
    all-reduces their gradient first (a collective: every rank must run backward)."""
    group = check_group(group)
    first = next(t for t in tensors if t is not None)
    for t in tensors:
        if t is not None and (t.dim() == 0 or t.shape[0] != first.shape[0]):
            raise ValueError(f"gather_batch: tensors must share dim 0 ({first.shape[0]}), got {tuple(t.shape)}")
    mine = torch.tensor([first.shape[0]] + [t is not None for t in tensors], dtype=torch.int64, device=first.device)
    every = [torch.zeros_like(mine) for _ in range(world_size(group))]
    dist.all_gather(every, mine, group=group)
    every = torch.stack(every).cpu()
    if bool((every[:, 1:] != mine[1:].cpu()).any()):
        raise ValueError("every rank must pass the same optional tensors (e.g. pos_weights) to a process_group loss")
    sizes = every[:, 0].tolist()
    offset = sum(sizes[: rank(group)])
    out = []
    for t in tensors:
        if t is None:
            out.append(None)
        elif t.requires_grad:
            out.append((_GatherBatchPartial if partial else _GatherBatch).apply(t, sizes, offset, group))
        else:
            out.append(_gather_padded(t, sizes, group))
    return out[0] if len(out) == 1 else out


class _AllReduceReplicated(torch.autograd.Function):
    """all_reduce(SUM) whose backward is the identity: the reduced value feeds a loss computed
    identically on every rank, so d loss / d local sums = d loss / d global sums."""

    @staticmethod
    def forward(ctx, t, group):
        out = t.detach().clone().contiguous()
        dist.all_reduce(out, group=group)
        return out

    @staticmethod
    def backward(ctx, grad):
        return grad, None


def all_reduce_sum_replicated(t, group):
    """Sum of t over the ranks of ``group``, differentiable under the replicated-loss convention."""
    return _AllReduceReplicated.apply(t, check_group(group))


def global_mean(terms, group):
    """Mean of the per-sample ``terms`` over the global batch (local when group is None): one
    all-reduce of (sum, count); each rank's terms get 1 / (global count), the replicated-loss
    gradient. The reduction of the per-sample losses (top-k, SOD) under a process_group."""
    if check_group(group) is None:
        return terms.mean()
    return global_mean_of_sum(terms.sum(), terms.numel(), group)


def global_mean_of_sum(total, count, group):
    """:func:`global_mean` from this rank's sum of its terms (0-dim, with autograd) and their count: for the
    fused ops that reduce their rows themselves. ``group`` is a group of several ranks (not None)."""
    both = torch.stack([total, total.new_tensor(float(count))])
    both = all_reduce_sum_replicated(both, group)
    return both[0] / both[1]


def masked_max(x, mask, dim=None):
    """max of x where mask (-inf where nothing is selected; empty inputs allowed), no gradient."""
    x = torch.where(mask, x.detach(), -math.inf)
    if dim is None:
        x = x.reshape(-1)
        dim = 0
    pad = x.new_full(x.shape[:dim] + (1,) + x.shape[dim + 1 :], -math.inf)
    return torch.cat([x, pad], dim).amax(dim)


def all_reduce_max_detached(t, group):
    out = t.detach().clone().contiguous()
    dist.all_reduce(out, op=dist.ReduceOp.MAX, group=group)
    return out


# ------------------------------------------------------------------------ stateful metrics (no autograd)
def gather_cat(t, group=None):
    """Concatenates tensor t (dim 0 may differ between ranks) from every rank, in rank order."""
    if world_size(group) == 1:
        return t
    return _gather_padded(t, _sizes(t.shape[0], t.device, group), group)


def all_reduce_sum(t, group=None):
    """Sum of t over ranks (a copy; t is unchanged)."""
    if world_size(group) == 1:
        return t
    out = t.clone()
    dist.all_reduce(out, group=group)
    return out


def all_reduce_max(t, group=None):
    """Elementwise maximum of t over ranks (a copy; t is unchanged)."""
    if world_size(group) == 1:
        return t
    out = t.clone()
    dist.all_reduce(out, op=dist.ReduceOp.MAX, group=group)
    return out


def all_to_all_rows(t, counts, group=None):
    """Sends rows ``t[sum(counts[:d]) : sum(counts[:d+1])]`` to rank d (t grouped by destination);
    returns the rows received, in source-rank order, and the counts received from each rank."""
    counts = counts.to(torch.int64)
    recv = torch.empty_like(counts)
    dist.all_to_all_single(recv, counts.contiguous(), group=group)
    send_sizes, recv_sizes = counts.tolist(), recv.tolist()
    out = t.new_empty((sum(recv_sizes),) + tuple(t.shape[1:]))
    dist.all_to_all_single(out, t.contiguous(), recv_sizes, send_sizes, group=group)
    return out, recv
