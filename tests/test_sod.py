"""Size-invariant SOD: frames against scikit-image (and a flood fill), the SI loss against the official
SILoss re-implementation (values and gradients), the SI metrics against the official metric code."""

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from hypothesis import given, settings
from hypothesis import strategies as st

from torchauc import sod
from torchauc.reference import sod as ref

skimage = pytest.importorskip("skimage")


def _frames_ref(masks, min_area=25, connectivity=4, threshold=0.5, labeler="skimage"):
    labs, boxes = zip(
        *(ref.official_frames(m.numpy(), min_area, connectivity, threshold, labeler) for m in masks.double())
    )
    return np.stack(labs), list(boxes)


def _check_frames(fr, masks, **kw):
    labs, boxes = _frames_ref(masks, **kw)
    assert np.array_equal(fr.labels.cpu().numpy(), labs)
    assert fr.counts.tolist() == [len(b) for b in boxes]
    k = fr.boxes.shape[1]
    assert k == max((len(b) for b in boxes), default=0)
    for i, bx in enumerate(boxes):
        want = torch.zeros(k, 4, dtype=torch.long)
        if bx:
            want[: len(bx)] = torch.tensor(bx)
        assert torch.equal(fr.boxes[i].cpu(), want), (i, fr.boxes[i], want)


# ------------------------------------------------------------------------------ frames


@pytest.mark.parametrize("connectivity", [4, 8])
@pytest.mark.parametrize("min_area", [0, 25, 200])
def test_frames_equal_skimage(device, connectivity, min_area):
    masks = ref.random_masks(6, 48, 64, seed=connectivity + min_area)
    fr = sod.frames(masks.to(device), min_area=min_area, connectivity=connectivity)
    _check_frames(fr, masks, min_area=min_area, connectivity=connectivity)


def test_frames_rules(device):
    m = torch.zeros(4, 9, 9)
    m[0, 1, 1] = m[0, 2, 2] = 1  # diagonal neighbours: two components at 4, one at 8
    m[1, 0:2, 0:2] = 1  # only small components: the first (raster order) is kept
    m[1, 5:7, 6:8] = 1
    m[3] = 1  # one component covering the image; image 2 is empty
    for conn in (4, 8):
        fr = sod.frames(m.to(device), min_area=5, connectivity=conn)
        _check_frames(fr, m, min_area=5, connectivity=conn)
    fr = sod.frames(m.to(device), min_area=5)
    assert fr.counts.tolist() == [1, 1, 0, 1]
    assert fr.boxes[1, 0].tolist() == [0, 0, 2, 2] and fr.boxes[3, 0].tolist() == [0, 0, 9, 9]


def test_frames_uint8_threshold_and_shapes(device):
    masks = (ref.random_masks(3, 32, 40, seed=7) * 255).to(torch.uint8)
    fr = sod.frames(masks.to(device), threshold=127.5)
    _check_frames(fr, masks.double(), threshold=127.5)
    one = sod.frames(masks[0].to(device), threshold=127.5)  # (H, W) and (B, 1, H, W) inputs
    assert torch.equal(one.labels[0], fr.labels[0])
    four = sod.frames(masks[:, None].to(device), threshold=127.5)
    assert torch.equal(four.boxes, fr.boxes)


@settings(max_examples=40, deadline=None)
@given(
    st.integers(1, 12),
    st.integers(1, 12),
    st.sampled_from([4, 8]),
    st.integers(0, 6),
    st.integers(0, 2**31 - 1),
)
def test_frames_flood_fill_property(h, w, conn, min_area, seed):
    g = torch.Generator().manual_seed(seed)
    masks = (torch.rand(2, h, w, generator=g) < 0.45).float()
    fr = sod.frames(masks, min_area=min_area, connectivity=conn)
    _check_frames(fr, masks, min_area=min_area, connectivity=conn, labeler="flood")


def test_frames_errors():
    with pytest.raises(ValueError, match="connectivity"):
        sod.frames(torch.zeros(1, 4, 4), connectivity=6)
    with pytest.raises(ValueError, match="min_area"):
        sod.frames(torch.zeros(1, 4, 4), min_area=-1)
    with pytest.raises(ValueError, match="masks"):
        sod.frames(torch.zeros(2, 3, 4, 4))
    with pytest.raises(TypeError, match="masks"):
        sod.frames([[0, 1]])


# ------------------------------------------------------------------------------ SI loss


