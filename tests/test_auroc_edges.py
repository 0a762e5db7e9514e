"""AUROC metrics around the numbers: weights of any scale, bad inputs as ValueError/TypeError naming
the argument, classes=, micro and samples averages, on_undefined="warn", +-inf scores."""

import warnings

import numpy as np
import pytest
import torch
from sklearn.metrics import roc_auc_score

import torchauc.metrics as M
from torchauc.metrics import UndefinedMetricWarning
from torchauc.metrics import functional as F


def close(a, b, tol=1e-12):
    assert abs(float(a) - float(b)) <= tol, (float(a), float(b))


def data(n=60, c=4, seed=0, device="cpu"):
    g = torch.Generator().manual_seed(seed)
    s = torch.randn(n, generator=g, dtype=torch.float64)
    y = (torch.rand(n, generator=g) < 0.4).long()
    y[0], y[1] = 0, 1
    S = torch.softmax(torch.randn(n, c, generator=g, dtype=torch.float64), 1)
    Y = torch.arange(n) % c
    L = (torch.rand(n, 3, generator=g) < 0.5).long()
    L[0], L[1] = 0, 1
    L[:, 2] = 1 - L[:, 1]  # every row holds both classes (the samples average is defined)
    w = torch.rand(n, generator=g, dtype=torch.float64) + 0.1
    return [t.to(device) for t in (s, y, S, Y, L, w)]


# ------------------------------------------------------------------------------ weights of any scale
@pytest.mark.parametrize("scale", [1e-300, 1e-170, 1e-160, 1e155, 1e300])
def test_weighted_values_do_not_depend_on_the_weight_scale(device, scale):
    s, y, S, Y, L, w = data(device=device)
    cases = [
        lambda w_: F.auroc(s, y, sample_weights=w_),
        lambda w_: F.partial_auroc(s, y, max_fpr=0.4, mcclish=True, sample_weights=w_),
        lambda w_: F.multiclass_auroc(S, Y, mode="ova", sample_weights=w_),
        lambda w_: F.multiclass_auroc(S, Y, mode="ovo", average="weighted", sample_weights=w_),
        lambda w_: F.multiclass_auroc(S, Y, mode="ova", average="micro", sample_weights=w_),
        lambda w_: F.multilabel_auroc(S[:, :3], L, average="weighted", sample_weights=w_),
        lambda w_: F.multilabel_auroc(S[:, :3], L, average="samples", sample_weights=w_),
    ]
    for fn in cases:
        close(fn(w * scale), fn(w))
    for metric in (M.AUROC(), M.AUROC(bins=64)):
        metric.update(s[:30], y[:30], sample_weights=w[:30] * scale)
        metric.update(s[30:], y[30:], sample_weights=w[30:] * scale)
        ref = M.AUROC(bins=metric.bins)
        ref.update(s, y, sample_weights=w)
        close(metric.compute(), ref.compute())


def test_binned_mixes_weight_scales_exactly():
    s, y, *_ = data()
    m, ref = M.AUROC(bins=32), M.AUROC(bins=32)
    m.update(s[:20], y[:20], sample_weights=torch.full((20,), 1e-200, dtype=torch.float64))
    m.update(s[20:], y[20:], sample_weights=torch.full((40,), 1e200, dtype=torch.float64))
    ref.update(s[20:], y[20:])  # the tiny weights are negligible next to the huge ones
    close(m.compute(), ref.compute())


@pytest.mark.parametrize("bad", [float("inf"), float("nan"), -1.0])
def test_non_finite_or_negative_weights_are_an_error(bad):
    s, y, S, Y, L, w = data()
    w = w.clone()
    w[3] = bad
    for fn in (
        lambda: F.auroc(s, y, sample_weights=w),
        lambda: F.multiclass_auroc(S, Y, mode="ova", sample_weights=w),
        lambda: F.multilabel_auroc(S[:, :3], L, sample_weights=w),
        lambda: F.partial_auroc(s, y, max_fpr=0.5, mcclish=True, sample_weights=w),
    ):
        with pytest.raises(ValueError, match="sample_weights must be non-negative and finite"):
            fn()


