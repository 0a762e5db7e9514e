"""Exact average precision (auroc_average_precision op): equal to scikit-learn's
average_precision_score with ties and sample weights, binary and multilabel (every average), against
a brute-force threshold loop, the stateful AveragePrecision classes, properties with hypothesis."""

import warnings

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from torchauc import metrics
from torchauc.metrics import functional as M
from torchauc.reference import auroc as R

sk = pytest.importorskip("sklearn.metrics")


def data(n, seed=0, ties=True, p=0.3, cols=None):
    g = torch.Generator().manual_seed(seed)
    shape = (n,) if cols is None else (n, cols)
    s = torch.randn(shape, generator=g, dtype=torch.float64)
    if ties:
        s = torch.where(torch.rand(shape, generator=g) < 0.6, torch.randint(-3, 4, shape, generator=g) / 2.0, s)
    y = (torch.rand(shape, generator=g) < p).long()
    y.view(-1)[0] = 1
    w = torch.rand(n, generator=g, dtype=torch.float64) + 0.05
    return s, y, w


def sk_ap(s, y, w=None, **kw):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return sk.average_precision_score(
            y.numpy(), s.double().numpy(), sample_weight=None if w is None else w.numpy(), **kw
        )


@pytest.mark.parametrize("n", [1, 2, 7, 100, 1000, 70_000])
@pytest.mark.parametrize("weighted", [False, True])
def test_binary_matches_sklearn(device, n, weighted):
    s, y, w = data(n, seed=n)
    w = w if weighted else None
    got = M.average_precision(s.to(device), y.to(device), sample_weights=None if w is None else w.to(device))
    assert got.dtype == torch.float64 and got.device.type == device
    torch.testing.assert_close(got.item(), sk_ap(s, y, w), rtol=1e-12, atol=1e-12)


def test_matches_brute_force_thresholds():
    s, y, w = data(60, seed=3)
    torch.testing.assert_close(M.average_precision(s, y, sample_weights=w), R.average_precision_thresholds(s, y, w))


@pytest.mark.parametrize("dtype", [torch.float32, torch.float16, torch.bfloat16])
def test_low_precision_scores_compare_as_float32(device, dtype):
    s, y, _ = data(500, seed=4)
    s = s.to(dtype)
    torch.testing.assert_close(M.average_precision(s.to(device), y.to(device)).item(), sk_ap(s.float(), y))


def test_labels_any_dtype_noncontiguous_and_infinities(device):
    s, y, _ = data(200, seed=5, cols=2)
    s[3, 0], s[4, 0] = float("inf"), -float("inf")
    # scikit-learn rejects infinite scores: the brute-force threshold loop is the oracle here
    want = R.average_precision_thresholds(s[:, 0], y[:, 0])
    got = M.average_precision(s[:, 0].to(device), y[:, 0].bool().to(device))  # strided column
    torch.testing.assert_close(got.cpu(), want)
    got = M.average_precision(s[:, :1].to(device), y[:, :1].float().to(device))  # (n, 1)
    torch.testing.assert_close(got.cpu(), want)


def test_undefined_and_errors():
    s = torch.rand(10)
    with pytest.raises(ValueError, match="undefined without positive"):
        M.average_precision(s, torch.zeros(10))
    with pytest.warns(UserWarning):
        assert torch.isnan(M.average_precision(s, torch.zeros(10), on_undefined="warn"))
    assert torch.isnan(M.average_precision(s, torch.zeros(10), on_undefined="nan"))
    assert M.average_precision(s, torch.ones(10)).item() == 1.0  # no negatives: precision 1
    with pytest.raises(ValueError, match="labels"):
        M.average_precision(s, torch.full((10,), 2))
    with pytest.raises(ValueError, match="NaN"):
        M.average_precision(torch.tensor([0.1, float("nan")]), torch.tensor([1, 0]))
    with pytest.raises(ValueError, match="sample_weights"):
        M.average_precision(s, torch.ones(10), sample_weights=-torch.ones(10))
    with pytest.raises(ValueError, match="multilabel_average_precision"):
        M.average_precision(torch.rand(10, 2), torch.ones(10, 2))
    with pytest.raises(TypeError, match="floating"):
        M.average_precision(torch.arange(10), torch.ones(10))


@pytest.mark.parametrize("average", ["macro", "weighted", "micro", "samples", "none"])
@pytest.mark.parametrize("weighted", [False, True])
def test_multilabel_matches_sklearn(device, average, weighted):
    s, y, w = data(300, seed=6, cols=4, p=0.4)
    y[:4] = torch.eye(4, dtype=torch.long)  # every row and column has a positive ('samples' needs rows)
    y[4:, 0] = torch.where(y[4:].sum(1) == 0, torch.ones_like(y[4:, 0]), y[4:, 0])
    w = w if weighted else None
    got = M.multilabel_average_precision(
        s.to(device), y.to(device), average=average, sample_weights=None if w is None else w.to(device)
    )
    want = sk_ap(s, y, w, average=None if average == "none" else average)
    np.testing.assert_allclose(got.cpu().numpy(), want, rtol=1e-12, atol=1e-12)


def test_stateful_classes_match_one_shot():
    s, y, w = data(400, seed=7)
    m = metrics.AveragePrecision()
    for i in range(0, 400, 100):
        batch = m(s[i : i + 100], y[i : i + 100], sample_weights=w[i : i + 100])
        torch.testing.assert_close(
            batch, M.average_precision(s[i : i + 100], y[i : i + 100], sample_weights=w[i : i + 100])
        )
    torch.testing.assert_close(m.compute().item(), sk_ap(s, y, w))
    m.reset()
    with pytest.raises(ValueError, match="before any update"):
        m.compute()
    s2, y2, _ = data(200, seed=8, cols=3, p=0.5)
    ml = metrics.MultilabelAveragePrecision(average="none")
    ml.update(s2[:50], y2[:50])
    ml.update(s2[50:], y2[50:])
    np.testing.assert_allclose(ml.compute().numpy(), sk_ap(s2, y2, average=None), rtol=1e-12)


@settings(max_examples=60, deadline=None)
@given(
    n=st.integers(1, 80),
    seed=st.integers(0, 100_000),
    scale=st.sampled_from([1.0, 1e-38, 1e37]),
    weighted=st.booleans(),
)
def test_property_equals_sklearn(n, seed, scale, weighted):
    s, y, w = data(n, seed=seed)
    s = (s * scale).float()
    w = w if weighted else None
    torch.testing.assert_close(
        M.average_precision(s, y, sample_weights=w).item(), sk_ap(s, y, w), rtol=1e-12, atol=1e-12
    )
