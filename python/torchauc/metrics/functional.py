"""Every functional metric, re-exported from its family (torchauc.auroc)."""

from ..auroc import functional as _auroc
from ..auroc.functional import *  # noqa: F403

__all__ = [name for name in _auroc.__all__ if name != "UndefinedMetricWarning"]
