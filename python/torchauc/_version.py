"""The version: a base release plus a local label naming the torch the compiled library is bound to
(``0.2.0+torch2.13.cpu``, ``0.2.0+torch2.13.cu130``), as torch extensions do. Used by the build
(tools/build_meta.py, which also pins ``torch==2.13.*`` in the wheel's Requires-Dist) and at run time."""

from __future__ import annotations

BASE = "0.2.0"


def torch_minor(torch_version: str) -> str:
    """``'2.13.0+cpu'`` -> ``'2.13'``."""
    return ".".join(torch_version.split("+")[0].split(".")[:2])


def local_label(torch_version: str, cuda: str | None) -> str:
    """``torch2.13.cpu`` or ``torch2.13.cu130`` (CUDA 13.0)."""
    return f"torch{torch_minor(torch_version)}." + (f"cu{cuda.replace('.', '')}" if cuda else "cpu")


def version(torch_version: str, cuda: str | None) -> str:
    return f"{BASE}+{local_label(torch_version, cuda)}"
