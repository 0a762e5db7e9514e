"""Every functional metric, re-exported from its family (torchauc.auroc, torchauc.autkc)."""

from ..auroc import functional as _auroc
from ..auroc.functional import *  # noqa: F403
from ..autkc import autkc, topk_accuracy

__all__ = [name for name in _auroc.__all__ if name != "UndefinedMetricWarning"]
__all__ += ["autkc", "topk_accuracy"]
