"""State synchronisation of the stateful metrics across torch.distributed ranks."""

import torch
import torch.distributed as dist


def world_size():
    return dist.get_world_size() if dist.is_available() and dist.is_initialized() else 1


def gather_cat(t):
    """Concatenates tensor t (dim 0 may differ between ranks) from every rank, in rank order."""
    if world_size() == 1:
        return t
    n = torch.tensor([t.shape[0]], dtype=torch.int64, device=t.device)
    sizes = [torch.zeros_like(n) for _ in range(world_size())]
    dist.all_gather(sizes, n)
    sizes = [int(s) for s in sizes]
    padded = t.new_zeros((max(sizes),) + tuple(t.shape[1:]))
    padded[: t.shape[0]] = t
    parts = [torch.zeros_like(padded) for _ in sizes]
    dist.all_gather(parts, padded.contiguous())
    return torch.cat([p[:s] for p, s in zip(parts, sizes)], 0)


def all_reduce_sum(t):
    """Sum of t over ranks (a copy; t is unchanged)."""
    if world_size() == 1:
        return t
    out = t.clone()
    dist.all_reduce(out)
    return out


def all_reduce_max(t):
    """Elementwise maximum of t over ranks (a copy; t is unchanged)."""
    if world_size() == 1:
        return t
    out = t.clone()
    dist.all_reduce(out, op=dist.ReduceOp.MAX)
    return out
