"""The benchmark suite, installed with the package: ``python -m torchauc.bench --help``.

One module per family, ``bench_<family>.py``, with ``cases(device, quick)`` returning
:class:`~torchauc.bench.harness.Case` objects (ours and named baselines, timed in the same process);
:mod:`.run` is the command, :mod:`.plot` draws the figures. Baselines (scikit-learn, torchmetrics,
XCurve, LibAUC) are optional: a missing one is left out of the table."""

from .harness import Case
from .run import families, main

__all__ = ["Case", "families", "main"]
