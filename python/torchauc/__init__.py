"""torchauc: exact, fast C++/CUDA AUC-family losses and metrics for PyTorch."""
import torch

from ._loader import load_ops as _load_ops

_load_ops()

from . import _ops  # noqa: E402,F401  (fake impls and autograd of every op)
from . import functional, losses, reference  # noqa: E402

__version__ = "0.1.0"


def cuda_available() -> bool:
    """True when the CUDA kernels were built into this install (not whether a GPU is present)."""
    return torch._C._dispatch_has_kernel_for_dispatch_key("torchauc::pairwise_auc_loss", "CUDA")


__all__ = ["functional", "losses", "reference", "cuda_available", "__version__"]

# ---- exact AUROC metrics (issue 3)
from . import metrics  # noqa: E402

__all__.append("metrics")
