"""torchauc: exact, fast C++/CUDA AUC-family losses and metrics for PyTorch.

One module per method family (:mod:`.pairwise`, :mod:`.partial_auc`, :mod:`.multiclass`,
:mod:`.auroc`, :mod:`.memory_bank`); :mod:`.functional`, :mod:`.losses` and :mod:`.metrics` re-export
them. The pure-PyTorch references (:mod:`torchauc.reference`) are not imported here."""

import torch

from ._loader import load_ops as _load_ops

_load_ops()

from . import (  # noqa: E402  # noqa: E402
    _ops,  # noqa: E402,F401  (fake impls and autograd of every op)
    auprc,
    auroc,
    autkc,
    compat,
    functional,
    libauc_compat,
    losses,
    memory_bank,
    metrics,
    multiclass,
    open_auc,
    optim,
    pairwise,
    partial_auc,
)
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
    "pairwise",
    "partial_auc",
    "multiclass",
    "auroc",
    "memory_bank",
    "autkc",
    "open_auc",
    "auprc",
    "functional",
    "losses",
    "metrics",
    "optim",
    "compat",
    "libauc_compat",
    "TMemoryBank",
    "cuda_available",
    "op_names",
    "__version__",
]
