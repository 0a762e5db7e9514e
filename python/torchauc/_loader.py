"""Loads the compiled ops library (a plain shared object: no Python C API, so no Python headers are
needed to build it). Searching the package's __path__ also covers editable installs."""

import os

import torch

_LOADED = False


def load_ops() -> None:
    global _LOADED
    if _LOADED:
        return
    from . import __path__ as pkg_path

    for folder in pkg_path:
        for name in sorted(os.listdir(folder)):
            if name.startswith("_C") and name.endswith(".so"):
                torch.ops.load_library(os.path.join(folder, name))
                _LOADED = True
                return
    raise ImportError(
        "torchauc: compiled library _C*.so not found next to the package in "
        f"{list(pkg_path)}; build it with `pip install --no-build-isolation .`"
    )
