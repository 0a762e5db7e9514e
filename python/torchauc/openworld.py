r"""Open-world prompt tuning: the GMoP training loss (Hua, Xu, Yang, Wang, Bao, Huang, "OpenworldAUC",
ICML 2025; repo huacong/OpenworldAUC). The OpenworldAUC metric and the Opt-a / Opt-g metrics of the
AAAI-26 follow-up are in :mod:`torchauc.auroc` (``openworld_auroc``, ``openworld_aurocs``).

Conventions. ``labels`` are base-class ids in [0, C). Detector k (of K) treats the classes with
``j % K != k`` as in-distribution and the held-out classes ``j % K == k`` as pseudo-new; its logits
have one column per in-distribution class, in class order.
"""

from collections.abc import Sequence

import torch
import torch.nn.functional as F
from torch import nn

from ._core import distributed as D
from ._core import validate as V
from .pairwise import pairwise_auc_loss


def _detector_targets(labels, k, K):
    """Detector k's pseudo-labels: the column of the sample's class among {j : j % K != k}, -1 if held out."""
    held_out = labels % K == k
    below = torch.clamp_min(torch.div(labels - k, K, rounding_mode="floor") + 1, 0)  # #{j <= y : j % K == k}
    return torch.where(held_out, torch.full_like(labels, -1), labels - below), held_out


def gmop_loss(
    logits: torch.Tensor,
    detector_logits: Sequence[torch.Tensor],
    labels: torch.Tensor,
    clip_logits: torch.Tensor,
    *,
    alpha: float = 0.5,
    lam: float = 1.0,
    process_group: "torch.distributed.ProcessGroup | None" = None,
) -> torch.Tensor:
    r"""The GMoP training loss of one batch (official ``models/GMoP.py``), without pair matrices.

    .. math::
        L = \mathrm{CE}(z, y) + \frac{\alpha}{K}\sum_k \mathrm{CE}(d_k, \tilde y_k; \text{ignore } {-1})
            + \frac{\lambda}{K}\sum_k \frac{1}{n^k_+ n^k_-}\sum_{p \in ID_k}\sum_{q \in OOD_k}
              w_p\, v_q\, (1 - (r^k_p - r^k_q))^2

    with r^k = max softmax(d_k) (detector k's in-distribution score), w = sigmoid(softmax(z)[y])
    (differentiable, as in the official code, where the CoOp branch is not detached) and
    v = sigmoid(softmax(clip_logits)[y]) (zero-shot CLIP, no gradient). The AUC term of each
    detector is the rank-1 weighted square pairwise loss, O(n) through
    :func:`torchauc.pairwise.pairwise_auc_loss` (the official code builds the n+ x n- matrix).

    Args:
        logits: (B, C) CoOp logits over the C base classes.
        detector_logits: sequence of K tensors, the k-th (B, C_k) over the classes j % K != k.
        labels: (B,) integer base-class ids in [0, C).
        clip_logits: (B, C) zero-shot CLIP logits (detached here).
        alpha: weight of the detectors' cross-entropy (official: 1.0 on ImageNet, 0.5 elsewhere).
        lam: weight of the AUC term (official: 1).
        process_group: None (this rank's batch) or a torch.distributed group: the loss of the global
            batch (its pairs couple samples of different ranks): logits, detector logits, labels and
            CLIP logits are all-gathered once (autograd-aware, each rank gets the gradient of its rows).

    A detector whose batch has no in-distribution (or no held-out) sample contributes 0 to its CE
    (or AUC) term; the official code gives NaN there (mean over an empty set).
    """
    V.tensor(logits, "logits")
    V.tensor(labels, "labels")
    V.tensor(clip_logits, "clip_logits")
    alpha, lam = V.finite_float(alpha, "alpha"), V.finite_float(lam, "lam")
    if logits.dim() != 2:
        raise ValueError(f"logits must have shape (B, C), got {tuple(logits.shape)}")
    B, C = logits.shape
    if labels.shape != (B,) or labels.is_floating_point() or labels.dtype == torch.bool:
        raise ValueError(f"labels must be an integer tensor of shape ({B},), got {labels.dtype} {tuple(labels.shape)}")
    if clip_logits.shape != logits.shape:
        raise ValueError(
            f"clip_logits must have the shape of logits {tuple(logits.shape)}, got {tuple(clip_logits.shape)}"
        )
    if isinstance(detector_logits, torch.Tensor) or not len(detector_logits):
        raise TypeError("detector_logits must be a non-empty sequence of (B, C_k) tensors, one per detector")
    K = len(detector_logits)
    if D.check_group(process_group) is not None:
        logits, labels, clip_logits, *detector_logits = D.gather_batch(
            process_group, logits, labels, clip_logits, *detector_logits
        )
        B = logits.shape[0]
    for k, d in enumerate(detector_logits):
        width = C - len(range(k, C, K))
        V.tensor(d, f"detector_logits[{k}]")
        if d.shape != (B, width):
            raise ValueError(f"detector_logits[{k}] must have shape ({B}, {width}) (the classes j % {K} != {k}), "
                             f"got {tuple(d.shape)}")  # fmt: skip
    y = labels.long()
    V.index_range(y, C, f"labels must be class ids in [0, {C})")
    rows = torch.arange(B, device=y.device)
    ce = F.cross_entropy(logits, y)  # raises on out-of-range labels
    w = torch.sigmoid(torch.softmax(logits, 1)[rows, y])
    with torch.no_grad():
        v = torch.sigmoid(torch.softmax(clip_logits.detach(), 1)[rows, y]).to(w.dtype)
    ce_det = auc = 0
    for k, d in enumerate(detector_logits):  # K (3) detectors of different widths
        target, held_out = _detector_targets(y, k, K)
        n_ood = held_out.sum()
        n_id = B - n_ood
        ce_det = ce_det + F.cross_entropy(d, target, ignore_index=-1, reduction="sum") / torch.clamp_min(n_id, 1)
        r = torch.softmax(d, 1).max(1).values
        pair_sum = pairwise_auc_loss(r, ~held_out, surrogate="square", margin=1.0, pos_weights=w, neg_weights=v,
                                     reduction="sum")  # fmt: skip
        auc = auc + pair_sum / torch.clamp_min(n_id * n_ood, 1)
    return ce + alpha * ce_det / K + lam * auc / K


