"""Exact AUROC metrics vs scikit-learn, XCurve, LibAUC and float64 pair-matrix definitions."""

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st
from sklearn.metrics import roc_auc_score

from torchauc.metrics import functional as F
from torchauc.reference import auroc as R

TOL = dict(rtol=0, atol=1e-12)


def binary_batch(n, seed=0, ties=None, pos_frac=0.3, scale=1.0, device="cpu", dtype=torch.float64):
    g = torch.Generator().manual_seed(seed)
    s = torch.randn(n, generator=g, dtype=torch.float64) * scale
    if ties:
        s = torch.round(s * ties) / ties
    y = (torch.rand(n, generator=g) < pos_frac).long()
    y[0], y[-1] = 1, 0
    w = torch.rand(n, generator=g, dtype=torch.float64)
    return s.to(dtype).to(device), y.to(device), w.to(device)


def close(a, b, tol=1e-12):
    assert abs(float(a) - float(b)) <= tol, (float(a), float(b))


# ------------------------------------------------------------------------------------ binary
@pytest.mark.parametrize("ties", [None, 3, 0.5])
@pytest.mark.parametrize("weighted", [False, True])
@pytest.mark.parametrize("n", [2, 7, 1000, 70000])
def test_auroc_matches_sklearn(device, ties, weighted, n):
    s, y, w = binary_batch(n, seed=n, ties=ties, device=device)
    ours = F.auroc(s, y, sample_weights=w if weighted else None)
    ref = roc_auc_score(y.cpu().numpy(), s.cpu().numpy(), sample_weight=w.cpu().numpy() if weighted else None)
    close(ours, ref)
    assert ours.dtype == torch.float64 and ours.device.type == device


@pytest.mark.parametrize("dtype", [torch.float16, torch.bfloat16, torch.float32])
def test_auroc_low_precision_inputs(device, dtype):
    s, y, _ = binary_batch(5000, seed=1, device=device, dtype=dtype)
    ref = roc_auc_score(y.cpu().numpy(), s.float().cpu().numpy())  # float32 values of the inputs
    close(F.auroc(s, y), ref)


@pytest.mark.parametrize("kind", ["extreme", "inf", "all_tied", "signed_zero", "bool_labels", "column"])
def test_auroc_hard_inputs(device, kind):
    s, y, _ = binary_batch(500, seed=2, device=device)
    if kind == "extreme":
        s = s * 1e300
    elif kind == "inf":
        s[:10] = float("inf")
        s[10:20] = -float("inf")
    elif kind == "all_tied":
        s = torch.zeros_like(s)
    elif kind == "signed_zero":
        s = torch.where(torch.arange(500, device=device) % 2 == 0, torch.zeros_like(s), -torch.zeros_like(s))
    elif kind == "bool_labels":
        y = y.bool()
    if kind == "inf":  # scikit-learn rejects infinities; the mid-rank formula handles them
        ref = R.auroc_sort(s.cpu(), y.cpu())
    else:
        ref = roc_auc_score(y.cpu().numpy(), s.cpu().numpy())
    if kind == "column":
        s, y = s[:, None], y[:, None].float()
    close(F.auroc(s, y), ref)


def test_auroc_noncontiguous(device):
    s, y, _ = binary_batch(2000, seed=3, device=device)
    s2 = torch.stack([s, -s], 1)[:, 0]
    assert not s2.is_contiguous()
    close(F.auroc(s2, y), roc_auc_score(y.cpu().numpy(), s.cpu().numpy()))


def test_auroc_pair_definition(device):
    s, y, w = binary_batch(300, seed=4, ties=2, device=device)
    close(F.auroc(s, y, sample_weights=w), R.auroc_pairs(s, y, w))
    close(R.auroc_sort(s, y), R.auroc_pairs(s, y))


def test_auroc_undefined_and_errors(device):
    s = torch.randn(10, dtype=torch.float64, device=device)
    ones = torch.ones(10, dtype=torch.long, device=device)
    with pytest.raises(ValueError, match="only one class"):
        F.auroc(s, ones)
    assert torch.isnan(F.auroc(s, ones, on_undefined="nan"))
    with pytest.raises(ValueError, match="only one class"):
        F.auroc(s[:0], ones[:0])
    y = torch.tensor([0, 1] * 5, device=device)
    bad = s.clone()
    bad[3] = float("nan")
    with pytest.raises(ValueError, match="scores contains NaN"):
        F.auroc(bad, y)
    with pytest.raises(ValueError, match="labels must contain only 0 and 1"):
        F.auroc(s, y * 2)
    with pytest.raises(ValueError, match="labels must have the shape"):
        F.auroc(s, y[:5])
    with pytest.raises(TypeError, match="scores must be a floating point"):
        F.auroc(y, y)
    with pytest.raises(ValueError, match="on_undefined"):
        F.auroc(s, y, on_undefined="zero")
    with pytest.raises(ValueError, match="sample_weights must be non-negative"):
        F.auroc(s, y, sample_weights=-torch.ones(10, dtype=torch.float64, device=device))


