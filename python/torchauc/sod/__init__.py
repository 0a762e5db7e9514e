"""Size-invariant salient object detection (Li et al., ICML 2024; Ferry-Li/SI-SOD): the frames of
the ground truth (:func:`frames`), the SI loss (:func:`si_loss`, :class:`SILoss`) and the SI metrics
(:func:`si_metrics`, :class:`SIMetrics`, in :mod:`torchauc.sod.metrics`)."""

from . import metrics
from .frames import MAX_FRAMES, Frames, frames
from .loss import SILoss, plain_loss, si_loss
from .metrics import SIMetrics, si_metrics

__all__ = ["frames", "Frames", "MAX_FRAMES", "si_loss", "plain_loss", "SILoss", "metrics", "si_metrics", "SIMetrics"]
