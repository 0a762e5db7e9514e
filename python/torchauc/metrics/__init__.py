"""Every metric, re-exported: ``torchauc.metrics.functional`` (functional forms) and the stateful
classes. The AUROC family lives in :mod:`torchauc.auroc`."""

from ..auroc import modules as _modules
from ..auroc.functional import UndefinedMetricWarning
from ..auroc.modules import *  # noqa: F403
from . import functional

__all__ = ["functional", *_modules.__all__, "UndefinedMetricWarning"]
