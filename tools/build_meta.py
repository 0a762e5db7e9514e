"""scikit-build-core metadata plugin (pyproject.toml [tool.scikit-build.metadata.*]): the version and
the dependencies of the wheel follow the torch it is built against (the build runs without isolation,
in the environment that has that torch): ``0.2.0+torch2.13.cpu`` requiring ``torch==2.13.*``."""

from __future__ import annotations

import runpy
from pathlib import Path

_V = runpy.run_path(str(Path(__file__).resolve().parents[1] / "python" / "torchauc" / "_version.py"))


def dynamic_metadata(field, settings=None):
    try:
        import torch
    except ImportError:  # an isolated build: CMake stops it with the message that says what to do
        torch = None
    if field == "version":
        return _V["BASE"] if torch is None else _V["version"](torch.__version__, torch.version.cuda)
    if field == "dependencies":
        pin = "torch" if torch is None else f"torch=={_V['torch_minor'](torch.__version__)}.*"
        return [pin, "numpy"]
    raise ValueError(f"tools/build_meta.py provides version and dependencies, not {field!r}")
