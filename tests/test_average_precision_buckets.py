"""Unweighted float16/bfloat16/float32 average precision on the CPU sorts the positives' and the
negatives' keys apart (key-range buckets from 2^16 samples on, the split radix sort below that or when
a 16-bit key prefix is crowded) and forms the terms of the positives' tie groups from exact counts.
Its value must equal the tie-group walk (the weighted op with unit weights, and the float64 op) bit
for bit, with ties inside and at the edges of buckets, one-class columns, signed zeros and infinities,
and match scikit-learn."""

import warnings

import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

import torchauc  # noqa: F401  (loads the ops)
from torchauc.metrics import functional as M
from torchauc.reference import auroc as R

sk = pytest.importorskip("sklearn.metrics")
OPS = torch.ops.torchauc
BUCKETS = 1 << 16  # from this many samples on the op takes the bucket path


def assert_equals_the_walk(s, y):
    """The unweighted op against the (key, payload) walks: unit weights, and float64 keys."""
    fast = OPS.auroc_average_precision(s, y, None)
    walk = OPS.auroc_average_precision(s, y, torch.ones(s.shape[0], dtype=torch.float64))
    torch.testing.assert_close(fast, walk, rtol=0, atol=0)
    torch.testing.assert_close(fast, OPS.auroc_average_precision(s.double(), y, None), rtol=0, atol=0)
    return fast


def sk_ap(s, y):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return sk.average_precision_score(y.numpy(), s.double().numpy())


