"""Size-invariant SOD metrics (SIEva, Li et al., ICML 2024): SI-MAE, SI-AUC, SI-F (mean and max),
and the plain MAE, AUC and F-measure, all from one op that builds per-(image, frame) threshold
histograms and MAE sums in one pass; the curves come from cumulative sums of the histograms.

The definitions are those of the official code (Ferry-Li/SI-SOD ``src/criterions/metrics.py`` =
Ferry-Li/SI_Metric ``metrics.py``), per image, then averaged over images:

* MAE: mean ``|p - g|``. SI-MAE: ``(sum_k MAE_k + alpha MAE_bg) / (K + alpha)`` with MAE_k over frame k,
  MAE_bg over the pixels in no frame, ``alpha = |bg| / (HW - |bg|)``; ``mae_denominator="official"``
  divides by the official ``K + 1 + alpha`` instead.
* AUC: 100 thresholds ``linspace(0, 1, 100)``, ``TPR = tp / (tp + fn + 1)``, ``FPR = fp / (fp + tn
  + 1)``, trapezoid over the points sorted by FPR (the official, unstable ``torch.argsort``;
  ``official_roc_order=False``: threshold order). SI-AUC: the mean over frames of that AUC
  computed on the whole image with the pixels outside the frame zeroed (prediction and target), as
  the official code does.
* F: the prediction min-max normalised per image, ``P = tp / (pred. positives + 1)``, ``R = tp /
  (positives + 1)``, ``F = 1.3 P R / (0.3 P + R)`` (NaN -> 0), mean and max over the thresholds.
  SI-F: their means over frames, frames zeroed outside as for SI-AUC.

Frame membership is the bit test (pixel inside box k), as SI-MAE and PySODMetrics use it;
``official_frame_match=True`` reproduces the official SI-AUC / SI-F region ``weight == k`` (an exact
match on the bitmask: regions 1, 2, 3 are object 1 alone, object 2 alone, and their overlap; object k
>= 3 only counts when K reaches 2^(k-1)). Images without frames score the plain metric.
"""

from typing import Any

import torch

from .._core import options as O
from .._core import validate as V
from .frames import Frames, _frame_args, _masks

KEYS = ("mae", "si_mae", "auc", "si_auc", "mean_f", "max_f", "si_mean_f", "si_max_f")
_TARGET_SCALE = 2.0**24  # fixed point of the histograms' target sums (csrc/sod/math.h)


def _thresholds(num, device):
    if isinstance(num, bool) or not isinstance(num, int) or num < 2:
        raise ValueError(f"thresholds must be an int >= 2, got {num!r}")
    return torch.linspace(0, 1, num, device=device)  # float32, as the official torch.linspace


