"""torchauc: exact, fast C++/CUDA AUC-family losses and metrics for PyTorch."""
import torch

from ._loader import load_ops as _load_ops

_load_ops()

from . import _ops  # noqa: E402,F401  (fake impls and autograd of every op)
from . import functional, libauc_compat, losses, memory_bank, metrics, optim, partial_auc, reference  # noqa: E402
from .memory_bank import TMemoryBank  # noqa: E402

__version__ = "0.1.0"


def op_names():
    """Names of every torch.ops.torchauc op in this build."""
    names = torch._C._dispatch_get_all_op_names()
    return sorted({n.split("::")[1].split(".")[0] for n in names if n.startswith("torchauc::")})


def cuda_available() -> bool:
    """True when every op has a CUDA kernel in this install (not whether a GPU is present)."""
    return all(torch._C._dispatch_has_kernel_for_dispatch_key(f"torchauc::{n}", "CUDA") for n in op_names())


__all__ = [
    "functional",
    "losses",
    "reference",
    "partial_auc",
    "libauc_compat",
    "optim",
    "memory_bank",
    "TMemoryBank",
    "metrics",
    "cuda_available",
    "op_names",
    "__version__",
]