def _batch(b=4, h=40, w=48, c=1, seed=0, dtype=torch.float64, empty=(), min_area=25):
    masks = ref.random_masks(b, h, w, seed=seed)
    for i in empty:
        masks[i] = 0
    g = torch.Generator().manual_seed(seed + 1)
    pred = torch.sigmoid(torch.randn(b, c, h, w, generator=g, dtype=torch.float64) * 2 + (masks[:, None] - 0.5) * 2)
    fr = sod.frames(masks, min_area=min_area)
    return pred.to(dtype), masks.to(dtype), fr


def _official_loss(pred, gt, fr, base):
    weight = ref.weight_map(fr.boxes, fr.counts, gt.shape[1], gt.shape[2])
    return ref.official_si_loss(pred, gt, weight, ref.CRITERIA[base])


@pytest.mark.parametrize("base", ["bce", "dice", "bce+dice"])
@pytest.mark.parametrize("c", [1, 3])
def test_si_loss_equals_official(device, base, c):
    pred, gt, fr = _batch(c=c, seed=c, empty=(2,))
    want_p = pred.clone().requires_grad_()
    want = _official_loss(want_p, gt, fr, base)
    want.backward()
    got_p = pred.to(device).requires_grad_()
    got = sod.si_loss(got_p, gt.to(device), fr, base=base)
    got.backward()
    torch.testing.assert_close(got.cpu(), want.detach(), rtol=1e-10, atol=1e-12)
    torch.testing.assert_close(got_p.grad.cpu(), want_p.grad, rtol=1e-8, atol=1e-12)


def test_si_loss_float32_half_and_strides(device):
    pred, gt, fr = _batch(c=2, seed=5)
    want = _official_loss(pred, gt, fr, "bce+dice")
    p32 = pred.float().transpose(2, 3).contiguous().transpose(2, 3).to(device)  # non-contiguous
    assert not p32.is_contiguous()
    got = sod.si_loss(p32, gt.float().to(device), fr, base="bce+dice")
    assert got.dtype == torch.float32
    torch.testing.assert_close(got.double().cpu(), want, rtol=1e-5, atol=1e-6)
    half = sod.si_loss(pred.half().to(device), gt.half().to(device), fr, base="bce")
    torch.testing.assert_close(half.double().cpu(), _official_loss(pred, gt, fr, "bce"), rtol=5e-3, atol=1e-3)


def test_si_loss_gradcheck_and_3d_pred():
    pred, gt, fr = _batch(b=2, h=12, w=14, seed=3, min_area=4)
    p = pred.clone().requires_grad_()
    assert torch.autograd.gradcheck(lambda x: sod.si_loss(x, gt, fr, base="bce+dice"), (p,))
    three = sod.si_loss(pred[:, 0], gt, fr)  # (B, H, W) pred is one channel
    torch.testing.assert_close(three, sod.si_loss(pred, gt, fr))


def test_si_loss_callable_base_equals_builtin(device):
    pred, gt, fr = _batch(c=2, seed=9, empty=(1,))
    p1, p2 = pred.to(device).requires_grad_(), pred.to(device).requires_grad_()
    a = sod.si_loss(p1, gt.to(device), fr, base="bce")
    b = sod.si_loss(p2, gt.to(device), fr, base=lambda p, g: F.binary_cross_entropy(p, g, reduction="none"))
    a.backward()
    b.backward()
    torch.testing.assert_close(b, a, rtol=1e-10, atol=1e-12)
    torch.testing.assert_close(p2.grad, p1.grad, rtol=1e-8, atol=1e-12)


def test_si_loss_extremes_nan_and_no_frames(device):
    pred, gt, fr = _batch(b=3, seed=11, empty=(0, 1, 2))  # no frame anywhere: the plain per-image loss
    pred[:, :, :3] = 0.0  # log clamped at -100, as torch's BCE
    pred[:, :, 3:5] = 1.0
    torch.testing.assert_close(
        sod.si_loss(pred.to(device), gt.to(device), fr, base="bce").cpu(), _official_loss(pred, gt, fr, "bce")
    )
    pred[0, 0, 10, 10] = float("nan")
    assert torch.isnan(sod.si_loss(pred.to(device), gt.to(device), fr))


