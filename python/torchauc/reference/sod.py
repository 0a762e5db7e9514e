"""Reference of the size-invariant SOD family: the official per-image formulation of Ferry-Li/SI-SOD
and Ferry-Li/SI_Metric, re-implemented (the frames preprocessing with scikit-image, the ``SILoss``
loop over images and frames with its bitmask decoding and numpy round trips, the per-image metric
loops with 100 full-image passes per frame). Test oracle and benchmark baseline; slow on purpose.
"""

import math

import numpy as np
import torch
import torch.nn.functional as F

# ---------------------------------------------------------------- frames (generate_weight.py)


def flood_fill_labels(mask, connectivity: int = 4):
    """Brute-force component labels of a bool (H, W) array, numbered in raster order of the first
    pixel (scikit-image's order): an oracle that does not need scikit-image."""
    h, w = mask.shape
    lab = np.zeros((h, w), dtype=np.int64)
    steps = [(0, 1), (1, 0), (0, -1), (-1, 0)]
    if connectivity == 8:
        steps += [(1, 1), (1, -1), (-1, 1), (-1, -1)]
    n = 0
    for y in range(h):
        for x in range(w):
            if not mask[y, x] or lab[y, x]:
                continue
            n += 1
            lab[y, x] = n
            todo = [(y, x)]
            while todo:
                cy, cx = todo.pop()
                for dy, dx in steps:
                    yy, xx = cy + dy, cx + dx
                    if 0 <= yy < h and 0 <= xx < w and mask[yy, xx] and not lab[yy, xx]:
                        lab[yy, xx] = n
                        todo.append((yy, xx))
    return lab


def official_frames(
    mask: "torch.Tensor | np.ndarray",
    min_area: int = 25,
    connectivity: int = 4,
    threshold: float = 0.5,
    labeler: str = "skimage",
):
    """One image's frames as the official preprocessing finds them: components of ``mask >
    threshold`` (``skimage.measure.label`` + ``regionprops``, or the flood fill), those of at least
    ``min_area`` pixels kept (the first when none is), renumbered; returns (labels (H, W) int,
    boxes [[x0, y0, x1, y1), ...])."""
    fg = np.asarray(mask) > threshold
    if labeler == "skimage":
        from skimage import measure

        labeled = measure.label(fg, connectivity=1 if connectivity == 4 else 2, background=0)
    else:
        labeled = flood_fill_labels(fg, connectivity)
    ids = [i for i in range(1, int(labeled.max()) + 1)]
    areas = {i: int((labeled == i).sum()) for i in ids}
    kept = [i for i in ids if areas[i] >= min_area]
    if not kept and ids:
        kept = [ids[0]]
    out = np.zeros_like(labeled)
    boxes = []
    for new, old in enumerate(kept, start=1):
        rows, cols = np.where(labeled == old)
        out[labeled == old] = new
        boxes.append([int(cols.min()), int(rows.min()), int(cols.max()) + 1, int(rows.max()) + 1])
    return out, boxes


def weight_map(boxes, counts, h, w) -> torch.Tensor:
    """The official per-pixel bitmask (``compute_weight``): frame k adds 2^k over its box. (B, H, W)
    float64."""
    b = boxes.shape[0]
    out = torch.zeros(b, h, w, dtype=torch.float64)
    for i in range(b):
        for k in range(int(counts[i])):
            x0, y0, x1, y1 = (int(v) for v in boxes[i, k])
            out[i, y0:y1, x0:x1] += 2.0**k
    return out


# ---------------------------------------------------------------- SI loss (src/loss/SI_loss.py)


def bce_loss(inputs: torch.Tensor, targets: torch.Tensor) -> torch.Tensor:
    return F.binary_cross_entropy(inputs, targets)


def dice_loss(inputs: torch.Tensor, targets: torch.Tensor):
    inter = (inputs * targets).sum()
    return 1 - (2 * inter + 1e-5) / (inputs.sum() + targets.sum() + 1e-5)


CRITERIA = {"bce": [bce_loss], "dice": [dice_loss], "bce+dice": [bce_loss, dice_loss]}


def _bit(weight, k):
    """Bit k (1-based) of the bitmask, as the official KthBit."""
    return (weight.int() >> (k - 1)) & 1


