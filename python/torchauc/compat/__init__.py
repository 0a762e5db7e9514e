"""Drop-ins that keep another library's class names, constructor arguments and call signatures:
``torchauc.compat.libauc`` for LibAUC 2.0.1 and ``torchauc.compat.xcurve`` for XCurve 1.1.0."""

from . import libauc, xcurve  # noqa: F401