@pytest.mark.parametrize("base", ["bce", "bce+dice"])
def test_si_loss_overlapping_frames_soft_targets(device, base):
    # nested, overlapping and touching boxes (row segments covered by several frames), targets mixing
    # 0, 1 and soft values (the kernels take one log per pixel only for a 0/1 target), both precisions
    g = torch.Generator().manual_seed(21)
    b, h, w = 3, 30, 34
    boxes = torch.tensor(
        [
            [[2, 3, 20, 25], [5, 6, 12, 14], [15, 0, 34, 10], [20, 20, 34, 30]],
            [[0, 0, 34, 30], [10, 10, 11, 11], [0, 0, 0, 0], [0, 0, 0, 0]],
            [[4, 4, 10, 10], [10, 4, 16, 10], [0, 0, 0, 0], [0, 0, 0, 0]],
        ]
    )
    counts = torch.tensor([4, 2, 2])
    gt = (torch.rand(b, h, w, generator=g, dtype=torch.float64) > 0.5).double()
    soft = torch.rand(b, h, w, generator=g, dtype=torch.float64) > 0.7
    gt[soft] = torch.rand(int(soft.sum()), generator=g, dtype=torch.float64)
    # float32 values, so that the float32 run sees the same predictions (1 - p is ill-conditioned near 1)
    pred = torch.rand(b, 2, h, w, generator=g, dtype=torch.float64).float().double()
    gt = gt.float().double()
    pred[0, :, :2] = 0.0  # clamped logs on both sides of the one-log path
    pred[1, :, :2] = 1.0
    weight = ref.weight_map(boxes, counts, h, w)
    want_p = pred.clone().requires_grad_()
    want = ref.official_si_loss(want_p, gt, weight, ref.CRITERIA[base])
    want.backward()
    for dtype, tol, gtol in ((torch.float64, 1e-10, 1e-8), (torch.float32, 1e-5, 1e-5)):
        got_p = pred.to(dtype).to(device).clone().requires_grad_()
        got = sod.si_loss(got_p, gt.to(dtype).to(device), (boxes.to(device), counts.to(device)), base=base)
        got.backward()
        torch.testing.assert_close(got.double().cpu(), want.detach(), rtol=tol, atol=tol)
        # (gradients of the clamped pixels are ~1e12 / area: relative tolerance as the other gradient tests)
        torch.testing.assert_close(got_p.grad.double().cpu(), want_p.grad, rtol=gtol, atol=tol * 1e-2)


def test_siloss_module_warmup_equals_official_dsloss():
    pred, gt, fr = _batch(c=2, seed=13)
    m = sod.SILoss("bce+dice", warmup_epochs=2)
    warm = m(pred, gt, fr, epoch=1)
    # the official DSLoss of original_loss.py: each criterion on each channel over the whole batch
    want = sum(fn(pred[:, c], gt) for fn in ref.CRITERIA["bce+dice"] for c in range(2))
    torch.testing.assert_close(warm, want)
    m.set_epoch(2)
    torch.testing.assert_close(m(pred, gt, fr), sod.si_loss(pred, gt, fr, base="bce+dice"))
    assert "warmup_epochs=2" in repr(m)


def test_si_loss_errors():
    pred, gt, fr = _batch(b=2, h=8, w=8, seed=1, min_area=1)
    with pytest.raises(ValueError, match="base"):
        sod.si_loss(pred, gt, fr, base="iou")
    with pytest.raises(ValueError, match="target"):
        sod.si_loss(pred, gt[:, :4], fr)
    with pytest.raises(ValueError, match="boxes"):
        bad = fr.boxes.clone()
        bad[0, 0, 2] = 99
        sod.si_loss(pred, gt, (bad, fr.counts))
    with pytest.raises(ValueError, match="counts"):
        sod.si_loss(pred, gt, (fr.boxes, fr.counts + 5))
    with pytest.raises(TypeError, match="frames"):
        sod.si_loss(pred, gt, fr.boxes)
    with pytest.raises(TypeError, match="pred"):
        sod.si_loss(pred.long(), gt, fr)


# ------------------------------------------------------------------------------ SI metrics


def _metric_batch(seed, b=5, h=36, w=44):
    masks = ref.random_masks(b, h, w, seed=seed)
    masks[b - 1] = 0  # an image without objects: the plain metrics
    g = torch.Generator().manual_seed(seed)
    pred = torch.sigmoid(torch.randn(b, h, w, generator=g) * 1.5 + (masks - 0.5) * 3)
    pred = torch.where(torch.rand(b, h, w, generator=g) < 0.3, (pred * 8).round() / 8, pred)  # ties
    return pred, masks, sod.frames(masks)


@pytest.mark.parametrize("official", [False, True])
@pytest.mark.parametrize("denominator", ["natural", "official"])
def test_si_metrics_equal_official(device, official, denominator):
    pred, gt, fr = _metric_batch(seed=int(official) + 2 * (denominator == "official"))
    weight = ref.weight_map(fr.boxes, fr.counts, gt.shape[1], gt.shape[2])
    want = ref.official_si_metrics(pred, gt, weight, official_match=official,
                                   official_denominator=denominator == "official")  # fmt: skip
    got = sod.si_metrics(pred.to(device), gt.to(device), fr, official_frame_match=official, mae_denominator=denominator)
    for key in sod.metrics.KEYS:
        torch.testing.assert_close(got[key].cpu(), want[key], rtol=2e-5, atol=2e-6, msg=key)


