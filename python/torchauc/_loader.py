"""Loads the compiled ops library (a plain shared object: no Python C API, so no Python headers are
needed to build it). Searching the package's __path__ also covers editable installs.

The library is bound to the torch it was built against: before loading it, the torch that runs is
checked against the build's (``_build_info.json``, written by CMake beside the library), so a
mismatch is a clear ImportError instead of undefined symbols."""

from __future__ import annotations

import json
import os
from typing import Any

import torch

from ._version import torch_minor

_LOADED = False
_BUILD_INFO: dict[str, Any] = {}


def _find(suffix_ok) -> str | None:
    from . import __path__ as pkg_path

    for folder in pkg_path:
        for name in sorted(os.listdir(folder)):
            if suffix_ok(name):
                return os.path.join(folder, name)
    return None


def read_build_info() -> dict[str, Any]:
    """The build's record (torch, CUDA, architectures, compilers, OpenMP); {} when absent."""
    if not _BUILD_INFO:
        path = _find(lambda n: n == "_build_info.json")
        if path is not None:
            with open(path) as f:
                _BUILD_INFO.update(json.load(f))
    return _BUILD_INFO


def check_torch(built: dict[str, Any], torch_version: str, torch_cuda: str | None) -> None:
    """Raises ImportError when a library built as ``built`` cannot run under this torch: another
    major.minor (the C++ ABI of libtorch changes between minors), or CUDA kernels under a CPU torch."""
    if not built:
        return
    want = torch_minor(built["torch"])
    kind = f"CUDA {built['cuda']}" if built.get("cuda") else "CPU"
    if torch_minor(torch_version) != want or (built.get("cuda") and not torch_cuda):
        raise ImportError(
            f"torchauc was built against torch {built['torch']} ({kind}) but torch {torch_version} "
            f"({'CUDA ' + torch_cuda if torch_cuda else 'CPU'}) is installed; its compiled library works only with "
            f"torch {want}.*. Install torch=={want}.* (`pip install 'torch=={want}.*'`), or a torchauc wheel built "
            "for this torch, or build torchauc from source against it (`pip install --no-build-isolation .`)."
        )


def load_ops() -> None:
    global _LOADED
    if _LOADED:
        return
    check_torch(read_build_info(), torch.__version__, torch.version.cuda)
    lib = _find(lambda n: n.startswith("_C") and n.endswith(".so"))
    if lib is None:
        from . import __path__ as pkg_path

        raise ImportError(
            "torchauc: compiled library _C*.so not found next to the package in "
            f"{list(pkg_path)}; build it with `pip install --no-build-isolation .`"
        )
    torch.ops.load_library(lib)
    _LOADED = True
