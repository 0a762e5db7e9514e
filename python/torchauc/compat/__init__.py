"""Drop-ins that keep another library's class names, constructor arguments and call signatures:
``torchauc.compat.libauc`` for LibAUC 2.0.1 (``torchauc.compat.xcurve`` will follow)."""

from . import libauc  # noqa: F401
