"""Size-invariant SOD: the SI loss (forward + backward) and the SI metrics, ours vs the official
per-image formulation (torchauc.reference.sod: the official SILoss loop over images and frames with
its bitmask decoding and numpy round trips, and the official metric loops, 100 full-image passes per
frame and threshold curve). Batches of 18 masks at 384^2 with 1-12 objects (EDN's training setting);
the frames are computed once beforehand (the official code reads them from .npy files), and the
frames op itself is timed on its own."""

import torch

from torchauc import sod
from torchauc.reference import sod as ref

from . import harness


def _data(b, h, w, seed):
    masks = ref.random_masks(b, h, w, max_objects=12, seed=seed)
    g = torch.Generator().manual_seed(seed)
    pred = torch.sigmoid(torch.randn(b, 1, h, w, generator=g) + (masks[:, None] - 0.5) * 3)
    fr = sod.frames(masks)
    return pred, masks, fr, ref.weight_map(fr.boxes, fr.counts, h, w).float()


def _loss_case(base, b, h, w, quick, device):
    pred, gt, fr, weight = _data(b, h, w, seed=0)
    p_ours = pred.to(device).requires_grad_()
    gt_d = gt.to(device)
    fr_d = sod.Frames(fr.boxes.to(device), fr.counts.to(device), fr.labels.to(device))
    p_ref = pred.clone().requires_grad_()
    criterion = ref.CRITERIA[base]

    def ours():
        p_ours.grad = None
        loss = sod.si_loss(p_ours, gt_d, fr_d, base=base)
        loss.backward()
        return loss

    def official():
        p_ref.grad = None
        loss = ref.official_si_loss(p_ref, gt, weight, criterion)
        loss.backward()
        return loss

    name = "official SILoss per-image loop" + (" (CPU)" if device != "cpu" else "")
    objects = f"{float(fr.counts.double().mean()):.1f} frames/image"
    return harness.Case("sod", f"si_loss {base} fwd+bwd", f"{b}x{h}^2", ours, {name: official},
                        repeats=5 if quick else 9, note=objects, rtol=1e-4)  # fmt: skip


def _metrics_case(n_images, batch, h, w, quick, device):
    data = [_data(batch, h, w, seed=100 + i) for i in range(n_images // batch)]
    data_d = [
        (p[:, 0].to(device), g.to(device), sod.Frames(f.boxes.to(device), f.counts.to(device), f.labels.to(device)))
        for p, g, f, _ in data
    ]

    def ours():
        acc = sod.SIMetrics(official_frame_match=True, mae_denominator="official")
        for p, g, f in data_d:
            acc.update(p, g, f)
        return acc.compute()["si_auc"]

    def official():
        total, n = 0.0, 0
        for p, g, _, wgt in data:
            total += float(ref.official_si_metrics(p[:, 0], g, wgt)["si_auc"].sum())
            n += p.shape[0]
        return torch.tensor(total / n)

    name = "official metric loops" + (" (CPU)" if device != "cpu" else "")
    return harness.Case("sod", "SI metrics (MAE, AUC, F; plain and SI)", f"{n_images} images {h}^2, batches of {batch}",
                        ours, {name: official}, repeats=3, baseline_repeats=1, rtol=1e-4,
                        note="official_frame_match, official MAE denominator")  # fmt: skip


def _frames_case(b, h, w, device):
    masks = ref.random_masks(b, h, w, max_objects=12, seed=1).to(device)
    return harness.Case("sod", "frames (components + boxes)", f"{b}x{h}^2", lambda: sod.frames(masks).counts, {},
                        repeats=5, rtol=None)  # fmt: skip


def cases(device: torch.device | str | None, quick: bool):
    if quick:
        return [
            _loss_case("bce", 4, 96, 96, quick, device),
            _loss_case("bce+dice", 4, 96, 96, quick, device),
            _metrics_case(8, 4, 96, 96, quick, device),
            _frames_case(4, 96, 96, device),
        ]
    return [
        _loss_case("bce", 18, 384, 384, quick, device),
        _loss_case("bce+dice", 18, 384, 384, quick, device),
        _metrics_case(36, 18, 384, 384, quick, device),
        _frames_case(18, 384, 384, device),
    ]