def _per_image_ds_loss(criterion, pred, gt):
    """The official per-image deep-supervision loss: every criterion on every channel, summed."""
    total = torch.tensor(0)
    for fn in criterion:
        for c in range(pred.shape[0]):
            total = total + fn(pred[c], gt)
    return total


def official_si_loss(pred: torch.Tensor, gt: torch.Tensor, weight, criterion) -> torch.Tensor:
    """The official ``SILoss.__call__``: pred (B, C, H, W) probabilities, gt (B, H, W), weight (B, H, W)
    bitmask; a Python loop over images and frames, each frame's box recovered from the bitmask with
    a numpy round trip."""
    b, h, w = gt.shape
    loss = torch.zeros((), dtype=pred.dtype)
    for i in range(b):
        image_loss = torch.zeros((), dtype=pred.dtype)
        top = torch.max(weight[i])
        k_num = int(math.log(float(top), 2)) + 1 if top > 0 else 0
        if k_num < 1:
            loss = loss + _per_image_ds_loss(criterion, pred[i], gt[i])
            continue
        bg = weight[i] == 0
        n_bg = torch.sum(bg).to(pred.dtype)  # the official int sum makes alpha float32; pred's dtype here
        alpha = n_bg / (h * w - n_bg)
        if n_bg != 0:
            bg_loss = torch.sum((bg * pred[i].mean(dim=0) - bg * gt[i]) ** 2) / n_bg
        else:
            bg_loss = torch.zeros((), dtype=pred.dtype)
        bg_loss = bg_loss * alpha
        for k in range(1, k_num + 1):
            frame = (_bit(weight[i], k) == 1).int()
            if np.sum(frame.cpu().numpy() > 0) == 0:
                continue
            rows, cols = np.where(frame.cpu().numpy() > 0)
            x0, x1, y0, y1 = cols.min(), cols.max(), rows.min(), rows.max()
            image_loss = image_loss + _per_image_ds_loss(
                criterion, pred[i, :, y0 : y1 + 1, x0 : x1 + 1], gt[i, y0 : y1 + 1, x0 : x1 + 1]
            )
        loss = loss + image_loss + bg_loss
    return loss / b


# ---------------------------------------------------------------- SI metrics (src/criterions/metrics.py)


def _steps(split):
    top = float(torch.max(split))
    return 0 if top == 0 else math.floor(math.log(top, 2) + 1) + 1


def eval_mae(pred: torch.Tensor, gt: torch.Tensor, split, official_denominator: bool = True) -> torch.Tensor | float:
    """Official ``Metric.eval_mae(pred, gt, split, scale=True)``; ``official_denominator=False``
    divides by K + alpha instead of K + 1 + alpha."""
    h, w = pred.shape
    if split is None:
        return torch.abs(pred - gt).mean()
    maes, alpha, is_alpha = [], 0, False
    for step in range(_steps(split)):
        mask = (_bit(split, step) == 1) if step else (split == 0)
        size = torch.sum(mask)
        if torch.sum(mask.int()) == 0:
            continue
        value = torch.sum(torch.abs(pred * mask - gt * mask)) / size
        if step == 0 and size < h * w:
            alpha = size / (h * w - size)
            value = alpha * value
            is_alpha = True
        maes.append(value)
    if not maes:
        return torch.abs(pred - gt).mean()
    if is_alpha:
        return sum(maes) / (len(maes) + alpha - (0 if official_denominator else 1))
    return sum(maes) / len(maes)


def _region(split, step, official_match):
    return (split == step) if official_match else (_bit(split, step) == 1)


def _roc(pred, gt, num=100):
    tpr, fpr = torch.zeros(num), torch.zeros(num)
    thresholds = torch.linspace(0, 1 - 1e-20, num)
    for i in range(num):
        y = (pred >= thresholds[i]).float()
        tp, fp = (y * gt).sum(), (y * (1 - gt)).sum()
        tn, fn = ((1 - y) * (1 - gt)).sum(), ((1 - y) * gt).sum()
        tpr[i], fpr[i] = tp / (tp + fn + 1), fp / (fp + tn + 1)
    order = torch.argsort(fpr)  # not stable: the tie order is the CPU sort's
    return torch.trapz(tpr[order], fpr[order])