def _scores(n, kind, seed):
    g = torch.Generator().manual_seed(seed)
    if kind == "ties":  # ~n/997 samples per value, both signs: tie groups at the edges of many buckets
        s = torch.randint(0, 997, (n,), generator=g).float() / 997 - 0.5
    elif kind == "fine_ties":  # thousands of values per bucket, each tied a few times
        s = torch.randint(0, n // 3, (n,), generator=g).float() / n
    elif kind == "constant":
        s = torch.full((n,), 0.25)
    elif kind == "crowded":  # one 16-bit key prefix holds > 2^18 distinct keys, the rest spread
        s = torch.where(torch.arange(n) % 2 == 0, 0.5 + torch.rand(n, generator=g) / 256, torch.randn(n, generator=g))
    elif kind == "uniform":
        s = torch.rand(n, generator=g)
    else:
        s = torch.randn(n, generator=g) * 1e3
    y = (torch.rand(n, generator=g) < torch.sigmoid(s.double() / s.double().abs().max().clamp_min(1e-30) * 3)).long()
    return s, y


@pytest.mark.parametrize("n", [1000, BUCKETS - 1, BUCKETS + 7, 300_000, 600_000])
@pytest.mark.parametrize("kind", ["ties", "fine_ties", "constant", "crowded", "uniform", "spread"])
def test_class_split_ap_equals_the_tie_group_walk(n, kind):
    s, y = _scores(n, kind, seed=n)
    st_ = assert_equals_the_walk(s, y)
    assert float(st_[0, 1]) == float(y.sum()) and float(st_[0, 2]) == float(n - y.sum())
    assert abs(float(st_[0, 0] / st_[0, 1]) - sk_ap(s, y)) <= 1e-12


@pytest.mark.parametrize("n", [BUCKETS + 1, 400_000])
def test_buckets_of_one_class_and_labels_sorted_by_score(n):
    # the top buckets hold only positives and the bottom ones only negatives: the counts carried
    # across buckets (positives and negatives above) make every term
    s, _ = _scores(n, "fine_ties", seed=1)
    y = (s > s.median()).long()
    y[:100] = 1 - y[:100]
    assert_equals_the_walk(s, y)
    assert abs(float(M.average_precision(s, y)) - sk_ap(s, y)) <= 1e-12


@pytest.mark.parametrize("n", [100, BUCKETS + 3, 300_000])
def test_one_class_columns(n):
    s, _ = _scores(n, "uniform", seed=2)
    ones = assert_equals_the_walk(s, torch.ones(n, dtype=torch.long))
    assert ones.tolist() == [[float(n), float(n), 0.0]]  # precision 1 at every threshold: AP = 1
    zeros = assert_equals_the_walk(s, torch.zeros(n, dtype=torch.long))
    assert zeros.tolist() == [[0.0, 0.0, float(n)]]
    with pytest.raises(ValueError, match="undefined without positive"):
        M.average_precision(s, torch.zeros(n, dtype=torch.long))


@pytest.mark.parametrize("n", [500, 300_000])
def test_signed_zeros_tie_and_infinities_rank(n):
    s, y = _scores(n, "ties", seed=3)
    s[::7] = 0.0
    s[3::7] = -0.0
    s[5::101] = float("inf")
    s[6::103] = -float("inf")
    s[0] = float("inf")
    y[0] = 1
    fast = assert_equals_the_walk(s, y)
    finite = s.clamp(-1.0, 1.0)  # scikit-learn rejects inf; clamping keeps the order and the ties
    assert abs(float(fast[0, 0] / fast[0, 1]) - sk_ap(finite, y)) <= 1e-12


@pytest.mark.parametrize("dtype", [torch.float16, torch.bfloat16])
def test_half_scores_on_the_bucket_path(dtype):
    s, y = _scores(300_000, "spread", seed=4)
    s = (s / 1e3).to(dtype)
    torch.testing.assert_close(
        OPS.auroc_average_precision(s, y, None), OPS.auroc_average_precision(s.double(), y, None), rtol=0, atol=0
    )


def test_multilabel_columns_take_the_same_path():
    n = 200_000
    g = torch.Generator().manual_seed(5)
    S = torch.randint(0, 5000, (n, 3), generator=g).float()
    Y = (torch.rand(n, 3, generator=g) < 0.3).long()
    Y[:, 2] = 1
    fast = OPS.auroc_average_precision(S, Y, None)
    torch.testing.assert_close(fast, OPS.auroc_average_precision(S.double(), Y, None), rtol=0, atol=0)
    per_column = torch.stack([OPS.auroc_average_precision(S[:, k].contiguous(), Y[:, k], None)[0] for k in range(3)])
    torch.testing.assert_close(fast, per_column, rtol=0, atol=0)


@pytest.mark.parametrize("where", [0, 123_456, 299_999])
@pytest.mark.parametrize("sign", [1.0, -1.0])
def test_nan_scores_are_rejected(where, sign):
    s, y = _scores(300_000, "spread", seed=7)
    s[where] = sign * float("nan")
    with pytest.raises(ValueError, match="NaN"):
        OPS.auroc_average_precision(s, y, None)
    with pytest.raises(ValueError, match="NaN"):
        M.average_precision(s[:1000].clone().fill_(float("nan")), y[:1000])


def test_bad_labels_are_named():
    s, y = _scores(BUCKETS + 5, "uniform", seed=8)
    y[60_000] = 2
    with pytest.raises(ValueError, match="labels"):
        M.average_precision(s, y)


@settings(max_examples=25, deadline=None)
@given(
    n=st.sampled_from([1, 2, 50, 300, BUCKETS, BUCKETS + 999]),
    seed=st.integers(0, 100_000),
    values=st.sampled_from([2, 7, 1000, 0]),  # distinct scores drawn from (0: continuous)
    scale=st.sampled_from([1.0, 1e-38, 1e35, -1.0]),
    p=st.sampled_from([0.0, 0.01, 0.5, 1.0]),
)
def test_property_equals_the_walk_and_the_references(n, seed, values, scale, p):
    g = torch.Generator().manual_seed(seed)
    s = torch.randn(n, generator=g) if values == 0 else torch.randint(0, values, (n,), generator=g).float()
    s = s * scale
    y = (torch.rand(n, generator=g) < p).long()
    fast = assert_equals_the_walk(s, y)
    if y.sum() == 0:
        return
    ap = float(fast[0, 0] / fast[0, 1])
    assert abs(ap - sk_ap(s, y)) <= 1e-12
    if n <= 300:  # the float64 brute force over thresholds
        assert abs(ap - float(R.average_precision_thresholds(s, y))) <= 1e-12