def si_metrics(
    pred: torch.Tensor,
    target: torch.Tensor,
    frames: "Frames | tuple[torch.Tensor, torch.Tensor]",
    *,
    official_frame_match: bool = False,
    mae_denominator: str = "natural",
    official_roc_order: bool = True,
    thresholds: int = 100,
) -> dict[str, Any]:
    """Per-image SOD metrics of a batch: a dict of (B,) float64 tensors keyed by :data:`KEYS`.

    Args:
        pred: (B, H, W) or (B, 1, H, W) saliency scores in [0, 1].
        target: (B, H, W) or (B, 1, H, W) ground truth in [0, 1].
        frames: a :class:`~torchauc.sod.Frames` (or a ``(boxes, counts)`` pair) of the batch.
        official_frame_match: the official equality test for the SI-AUC / SI-F regions (see the module).
        mae_denominator: ``"natural"`` (K + alpha) or ``"official"`` (K + 1 + alpha).
        official_roc_order: True (default) sorts the ROC points as the official code, with
            ``torch.argsort`` of FPR on the CPU (unstable: within a group of equal FPR the order, and so
            the area, depends on that sort); False takes them in threshold order (the staircase ROC).
        thresholds: number of thresholds of the curves (official 100).
    """
    pred = _masks(pred, "pred")
    if not pred.is_floating_point():
        raise TypeError(f"pred must be floating point, got {pred.dtype}")
    target = _masks(target, "target")
    if target.shape != pred.shape:
        raise ValueError(f"target must have pred's shape {tuple(pred.shape)}, got {tuple(target.shape)}")
    V.option(mae_denominator, O.MAE_DENOMINATOR)
    official_frame_match = bool(official_frame_match)
    boxes, counts = _frame_args(frames, pred.shape[0], pred.device)
    thr = _thresholds(thresholds, pred.device)
    b, h, w = pred.shape
    hw = float(h * w)
    # the official F normalisation, in pred's dtype
    lo, hi = pred.amin((1, 2), keepdim=True), pred.amax((1, 2), keepdim=True)
    pred_norm = (pred - lo + 1e-20) / (hi - lo + 1e-20)
    hist, sums = torch.ops.torchauc.sod_frame_stats(pred, pred_norm, target, boxes, counts, thr, official_frame_match)
    k = boxes.shape[1]
    n = hist[..., 0].double()  # (B, R, 2, T + 1): pixels per bin
    gs = hist[..., 1].double() / _TARGET_SCALE
    area, pos = n[:, :, 0].sum(-1), gs[:, :, 0].sum(-1)  # (B, R)
    # passing threshold i: bins > i (suffix sums); the zeroed outside pixels (score 0) pass t_i <= 0
    passed = n.flip(-1).cumsum(-1).flip(-1)[..., 1:] + ((hw - area)[..., None, None] * (thr <= 0))
    tp = gs.flip(-1).cumsum(-1).flip(-1)[..., 1:]
    pos_ = pos[..., None]
    # AUC on the raw scores
    tpr = tp[:, :, 0] / (pos_ + 1)
    fpr = (passed[:, :, 0] - tp[:, :, 0]) / (hw - pos_ + 1)
    if official_roc_order:  # the official torch.argsort of each FPR curve on the CPU, with its tie order
        order = torch.argsort(fpr.cpu(), dim=-1).to(fpr.device)
    else:  # the curve in threshold order
        order = torch.arange(fpr.shape[-1] - 1, -1, -1, device=fpr.device).expand_as(fpr)
    auc = torch.trapezoid(tpr.gather(-1, order), fpr.gather(-1, order), dim=-1)  # (B, R)
    # F on the normalised scores
    prec, rec = tp[:, :, 1] / (passed[:, :, 1] + 1), tp[:, :, 1] / (pos_ + 1)
    f = (1.3 * prec * rec / (0.3 * prec + rec)).nan_to_num(0.0)
    mean_f, max_f = f.mean(-1), f.amax(-1)
    # frames that count: region nonempty and k < counts[b]
    kb = counts.clamp(0, k)
    is_frame = torch.arange(k, device=pred.device) < kb[:, None]
    use = is_frame & (area[:, :k] > 0)
    n_use = use.sum(1)

    def si(v):  # mean over the frames used, the whole-image value when there is none
        m = torch.where(use, v[:, :k], 0).sum(1) / n_use.clamp(min=1)
        return torch.where(n_use > 0, m, v[:, k + 1])

    # SI-MAE from the bit-test sums
    s_area, s_abs = sums[..., 0], sums[..., 2]
    mae = s_abs[:, k + 1] / hw
    frame_ok = is_frame & (s_area[:, :k] > 0)
    mae_sum = torch.where(frame_ok, s_abs[:, :k] / s_area[:, :k].clamp(min=1), 0).sum(1)
    n_mae = frame_ok.sum(1).double()
    n_bg = s_area[:, k]
    mae_bg = s_abs[:, k] / n_bg.clamp(min=1)
    scaled = (n_bg > 0) & (n_bg < hw)
    alpha = torch.where(scaled, n_bg / (hw - n_bg).clamp(min=1), 0)
    mae_sum = mae_sum + torch.where(scaled, alpha * mae_bg, torch.where(n_bg > 0, mae_bg, 0))
    n_entries = n_mae + (n_bg > 0).double()
    if mae_denominator == "official":
        den = n_entries + alpha
    else:
        den = torch.where(scaled, n_mae + alpha, n_entries)
    si_mae = torch.where((kb > 0) & (n_entries > 0), mae_sum / den.clamp(min=1e-300), mae)
    return {
        "mae": mae,
        "si_mae": si_mae,
        "auc": auc[:, k + 1],
        "si_auc": si(auc),
        "mean_f": mean_f[:, k + 1],
        "max_f": max_f[:, k + 1],
        "si_mean_f": si(mean_f),
        "si_max_f": si(max_f),
    }


class SIMetrics:
    """The SI metrics over a data set: ``update(pred, target, frames)`` per batch, ``compute()`` the
    means over every image seen (a dict keyed by :data:`KEYS`), ``reset()``. Options as
    :func:`si_metrics`. The running sums stay on the device; on CUDA the one host round trip per
    batch is the official ROC point order (a CPU sort of the small FPR table; none with
    ``official_roc_order=False``)."""

    def __init__(
        self,
        *,
        official_frame_match: bool = False,
        mae_denominator: str = "natural",
        official_roc_order: bool = True,
        thresholds: int = 100,
    ) -> None:
        V.option(mae_denominator, O.MAE_DENOMINATOR)
        self.options: dict[str, Any] = dict(
            official_frame_match=bool(official_frame_match),
            mae_denominator=mae_denominator,
            official_roc_order=bool(official_roc_order),
            thresholds=thresholds,
        )
        self.reset()

    def reset(self) -> None:
        self._sums: torch.Tensor | None = None
        self._count = 0

    def update(
        self, pred: torch.Tensor, target: torch.Tensor, frames: "Frames | tuple[torch.Tensor, torch.Tensor]"
    ) -> None:
        per_image = si_metrics(pred, target, frames, **self.options)
        batch = torch.stack([per_image[key] for key in KEYS]).sum(1)
        self._sums = batch if self._sums is None else self._sums + batch
        self._count += per_image["mae"].shape[0]

    def compute(self) -> dict[str, torch.Tensor]:
        if not self._count or self._sums is None:  # both set by the first update()
            raise ValueError("SIMetrics.compute() before any update()")
        return dict(zip(KEYS, (self._sums / self._count).unbind(0)))


__all__ = ["si_metrics", "SIMetrics", "KEYS"]
