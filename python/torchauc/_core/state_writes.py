"""Indexed writes of per-sample state where a batch repeats a dataset index, the same on every device.

A batch may hold a dataset index more than once (a sampler drawing with replacement, DualSampler's
oversampled positives). LibAUC writes its state rows with ``state[index] = new``: the CPU stores the
entries in batch order, so the last one of a repeated index stays; on CUDA (and in torch's parallel
CPU kernels, past 32768 entries) the order of writes to one address is undefined. Here every entry of
a repeated index first takes the value of the index's last entry, so any write order stores that
value: the CPU's sequential result on every device, without a host sync (a stable sort and a
``searchsorted`` over the batch's indices, O(n log n) in the batch, nothing of the state's size).
"""

import torch


def last_occurrence(index: torch.Tensor) -> torch.Tensor:
    """For each entry of the 1-D integer ``index``, the position of the last entry with the same value."""
    sorted_index, order = torch.sort(index, stable=True)  # a run of equal values keeps batch order
    run_end = torch.searchsorted(sorted_index, index, right=True) - 1
    return order.index_select(0, run_end)


class LastWritten:
    """The entries of a batch's state positions ``at`` (any shape) after LibAUC's ``state[at] = v``:
    ``of(v)`` gives every entry of a repeated position the position's last value in batch order (what
    the CPU's write leaves, and what LibAUC's later reads of ``state[at]`` see), ``put(state, v)``
    stores that on any device. The sort is made once per batch, on first use."""

    def __init__(self, at: torch.Tensor) -> None:
        self.at = at
        self._last: torch.Tensor | None = None

    def of(self, v: torch.Tensor) -> torch.Tensor:
        if self._last is None:
            self._last = last_occurrence(self.at.reshape(-1))
        return v.reshape(-1).index_select(0, self._last).reshape(v.shape)

    def put(self, state: torch.Tensor, v: torch.Tensor) -> torch.Tensor:
        """``state.put_(at, v)`` (flat positions) storing each repeated position's last value."""
        return state.put_(self.at.reshape(-1), self.of(v).reshape(-1).to(state.dtype))