@settings(max_examples=40, deadline=None)
@given(
    n=st.integers(2, 200),
    levels=st.sampled_from([None, 1, 4]),
    seed=st.integers(0, 10**6),
)
def test_auroc_properties(n, levels, seed):
    s, y, _ = binary_batch(n, seed=seed, ties=levels)
    a = F.auroc(s, y)
    close(a, R.auroc_pairs(s, y))
    close(F.auroc(torch.exp(s / 4) * 3 - 1, y), a)  # strictly increasing transform
    close(F.auroc(-s, y), 1 - a)  # reversed ranking
    close(F.auroc(s, 1 - y), 1 - a)  # label flip


# ------------------------------------------------------------------------------------ partial
@pytest.mark.parametrize("ties", [None, 2])
@pytest.mark.parametrize("max_fpr", [0.05, 0.3, 0.77, 1.0])
@pytest.mark.parametrize("weighted", [False, True])
def test_partial_mcclish_matches_sklearn(device, ties, max_fpr, weighted):
    s, y, w = binary_batch(3000, seed=6, ties=ties, device=device)
    ours = F.partial_auroc(s, y, max_fpr=max_fpr, mcclish=True, sample_weights=w if weighted else None)
    ref = roc_auc_score(
        y.cpu().numpy(), s.cpu().numpy(), max_fpr=max_fpr, sample_weight=w.cpu().numpy() if weighted else None
    )
    close(ours, ref, 1e-12)


@pytest.mark.parametrize("ties", [None, 2])
@pytest.mark.parametrize("max_fpr,min_tpr", [(0.3, 0.7), (0.5, 0.5), (1.0, 0.0), (0.3, 0.0), (1.0, 0.6), (0.1, 0.2)])
def test_two_way_partial_matches_definitions(device, ties, max_fpr, min_tpr):
    s, y, _ = binary_batch(997, seed=7, ties=ties, device=device)
    for normalize in (True, False):
        close(
            F.partial_auroc(s, y, max_fpr=max_fpr, min_tpr=min_tpr, normalize=normalize),
            R.partial_auroc_pairs(s.cpu(), y.cpu(), max_fpr, min_tpr, normalize),
        )
    # XCurve's PartialAUROC(min_tpr = kept positive fraction, max_fpr) = ours with min_tpr = 1 - kept
    from XCurve.Metrics import PartialAUROC

    kept = 1.0 - min_tpr
    npos = int(y.sum())
    if abs(kept * npos - round(kept * npos)) > 1e-6:  # XCurve floors without slack; compare off the edge
        ref = PartialAUROC(y.cpu().numpy(), s.cpu().numpy(), kept, max_fpr)
        close(F.partial_auroc(s, y, max_fpr=max_fpr, min_tpr=min_tpr), ref)


def test_partial_rounding_and_undefined(device):
    # 10 positives, min_tpr = 0.7 keeps floor(0.3 * 10) = 3 (not 2 from 2.9999999999999996)
    s = torch.arange(20, dtype=torch.float64, device=device)
    y = torch.tensor([1] * 10 + [0] * 10, device=device)
    st_ = torch.ops.torchauc.auroc_partial_stats(s, y, 0.3, 0.7)
    assert st_[1].item() == 3 and st_[2].item() == 3
    with pytest.raises(ValueError, match="keeps 0 positives"):
        F.partial_auroc(s, y, max_fpr=0.3, min_tpr=0.95)
    assert torch.isnan(F.partial_auroc(s, y, max_fpr=0.05, min_tpr=0.0, on_undefined="nan"))
    with pytest.raises(ValueError, match="max_fpr must be in"):
        F.partial_auroc(s, y, max_fpr=0.0)
    with pytest.raises(ValueError, match="min_tpr must be in"):
        F.partial_auroc(s, y, max_fpr=0.5, min_tpr=1.0)
    with pytest.raises(ValueError, match="needs min_tpr=0"):
        F.partial_auroc(s, y, max_fpr=0.5, min_tpr=0.5, mcclish=True)
    with pytest.raises(ValueError, match="only supported with mcclish"):
        F.partial_auroc(s, y, max_fpr=0.5, sample_weights=torch.ones(20, dtype=torch.float64, device=device))