class GMoPLoss(nn.Module):
    """Module form of :func:`gmop_loss`: ``forward(logits, detector_logits, labels, clip_logits)``."""

    def __init__(
        self,
        num_detectors: int = 3,
        *,
        alpha: float = 0.5,
        lam: float = 1.0,
        process_group: "torch.distributed.ProcessGroup | None" = None,
    ) -> None:
        super().__init__()
        self.process_group: torch.distributed.ProcessGroup | None = process_group
        if isinstance(num_detectors, bool) or not isinstance(num_detectors, int) or num_detectors < 1:
            raise ValueError(f"num_detectors must be a positive int, got {num_detectors!r}")
        self.num_detectors: int = num_detectors
        self.alpha: float = V.finite_float(alpha, "alpha")
        self.lam: float = V.finite_float(lam, "lam")

    def forward(
        self,
        logits: torch.Tensor,
        detector_logits: Sequence[torch.Tensor],
        labels: torch.Tensor,
        clip_logits: torch.Tensor,
    ) -> torch.Tensor:
        if len(detector_logits) != self.num_detectors:
            raise ValueError(f"detector_logits must hold num_detectors = {self.num_detectors} tensors, "
                             f"got {len(detector_logits)}")  # fmt: skip
        return gmop_loss(
            logits,
            detector_logits,
            labels,
            clip_logits,
            alpha=self.alpha,
            lam=self.lam,
            process_group=self.process_group,
        )

    def extra_repr(self) -> str:
        return f"num_detectors={self.num_detectors}, alpha={self.alpha}, lam={self.lam}"


__all__ = ["gmop_loss", "GMoPLoss"]
