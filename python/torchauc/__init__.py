"""torchauc: exact, fast C++/CUDA AUC-family losses and metrics for PyTorch.

One module per method family (:mod:`.pairwise`, :mod:`.partial_auc`, :mod:`.multiclass`,
:mod:`.auroc`, :mod:`.memory_bank`, :mod:`.cml`, :mod:`.sod`, ...); :mod:`.functional`,
:mod:`.losses` and :mod:`.metrics` re-export them. The pure-PyTorch references
(:mod:`torchauc.reference`) are not imported here."""

from __future__ import annotations

from typing import Any

import torch

from . import _version
from ._loader import load_ops as _load_ops
from ._loader import read_build_info as _read_build_info

_load_ops()

from . import (  # noqa: E402  # noqa: E402
    _ops,  # noqa: E402,F401  (fake impls and autograd of every op)
    adauc,
    adversarial,
    auprc,
    auroc,
    autkc,
    cml,
    compat,
    functional,
    libauc_compat,
    losses,
    memory_bank,
    metrics,
    multiclass,
    open_auc,
    openworld,
    optim,
    pairwise,
    partial_auc,
    sod,
)
from .memory_bank import TMemoryBank  # noqa: E402

_built = _read_build_info()
# the installed wheel's version (0.2.0+torch2.13.cpu); a source tree without a build: the base release
__version__: str = _version.version(_built["torch"], _built.get("cuda")) if _built else _version.BASE


def build_info() -> dict[str, Any]:
    """What the compiled library was built with: ``version``, ``torch`` (the version it is bound to),
    ``cuda`` (None for a CPU build), ``cuda_architectures``, ``compiler``, ``cuda_compiler``,
    ``openmp``, ``cxx11_abi``, ``build_type``, and whether CUDA kernels are in (``cuda_kernels``).

    >>> import torchauc
    >>> info = torchauc.build_info()
    >>> info["torch"].split("+")[0] == torch.__version__.split("+")[0]
    True
    """
    info: dict[str, Any] = {"version": __version__, **_built}
    if not info.get("cuda_compiler", "").strip() or not info.get("cuda"):
        info["cuda_compiler"] = None
    info["cuda_kernels"] = cuda_available()
    return info


def op_names() -> list[str]:
    """Names of every torch.ops.torchauc op in this build."""
    names = torch._C._dispatch_get_all_op_names()
    return sorted({n.split("::")[1].split(".")[0] for n in names if n.startswith("torchauc::")})


def cuda_available() -> bool:
    """True when every op has a CUDA kernel in this install (not whether a GPU is present)."""
    return all(torch._C._dispatch_has_kernel_for_dispatch_key(f"torchauc::{n}", "CUDA") for n in op_names())


__all__ = [
    "adauc",
    "adversarial",
    "pairwise",
    "partial_auc",
    "multiclass",
    "auroc",
    "memory_bank",
    "cml",
    "sod",
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
    "build_info",
    "__version__",
    "openworld",
]