def test_partial_vs_libauc(device):
    from libauc.metrics import pauc_roc_score

    s, y, _ = binary_batch(4096, seed=8, device=device)
    ref = pauc_roc_score(y.cpu().numpy(), s.cpu().numpy(), max_fpr=0.3)
    close(F.partial_auroc(s, y, max_fpr=0.3, mcclish=True), np.asarray(ref).reshape(-1)[0])


# ------------------------------------------------------------------------------------ multiclass
def multiclass_batch(n, C, seed=0, ties=None, device="cpu"):
    g = torch.Generator().manual_seed(seed)
    S = torch.softmax(torch.randn(n, C, generator=g, dtype=torch.float64) * 2, 1)
    if ties:
        S = torch.round(S * ties) / ties + 1e-3
        S = S / S.sum(1, keepdim=True)
    Y = torch.randint(0, C, (n,), generator=g)
    Y[:C] = torch.arange(C)
    return S.to(device), Y.to(device)


@pytest.mark.parametrize("C", [2, 3, 7])
@pytest.mark.parametrize("ties", [None, 5])
@pytest.mark.parametrize("weighting", ["macro", "weighted"])
def test_multiclass_matches_sklearn(device, C, ties, weighting):
    S, Y = multiclass_batch(600, C, seed=C, ties=ties, device=device)
    Sn, Yn = S.cpu().numpy(), Y.cpu().numpy()
    if C == 2:  # scikit-learn treats 2 classes as binary: both averages equal the binary AUROC
        ref = roc_auc_score(Yn, Sn[:, 1])
        close(F.multiclass_auroc(S, Y, mode="ovo", average=weighting), ref)
        close(F.multiclass_auroc(S, Y, mode="ova", average="macro"), ref)
        return
    close(
        F.multiclass_auroc(S, Y, mode="ovo", average=weighting),
        roc_auc_score(Yn, Sn, multi_class="ovo", average=weighting),
    )
    close(
        F.multiclass_auroc(S, Y, mode="ova", average=weighting),
        roc_auc_score(Yn, Sn, multi_class="ovr", average=weighting),
    )
    per = F.multiclass_auroc(S, Y, mode="ova", average="none")
    for c in range(C):
        close(per[c], roc_auc_score(Yn == c, Sn[:, c]))


def test_multiclass_weighted_ovr_and_pairs(device):
    S, Y = multiclass_batch(400, 5, seed=9, ties=4, device=device)
    w = torch.rand(400, dtype=torch.float64, device=device)
    ref = roc_auc_score(Y.cpu().numpy(), S.cpu().numpy(), multi_class="ovr", sample_weight=w.cpu().numpy())
    close(F.multiclass_auroc(S, Y, mode="ova", sample_weights=w), ref)
    close(F.multiclass_auroc(S, Y, mode="ovo"), R.hand_till_pairs(S.cpu(), Y.cpu()))
    A = F.multiclass_auroc(S, Y, mode="ovo", average="none")
    assert A.shape == (5, 5) and torch.isnan(A.diagonal()).all()


def test_multiclass_vs_xcurve_without_ties(device):
    from XCurve.Metrics import AUROC

    S, Y = multiclass_batch(500, 6, seed=10, device=device)
    ref = AUROC(Y.cpu().numpy(), S.cpu().numpy(), multi_type="ovo", acc=True)
    close(F.multiclass_auroc(S, Y, mode="ovo"), ref, 1e-9)


def test_multiclass_absent_class_and_errors(device):
    S, Y = multiclass_batch(100, 4, seed=11, device=device)
    Y = torch.where(Y == 3, torch.zeros_like(Y), Y)
    with pytest.raises(ValueError, match="absent classes \\[3\\]"):
        F.multiclass_auroc(S, Y, mode="ovo")
    with pytest.raises(ValueError, match="undefined for classes \\[3\\]"):
        F.multiclass_auroc(S, Y, mode="ova")
    A = F.multiclass_auroc(S, Y, mode="ovo", average="none", on_undefined="nan")
    assert torch.isnan(A[3]).all() and torch.isnan(A[:, 3]).all()
    pairs = [(A[i, j] + A[j, i]) / 2 for i in range(3) for j in range(i + 1, 3)]
    close(F.multiclass_auroc(S, Y, mode="ovo", on_undefined="nan"), sum(pairs) / 3)
    per = F.multiclass_auroc(S, Y, mode="ova", average="none", on_undefined="nan")
    assert torch.isnan(per[3]) and not torch.isnan(per[:3]).any()
    with pytest.raises(ValueError, match="class indices in \\[0, 4\\)"):
        F.multiclass_auroc(S, Y + 4)
    with pytest.raises(ValueError, match="integer class indices"):
        F.multiclass_auroc(S, Y.double())
    with pytest.raises(ValueError, match="labels must have shape"):
        F.multiclass_auroc(S, Y[:10])


