"""Floors: the least work an op of each kind must do on this machine, timed in the same run as the op.

A case sets ``Case.floor`` to one of these callables (built from the case's own inputs); the table
then prints the floor's time and ours / floor, the number to drive down. Three kinds:

- :func:`elementwise`: one pass that reads every input once and writes the outputs (O(n) and pixel
  losses: read the scores, labels and weights, write the gradients).
- :func:`radix_sort`: the project's own radix sort of the same keys (sort-based ops: AUROC, hinge).
- :func:`fma`: one fused multiply-add per pair in a tiled loop (tiled pairwise ops, logistic/sigmoid).

The kernels are CPU ops in the ``torchauc_bench`` namespace (csrc/bench/floors.cpp), outside the
library's own ops; on another device a floor is None (no column)."""

from collections.abc import Callable

import torch

import torchauc  # noqa: F401  (loads the compiled library, which registers torchauc_bench)

_OPS = torch.ops.torchauc_bench


@torch.library.register_fake("torchauc_bench::floor_elementwise")
def _fake_elementwise(reads, writes):
    if writes == 0:
        return [reads[0].new_empty((), dtype=torch.float64)]
    return [torch.empty_like(reads[0]) for _ in range(writes)]


@torch.library.register_fake("torchauc_bench::floor_radix_sort")
def _fake_radix_sort(keys, with_index):
    n = keys.numel()
    return keys.new_empty(n), keys.new_empty(n if with_index else 0, dtype=torch.long)


@torch.library.register_fake("torchauc_bench::floor_fma")
def _fake_fma(rows, cols):
    return torch.empty((), dtype=torch.float64)


def _on_cpu(*tensors: torch.Tensor) -> bool:
    return all(t.device.type == "cpu" for t in tensors)


def elementwise(*reads: torch.Tensor, writes: int = 1) -> Callable[[], object] | None:
    """One pass reading ``reads`` (each in its own dtype, in place) and writing ``writes`` tensors
    shaped like ``reads[0]`` in its dtype (``writes=0``: a read-only pass returning the sum of what it
    read). Inputs of another size (the labels of a pixel loss) are read in a pass of their own."""
    reads = tuple(r.detach() for r in reads)
    if not _on_cpu(*reads):
        return None
    return lambda: _OPS.floor_elementwise(list(reads), writes)


def radix_sort(keys: torch.Tensor, with_index: bool = True) -> Callable[[], object] | None:
    """The project's radix sort of ``keys`` (float32/float64), with an int64 index payload when
    ``with_index`` (what sort-based ops carry)."""
    keys = keys.detach()
    if not _on_cpu(keys):
        return None
    keys = keys if keys.dtype in (torch.float32, torch.float64) else keys.float()
    return lambda: _OPS.floor_radix_sort(keys, with_index)


def fma(rows: int, cols: int) -> Callable[[], object]:
    """rows x cols float32 fused multiply-adds, tiled as the pairwise kernels (one per pair)."""
    return lambda: _OPS.floor_fma(rows, cols)