def eval_auc(pred: torch.Tensor, gt: torch.Tensor, split=None, official_match: bool = True) -> float | torch.Tensor:
    """Official ``Metric.eval_auc`` (``official_match``: the equality test ``split == step``)."""
    if split is not None:
        aucs = []
        for step in range(1, _steps(split)):
            mask = _region(split, step, official_match)
            if torch.sum(mask.int()) == 0:
                continue
            aucs.append(_roc(pred * mask, gt * mask))
        if aucs:
            return sum(aucs) / len(aucs)
    return _roc(pred, gt)


def _f_curve(pred, gt, num=100):
    prec, rec = torch.zeros(num, dtype=float), torch.zeros(num, dtype=float)
    thresholds = torch.linspace(0, 1, num)
    for i in range(num):
        y = (pred >= thresholds[i]).float()
        tp = (y * gt).sum()
        prec[i], rec[i] = tp / (y.sum() + 1), tp / (gt.sum() + 1)
    f = 1.3 * prec * rec / (0.3 * prec + rec)
    f[f != f] = 0
    return f


def eval_f(pred: torch.Tensor, gt: torch.Tensor, split=None, official_match: bool = True):
    """Official ``Metric.eval_F_mean``: (mean F, max F), per frame then averaged when split is given."""
    pred = (pred - torch.min(pred) + 1e-20) / (torch.max(pred) - torch.min(pred) + 1e-20)
    if split is not None:
        means, maxes = [], []
        for step in range(1, _steps(split)):
            mask = _region(split, step, official_match)
            if torch.sum(mask.int()) == 0:
                continue
            f = _f_curve(pred * mask, gt * mask)
            means.append(f.mean())
            maxes.append(f.max())
        if means:
            return sum(means) / len(means), sum(maxes) / len(maxes)
    f = _f_curve(pred, gt)
    return f.mean(), f.max()


def official_si_metrics(
    pred: torch.Tensor, gt: torch.Tensor, weight, official_match: bool = True, official_denominator: bool = True
):
    """Per-image metrics of a batch, one image at a time as the official evaluator: a dict of (B,)
    float64 tensors with the keys of torchauc.sod.metrics.KEYS."""
    rows = []
    for i in range(pred.shape[0]):
        p, g, s = pred[i], gt[i], weight[i]
        mean_f, max_f = eval_f(p, g)
        si_mean_f, si_max_f = eval_f(p, g, s, official_match)
        rows.append(
            [
                eval_mae(p, g, None),
                eval_mae(p, g, s, official_denominator),
                eval_auc(p, g),
                eval_auc(p, g, s, official_match),
                mean_f,
                max_f,
                si_mean_f,
                si_max_f,
            ]
        )
    keys = ("mae", "si_mae", "auc", "si_auc", "mean_f", "max_f", "si_mean_f", "si_max_f")
    table = torch.tensor([[float(v) for v in row] for row in rows], dtype=torch.float64).view(-1, len(keys))
    return dict(zip(keys, table.unbind(1)))


# ---------------------------------------------------------------- data


def random_masks(b, h, w, max_objects: int = 12, seed: int = 0, noise: bool = True) -> torch.Tensor:
    """(B, H, W) float32 0/1 masks with 1..max_objects elliptic and rectangular objects of varied
    size (some touching or overlapping), plus a few specks smaller than the official min_area."""
    g = torch.Generator().manual_seed(seed)
    yy, xx = torch.meshgrid(torch.arange(h), torch.arange(w), indexing="ij")
    out = torch.zeros(b, h, w)
    for i in range(b):
        for _ in range(int(torch.randint(1, max_objects + 1, (), generator=g))):
            cy, cx = int(torch.randint(h, (), generator=g)), int(torch.randint(w, (), generator=g))
            ry = int(torch.randint(1, max(2, h // 6), (), generator=g))
            rx = int(torch.randint(1, max(2, w // 6), (), generator=g))
            if torch.rand((), generator=g) < 0.5:
                shape = ((yy - cy) / ry) ** 2 + ((xx - cx) / rx) ** 2 <= 1
            else:
                shape = ((yy - cy).abs() <= ry) & ((xx - cx).abs() <= rx)
            out[i][shape] = 1
        if noise:
            for _ in range(int(torch.randint(0, 4, (), generator=g))):
                y, x = int(torch.randint(h, (), generator=g)), int(torch.randint(w, (), generator=g))
                out[i, y : y + 2, x : x + 2] = 1
    return out