# ------------------------------------------------------------------------------ bad inputs
def _bad_inputs():
    s, y, S, Y, L, w = data()
    return [
        ("auroc weights length", lambda: F.auroc(s, y, sample_weights=w[:5]), ValueError, "sample_weights"),
        ("auroc labels length", lambda: F.auroc(s, y[:5]), ValueError, "labels"),
        ("auroc scores type", lambda: F.auroc(s.tolist(), y), TypeError, "scores"),
        ("auroc weights type", lambda: F.auroc(s, y, sample_weights=w.tolist()), TypeError, "sample_weights"),
        ("partial weights length", lambda: F.partial_auroc(s, y, mcclish=True, max_fpr=0.5, sample_weights=w[:3]),
         ValueError, "sample_weights"),
        ("partial max_fpr", lambda: F.partial_auroc(s, y, max_fpr=0.0), ValueError, "max_fpr"),
        ("multiclass weights length", lambda: F.multiclass_auroc(S, Y, sample_weights=w[:0]), ValueError,
         "sample_weights"),
        ("multiclass ovo empty weights", lambda: F.multiclass_auroc(S, Y, mode="ovo", sample_weights=w[:0]),
         ValueError, "sample_weights"),
        ("multiclass labels shape", lambda: F.multiclass_auroc(S, Y[:7]), ValueError, "labels"),
        ("multiclass scores 1-D", lambda: F.multiclass_auroc(s, Y), ValueError, "scores"),
        ("multiclass labels range", lambda: F.multiclass_auroc(S, Y + 10), ValueError, "labels"),
        ("multiclass mode", lambda: F.multiclass_auroc(S, Y, mode="ovr"), ValueError, "mode"),
        ("multiclass micro ovo", lambda: F.multiclass_auroc(S, Y, mode="ovo", average="micro"), ValueError, "micro"),
        ("multiclass classes count", lambda: F.multiclass_auroc(S, Y, classes=torch.arange(3)), ValueError,
         "classes"),
        ("multiclass classes float", lambda: F.multiclass_auroc(S, Y, classes=torch.arange(4.0)), TypeError,
         "classes"),
        ("multiclass ignore_index type", lambda: F.multiclass_auroc(S, Y, ignore_index=1.5), TypeError,
         "ignore_index"),
        ("multilabel shape", lambda: F.multilabel_auroc(S[:, :3], L[:, :2]), ValueError, "labels"),
        ("multilabel weights", lambda: F.multilabel_auroc(S[:, :3], L, sample_weights=w[:9]), ValueError,
         "sample_weights"),
        ("multilabel average", lambda: F.multilabel_auroc(S[:, :3], L, average="mean"), ValueError, "average"),
        ("pixel labels shape", lambda: F.pixel_auroc(S.T.reshape(1, 4, 6, 10), Y.reshape(1, 10, 6)), ValueError,
         "labels"),
        ("openworld lengths", lambda: F.openworld_auroc(s, y[:5], y), ValueError, "is_base"),
        ("openworld correct", lambda: F.openworld_auroc(s, y, y[:5]), ValueError, "correct"),
        ("on_undefined", lambda: F.auroc(s, y, on_undefined="ignore"), ValueError, "on_undefined"),
        ("AUROC update weights", lambda: M.AUROC().update(s, y, sample_weights=w[:3]), ValueError, "sample_weights"),
        ("AUROC update labels", lambda: M.AUROC().update(s, y[:3]), ValueError, "labels"),
        ("binned update weights", lambda: M.AUROC(bins=8).update(s, y, sample_weights=w[:3]), ValueError,
         "sample_weights"),
        ("Multiclass update", lambda: M.MulticlassAUROC().update(S, Y[:3]), ValueError, "labels"),
        ("Multiclass average", lambda: M.MulticlassAUROC(average="samples"), ValueError, "average"),
        ("Multilabel update", lambda: M.MultilabelAUROC().update(S[:, :3], L[:5]), ValueError, "labels"),
        ("Partial update weights", lambda: M.PartialAUROC().update(s, y, sample_weights=w[:2]), ValueError,
         "sample_weights"),
        ("compute before update", lambda: M.AUROC().compute(), ValueError, "update"),
    ]  # fmt: skip


@pytest.mark.parametrize("case", _bad_inputs(), ids=lambda c: c[0])
def test_bad_inputs_name_the_argument(case):
    _, fn, error, word = case
    with pytest.raises(error, match=word):
        fn()


