"""Branches of the Python layer on the device type, named in one place so that the simulated-CUDA
tests can take their CUDA side on CPU tensors (tests/cudasim/test_host_syncs.py patches them)."""

import torch


def host_reads_free(t: torch.Tensor) -> bool:
    """True for CPU tensors: reading a size or a flag on the host costs no device sync there, so a
    compaction with host sizes is cheaper than the sync-free masked form that CUDA needs."""
    return t.device.type == "cpu"