@pytest.mark.parametrize("dtype", [torch.float16, torch.bfloat16, torch.float32])
def test_multiclass_low_precision(device, dtype):
    S, Y = multiclass_batch(800, 5, seed=12, device=device)
    S = S.to(dtype)
    Sn, Yn = S.float().double().cpu().numpy(), Y.cpu().numpy()  # the float32 values of the inputs
    ref = np.mean([roc_auc_score(Yn == c, Sn[:, c]) for c in range(5)])
    close(F.multiclass_auroc(S, Y, mode="ova"), ref)


# ------------------------------------------------------------------------------------ multilabel / pixel
@pytest.mark.parametrize("average", ["macro", "weighted", "micro"])
def test_multilabel_matches_sklearn(device, average):
    g = torch.Generator().manual_seed(13)
    S = torch.round(torch.randn(500, 6, generator=g, dtype=torch.float64) * 3) / 3
    L = (torch.rand(500, 6, generator=g) < 0.3).long()
    w = torch.rand(500, generator=g, dtype=torch.float64)
    ref = roc_auc_score(L.numpy(), S.numpy(), average=average, sample_weight=w.numpy())
    close(F.multilabel_auroc(S.to(device), L.to(device), average=average, sample_weights=w.to(device)), ref)
    per = F.multilabel_auroc(S.to(device), L.to(device), average="none")
    for j in range(6):
        close(per[j], roc_auc_score(L[:, j].numpy(), S[:, j].numpy()))


def test_pixel_auroc(device):
    g = torch.Generator().manual_seed(14)
    B, C, H, W = 2, 5, 9, 7
    logits = torch.round(torch.randn(B, C, H, W, generator=g) * 4) / 4
    labels = torch.randint(0, C, (B, H, W), generator=g)
    labels[0, :2] = 255
    labels[labels == 4] = 1  # class 4 absent
    per = F.pixel_auroc(logits.to(device), labels.to(device), average="none", ignore_index=255, on_undefined="nan")
    flat = logits.movedim(1, -1).reshape(-1, C).numpy()
    lab = labels.reshape(-1).numpy()
    keep = lab != 255
    for c in range(4):
        close(per[c], roc_auc_score(lab[keep] == c, flat[keep, c]))
    assert torch.isnan(per[4])
    close(F.pixel_auroc(logits.to(device), labels.to(device), ignore_index=255, on_undefined="nan"), per[:4].mean())
    with pytest.raises(ValueError, match="absent"):
        F.pixel_auroc(logits.to(device), labels.to(device), on_undefined="raise", ignore_index=255)
    with pytest.raises(ValueError, match="logits must have shape"):
        F.pixel_auroc(logits[:, :, 0, 0].to(device), labels[:, 0, 0].to(device), ignore_index=255, on_undefined="nan")


# ------------------------------------------------------------------------------------ open world
@pytest.mark.parametrize("ties", [None, 2])
def test_openworld_auroc(device, ties):
    s, base, _ = binary_batch(400, seed=15, ties=ties, device=device)
    g = torch.Generator().manual_seed(16)
    correct = (torch.rand(400, generator=g) < 0.7).to(device)
    ours = F.openworld_auroc(s, base, correct)
    close(ours, R.openworld_auroc_pairs(s.cpu(), base.cpu(), correct.cpu()))
    if ties is None:  # the official replacement trick (ties among replaced scores aside)
        sn, b, c = s.cpu().numpy().copy(), base.cpu().numpy().astype(bool), correct.cpu().numpy()
        r_new_min, r_base_max = sn[~b].min(), sn[b].max()
        sn[b & ~c] = r_new_min - 1e-5
        sn[~b & ~c] = r_base_max + 1e-5
        close(ours, roc_auc_score(b, sn))
    with pytest.raises(ValueError, match="without both base and new"):
        F.openworld_auroc(s, torch.ones_like(base), correct)