# ------------------------------------------------------------------------------ classes=
def test_classes_orders_columns_and_declares_absent_classes():
    _, _, S, Y, *_ = data(c=4)
    names = torch.tensor([40, 10, 30, 20])  # column k is class names[k]
    y_named = names[Y]
    for mode in ("ovo", "ova"):
        close(F.multiclass_auroc(S, y_named, mode=mode, classes=names), F.multiclass_auroc(S, Y, mode=mode))
    # a listed class that no sample has is undefined; a label that is not listed is an error
    keep = Y != 2
    with pytest.raises(ValueError, match="undefined"):
        F.multiclass_auroc(S[keep], y_named[keep], classes=names)
    with pytest.warns(UndefinedMetricWarning):
        v = F.multiclass_auroc(S[keep], y_named[keep], mode="ova", classes=names, on_undefined="warn")
    assert torch.isnan(v)
    with pytest.raises(ValueError, match="not in classes"):
        F.multiclass_auroc(S, y_named + 1, classes=names)
    with pytest.raises(ValueError, match="distinct"):
        F.multiclass_auroc(S, y_named, classes=torch.tensor([40, 10, 40, 20]))
    m = M.MulticlassAUROC(mode="ova", classes=names)
    m.update(S, y_named)
    close(m.compute(), F.multiclass_auroc(S, Y, mode="ova"))


# ------------------------------------------------------------------------------ micro, samples
def test_micro_and_samples_averages_match_sklearn():
    _, _, S, Y, L, w = data(n=80, c=5)
    Sn, Yn, Ln, wn = S.numpy(), Y.numpy(), L.numpy(), w.numpy()
    for weights, wn_ in ((None, None), (w, wn)):
        close(
            F.multiclass_auroc(S, Y, mode="ova", average="micro", sample_weights=weights),
            roc_auc_score(Yn, Sn, multi_class="ovr", average="micro", sample_weight=wn_),
        )
    Ls = L
    for weights, wn_ in ((None, None), (w, wn)):
        close(
            F.multilabel_auroc(S[:, :3], Ls, average="samples", sample_weights=weights),
            roc_auc_score(Ls.numpy(), Sn[:, :3], average="samples", sample_weight=wn_),
        )
    close(F.multilabel_auroc(S[:, :3], L, average="micro"), roc_auc_score(Ln, Sn[:, :3], average="micro"))


# ------------------------------------------------------------------------------ on_undefined="warn"
def test_warn_mode_returns_nan_and_averages_propagate_it():
    s, y, S, Y, L, _ = data()
    with pytest.warns(UndefinedMetricWarning, match="only one class"):
        assert torch.isnan(F.auroc(s, torch.ones_like(y), on_undefined="warn"))
    L2 = L.clone()
    L2[:, 1] = 1  # a constant column
    with pytest.warns(UndefinedMetricWarning):
        assert torch.isnan(F.multilabel_auroc(S[:, :3], L2, on_undefined="warn"))
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        skipped = F.multilabel_auroc(S[:, :3], L2, on_undefined="nan")  # silent, and skips the column
    per = F.multilabel_auroc(S[:, :3], L2, average="none", on_undefined="nan")
    assert torch.isnan(per[1]) and not torch.isnan(skipped)
    close(skipped, per[[0, 2]].mean())
    Y3 = Y.clone()
    Y3[Y3 == 3] = 0  # class 3 absent
    with pytest.warns(UndefinedMetricWarning):
        assert torch.isnan(F.multiclass_auroc(S, Y3, mode="ova", on_undefined="warn"))
    m = M.MultilabelAUROC(on_undefined="warn")
    m.update(S[:, :3], L2)
    with pytest.warns(UndefinedMetricWarning):
        assert torch.isnan(m.compute())


# ------------------------------------------------------------------------------ +-inf scores, C = 2
def test_infinite_scores_are_ranked():
    s, y, *_ = data()
    s = s.clone()
    s[[0, 5, 9]] = float("inf")
    s[[1, 7]] = float("-inf")
    finite = torch.where(torch.isinf(s), torch.sign(s) * 1e6, s)  # the same order, ties included
    close(F.auroc(s, y), F.auroc(finite, y))
    close(F.auroc(s, y), roc_auc_score(y.numpy(), np.nan_to_num(s.numpy(), posinf=1e6, neginf=-1e6)))


def test_two_columns_warn():
    _, y, S, *_ = data(c=2)
    with pytest.warns(UserWarning, match="auroc\\(scores\\[:, 1\\]"):
        v = F.multiclass_auroc(S, y, mode="ova")
    close(v, F.auroc(S[:, 1], y))  # rows are probabilities: equal
