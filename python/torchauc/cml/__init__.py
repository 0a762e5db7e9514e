"""Collaborative metric learning for recommendation: CML, DPCML (K vectors per user) and SFCML
(sampling-free), with device-side negative sampling and full-catalogue evaluation.

Functional losses (:func:`triplet_loss`, :func:`dcrs`, :func:`sfcml_loss`), models
(:class:`DPCML`, :class:`SFCML`), sampling (:func:`sample_negatives`, :func:`triplets`), data
(:mod:`.data`) and :func:`evaluate`."""

from . import data
from .evaluate import evaluate
from .losses import csr_rows, dcrs, sfcml_loss, triplet_loss
from .models import DPCML, SFCML
from .sampling import sample_negatives, triplets

__all__ = [
    "triplet_loss",
    "dcrs",
    "sfcml_loss",
    "csr_rows",
    "DPCML",
    "SFCML",
    "sample_negatives",
    "triplets",
    "evaluate",
    "data",
]