def test_si_metrics_threshold_order_auc():
    # official_roc_order=False: the trapezoid along the thresholds (the staircase ROC), by formula
    pred, gt, fr = _metric_batch(seed=6, b=2)
    got = sod.si_metrics(pred, gt, fr, official_roc_order=False)["auc"]
    thr = torch.linspace(0, 1, 100)
    for i in range(2):
        p, g = pred[i].double().flatten(), gt[i].double().flatten()
        passed = (p[None] >= thr.double()[:, None]).double()
        tpr = (passed * g).sum(1) / (g.sum() + 1)
        fpr = (passed * (1 - g)).sum(1) / ((1 - g).sum() + 1)
        want = ((fpr[:-1] - fpr[1:]) * (tpr[:-1] + tpr[1:]) / 2).sum()
        torch.testing.assert_close(got[i], want)


def test_si_metrics_frame_match_differs_for_three_objects():
    gt = torch.zeros(1, 30, 30)
    gt[0, 2:8, 2:8] = gt[0, 2:8, 20:26] = gt[0, 20:28, 5:25] = 1  # three separate objects
    pred = gt * 0.8 + 0.1
    pred[0, 20:28, 5:25] = 0.0  # object 3 missed
    fr = sod.frames(gt)
    bit = sod.si_metrics(pred, gt, fr)
    eq = sod.si_metrics(pred, gt, fr, official_frame_match=True)
    assert eq["si_auc"] > bit["si_auc"]  # the equality test never sees object 3 (value 4 > K = 3)


def test_si_metrics_accumulator():
    pred, gt, fr = _metric_batch(seed=4)
    acc = sod.SIMetrics(mae_denominator="official")
    acc.update(pred[:2], gt[:2], (fr.boxes[:2], fr.counts[:2]))
    acc.update(pred[2:], gt[2:], (fr.boxes[2:], fr.counts[2:]))
    per = sod.si_metrics(pred, gt, fr, mae_denominator="official")
    for key, value in acc.compute().items():
        torch.testing.assert_close(value, per[key].mean(), msg=key)
    acc.reset()
    with pytest.raises(ValueError, match="update"):
        acc.compute()


def test_si_metrics_errors():
    pred, gt, fr = _metric_batch(seed=1, b=2, h=8, w=8)
    with pytest.raises(ValueError, match="mae_denominator"):
        sod.si_metrics(pred, gt, fr, mae_denominator="paper")
    with pytest.raises(ValueError, match="target"):
        sod.si_metrics(pred, gt[:1], fr)
    with pytest.raises(ValueError, match="thresholds"):
        sod.si_metrics(pred, gt, fr, thresholds=1)


@pytest.mark.parametrize("fn", [sod.frames, sod.si_loss, sod.plain_loss, sod.si_metrics])
def test_options_are_keyword_only(fn):
    import inspect

    params = inspect.signature(fn).parameters.values()
    positional = [p.name for p in params if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD)]
    assert set(positional) <= {"masks", "pred", "target", "frames"}, positional


def test_frame_stats_bins_any_ascending_thresholds(device):
    g = torch.Generator().manual_seed(3)
    p = torch.rand(2, 7, 9, generator=g)
    p[0, 0, :4] = torch.tensor([0.3, 0.31, float("nan"), 1.0])  # on thresholds, NaN (passes none)
    gt = (torch.rand(2, 7, 9, generator=g) < 0.5).float()
    thr = torch.tensor([0.0, 0.05, 0.3, 0.31, 0.9, 1.0])
    boxes, counts = torch.zeros(2, 0, 4, dtype=torch.long), torch.zeros(2, dtype=torch.long)
    args = [t.to(device) for t in (p, p, gt, boxes, counts, thr)]
    hist, _ = torch.ops.torchauc.sod_frame_stats(*args, False)
    bins = (p.reshape(2, -1, 1) >= thr).sum(-1)
    for i in range(2):
        assert torch.equal(hist[i, 1, 0, :, 0].cpu(), torch.bincount(bins[i], minlength=7))
        pos = torch.bincount(bins[i], weights=gt[i].flatten().double(), minlength=7)
        assert torch.equal(hist[i, 1, 0, :, 1].cpu(), (pos * 2**24).long())
