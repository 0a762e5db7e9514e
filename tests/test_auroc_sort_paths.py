"""The CPU AUROC ops pick a path by input: unweighted float16/bfloat16/float32 binary columns sort the
positives' and negatives' keys apart and count U by a merge (integers), the weighted and float64
columns sort (key, payload) and walk tie groups; (N, C) multiclass scores with many columns are read
transposed. At sizes that switch the radix digit width (2^18) and the thread split (2^16), with
heavy ties, the paths must agree exactly and match the float64 references."""

import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

import torchauc  # noqa: F401  (loads the ops)
from torchauc.metrics import functional as F
from torchauc.reference import auroc as R

OPS = torch.ops.torchauc


def _scores(n, kind, seed):
    g = torch.Generator().manual_seed(seed)
    if kind == "ties":
        s = torch.randint(0, 997, (n,), generator=g).float() / 997 - 0.5  # heavy ties, both signs
    elif kind == "constant":
        s = torch.full((n,), 0.25)
    else:
        s = torch.randn(n, generator=g) * 1e3
    y = (torch.rand(n, generator=g) < torch.sigmoid(s.double() / s.double().abs().max() * 3)).long()
    return s, y


@pytest.mark.parametrize("n", [1000, (1 << 16) + 7, (1 << 18) + 3, 600_000])
@pytest.mark.parametrize("kind", ["ties", "constant", "spread"])
def test_unweighted_split_sort_equals_the_tie_group_walk(n, kind):
    s, y = _scores(n, kind, seed=n)
    fast = OPS.auroc_binary_stats(s, y, None)  # split sort + merge count
    walk = OPS.auroc_binary_stats(s, y, torch.ones(n, dtype=torch.float64))  # (key, index) sort + walk
    torch.testing.assert_close(fast, walk, rtol=0, atol=0)
    wide = OPS.auroc_binary_stats(s.double(), y, None)  # float64 keys: the (key, group) sort
    torch.testing.assert_close(fast, wide, rtol=0, atol=0)
    ref = R.auroc_sort(s.double(), y)
    assert abs(float(fast[0, 0] / (fast[0, 1] * fast[0, 2])) - float(ref)) <= 1e-12 or kind == "constant"


@pytest.mark.parametrize("dtype", [torch.float16, torch.bfloat16])
def test_half_scores_take_the_split_path_exactly(dtype):
    s, y = _scores(300_000, "spread", seed=3)
    s = (s / 1e3).to(dtype)
    torch.testing.assert_close(
        OPS.auroc_binary_stats(s, y, None), OPS.auroc_binary_stats(s.double(), y, None), rtol=0, atol=0
    )


def test_multilabel_columns_and_one_class_columns():
    n = 200_000
    g = torch.Generator().manual_seed(5)
    S = torch.randint(0, 50, (n, 3), generator=g).float()
    Y = (torch.rand(n, 3, generator=g) < 0.3).long()
    Y[:, 2] = 1  # only positives: U = 0, W_neg = 0
    fast = OPS.auroc_binary_stats(S, Y, None)
    torch.testing.assert_close(fast, OPS.auroc_binary_stats(S.double(), Y, None), rtol=0, atol=0)
    assert float(fast[2, 2]) == 0.0 and float(fast[2, 1]) == n


@pytest.mark.parametrize("where", [0, 123_456, 299_999])
@pytest.mark.parametrize("sign", [1.0, -1.0])
def test_nan_scores_are_rejected_on_the_split_path(where, sign):
    s, y = _scores(300_000, "spread", seed=7)
    s[where] = sign * float("nan")
    with pytest.raises(ValueError, match="NaN"):
        OPS.auroc_binary_stats(s, y, None)
    with pytest.raises(ValueError, match="NaN"):
        F.auroc(s, y)


def test_infinities_rank_on_the_split_path():
    s, y = _scores(300_000, "spread", seed=8)
    s[:10] = float("inf")
    s[10:20] = -float("inf")
    torch.testing.assert_close(
        OPS.auroc_binary_stats(s, y, None), OPS.auroc_binary_stats(s.double(), y, None), rtol=0, atol=0
    )


@pytest.mark.parametrize("C", [4, 8, 40])
def test_multiclass_transposed_read_equals_the_strided_read(C):
    n = 5000
    g = torch.Generator().manual_seed(C)
    S = torch.randint(0, 30, (n, C), generator=g).float()
    Y = torch.randint(0, C, (n,), generator=g)
    U, W = OPS.auroc_multiclass_stats(S, Y, None, -100)
    # the (B, C, 1) layout reads the columns in place, without the transposed copy
    U3, W3 = OPS.auroc_multiclass_stats(S.unsqueeze(-1), Y.unsqueeze(-1), None, -100)
    torch.testing.assert_close(U, U3, rtol=0, atol=0)
    torch.testing.assert_close(W, W3, rtol=0, atol=0)
    ours = float(F.multiclass_auroc(S, Y, mode="ovo"))
    assert abs(ours - R.hand_till_pairs(S, Y)) <= 1e-6  # the float32 result of a float64 mean


def _classes(n, C, kind, seed):
    g = torch.Generator().manual_seed(seed)
    if kind == "ties":
        S = torch.randint(0, 7, (n, C), generator=g).float() / 7  # heavy ties, crowded buckets
    elif kind == "constant":
        S = torch.full((n, C), 0.5)
    else:
        S = torch.softmax(torch.randn(n, C, generator=g) * 3, 1)
    Y = torch.randint(0, C, (n,), generator=g)
    return S, Y


@pytest.mark.parametrize("kind", ["ties", "constant", "spread"])
@pytest.mark.parametrize(("n", "C"), [(3000, 16), (20000, 40), (700, 100)])
def test_multiclass_bucket_search_equals_the_tie_group_walk(n, C, kind):
    # unweighted float32 with C >= 16 locates every sample among the sorted positives; unit weights and
    # float64 scores take the (key, payload) sort and tie walk: the tables must be equal bit for bit
    S, Y = _classes(n, C, kind, seed=n + C)
    Y[::11] = -100  # ignored samples
    Y[Y == 3] = 5  # class 3 absent: its row stays 0
    U, W = OPS.auroc_multiclass_stats(S, Y, None, -100)
    Uw, Ww = OPS.auroc_multiclass_stats(S, Y, torch.ones(n, dtype=torch.float64), -100)
    Ud, Wd = OPS.auroc_multiclass_stats(S.double(), Y, None, -100)
    for other in (Uw, Ud):
        torch.testing.assert_close(U, other, rtol=0, atol=0)
    torch.testing.assert_close(W, Ww, rtol=0, atol=0)
    torch.testing.assert_close(W, Wd, rtol=0, atol=0)
    assert float(U[3].abs().sum()) == 0.0


@pytest.mark.parametrize("dtype", [torch.float16, torch.bfloat16])
def test_multiclass_bucket_search_half_scores(dtype):
    S, Y = _classes(4000, 20, "spread", seed=7)
    S = S.to(dtype)
    U, _ = OPS.auroc_multiclass_stats(S, Y, None, -100)
    Uw, _ = OPS.auroc_multiclass_stats(S, Y, torch.ones(4000, dtype=torch.float64), -100)
    torch.testing.assert_close(U, Uw, rtol=0, atol=0)
    # the (B, C, 1) layout reads the columns in place
    U3, _ = OPS.auroc_multiclass_stats(S.unsqueeze(-1), Y.unsqueeze(-1), None, -100)
    torch.testing.assert_close(U, U3, rtol=0, atol=0)


@pytest.mark.parametrize("value", [float("nan"), -float("nan")])
def test_multiclass_bucket_search_rejects_nan(value):
    S, Y = _classes(2000, 20, "spread", seed=3)
    S[17, 4] = value
    with pytest.raises(ValueError, match="NaN"):
        OPS.auroc_multiclass_stats(S, Y, None, -100)


def test_multiclass_bucket_search_infinities_and_the_sklearn_value():
    S, Y = _classes(3000, 16, "spread", seed=5)
    S[::97, 2] = float("inf")
    S[1::89, 2] = -float("inf")
    U, _ = OPS.auroc_multiclass_stats(S, Y, None, -100)
    Uw, _ = OPS.auroc_multiclass_stats(S, Y, torch.ones(3000, dtype=torch.float64), -100)
    torch.testing.assert_close(U, Uw, rtol=0, atol=0)
    S, Y = _classes(3000, 16, "ties", seed=6)
    ours = float(F.multiclass_auroc(S, Y, mode="ovo"))
    assert abs(ours - R.hand_till_pairs(S, Y)) <= 1e-6


def _bucket_boundary_scores(n, seed):
    # keys on both sides of 16-bit key-prefix boundaries (the bucket edges of the binary count), tied
    # across the classes, plus a spread part so that many buckets exist
    g = torch.Generator().manual_seed(seed)
    edges = torch.tensor([0.5, 0.25, -0.5, 1.0, 2.0, -2.0], dtype=torch.float32)
    below = torch.nextafter(edges, torch.full_like(edges, -float("inf")))
    above = torch.nextafter(edges, torch.full_like(edges, float("inf")))
    pool = torch.cat([edges, below, above])
    s = torch.randn(n, generator=g)
    pick = torch.rand(n, generator=g) < 0.3
    s[pick] = pool[torch.randint(0, pool.numel(), (int(pick.sum()),), generator=g)]
    y = (torch.rand(n, generator=g) < 0.4).long()
    return s, y


@pytest.mark.parametrize("n", [(1 << 16) + 1, 300_001])
def test_bucketed_binary_count_at_prefix_boundaries_equals_the_walk(n):
    s, y = _bucket_boundary_scores(n, seed=n)
    fast = OPS.auroc_binary_stats(s, y, None)
    walk = OPS.auroc_binary_stats(s, y, torch.ones(n, dtype=torch.float64))
    torch.testing.assert_close(fast, walk, rtol=0, atol=0)
    assert abs(float(fast[0, 0] / (fast[0, 1] * fast[0, 2])) - float(R.auroc_sort(s.double(), y))) <= 1e-12


def test_crowded_key_prefix_falls_back_to_the_split_sort_exactly():
    # 400k samples share one score (one 16-bit prefix above the bucket limit): the full split sort
    n = 600_000
    s, y = _bucket_boundary_scores(n, seed=11)
    s[:400_000] = 0.125
    fast = OPS.auroc_binary_stats(s, y, None)
    torch.testing.assert_close(fast, OPS.auroc_binary_stats(s.double(), y, None), rtol=0, atol=0)


def test_one_class_and_empty_class_on_the_bucketed_count():
    s, _ = _bucket_boundary_scores(200_000, seed=12)
    for label in (0, 1):
        y = torch.full((200_000,), label, dtype=torch.long)
        fast = OPS.auroc_binary_stats(s, y, None)
        torch.testing.assert_close(fast, OPS.auroc_binary_stats(s.double(), y, None), rtol=0, atol=0)


def test_multiclass_bucket_search_pixel_layout_and_a_larger_input():
    # (B, C, H, W) scores read in place (columns of H * W = 77 samples per image)
    g = torch.Generator().manual_seed(13)
    S = torch.randint(0, 40, (3, 20, 7, 11), generator=g).float() / 40
    Y = torch.randint(0, 20, (3, 7, 11), generator=g)
    Y[0, 0, :5] = -100
    U, W = OPS.auroc_multiclass_stats(S, Y, None, -100)
    Uw, Ww = OPS.auroc_multiclass_stats(S, Y, torch.ones(Y.numel(), dtype=torch.float64), -100)
    torch.testing.assert_close(U, Uw, rtol=0, atol=0)
    torch.testing.assert_close(W, Ww, rtol=0, atol=0)
    # 100k x 16: transposed (N, C) read, columns split over the threads, ~6k positives per column
    S, Y = _classes(100_000, 16, "spread", seed=14)
    U, _ = OPS.auroc_multiclass_stats(S, Y, None, -100)
    Uw, _ = OPS.auroc_multiclass_stats(S, Y, torch.ones(100_000, dtype=torch.float64), -100)
    torch.testing.assert_close(U, Uw, rtol=0, atol=0)


def _pair_count_table(S, Y, C):
    """U (C, C) by brute force in float64: U[k, j] = sum over p of class k, q of class j of H(s_pk - s_qk)
    (H = 1, 1/2, 0); S read as (B, C, M), Y as (B, M); labels outside [0, C) are ignored."""
    s = S.reshape(S.shape[0], C, -1).double().movedim(1, -1).reshape(-1, C)
    y = Y.reshape(-1)
    U = torch.zeros(C, C, dtype=torch.float64)
    for k in range(C):
        p, q = s[y == k, k][:, None], s[:, k][None, :]  # compared, not subtracted: inf - inf is NaN
        h = (p > q).double() + 0.5 * (p == q).double()
        keep = (y >= 0) & (y < C)
        U[k].index_add_(0, y[keep], h.sum(0)[keep])
        U[k, k] = 0.0
    return U


def _search_scores(shape, kind, g):
    if kind == "ties":
        return torch.randint(0, 4, shape, generator=g).float() / 3
    if kind == "extremes":
        pool = torch.tensor([float("inf"), -float("inf"), 0.0, -0.0, 1e-45, -1e-45, 3.4e38, -3.4e38, 1.0])
        return pool[torch.randint(0, pool.numel(), shape, generator=g)]
    if kind == "crowded":  # most keys tied on one value, so most buckets hold many positives
        s = torch.rand(shape, generator=g)
        return torch.where(torch.rand(shape, generator=g) < 0.7, torch.full(shape, 0.5), s)
    return torch.randn(shape, generator=g) * 10 ** torch.randint(-3, 4, shape, generator=g).float()


@settings(max_examples=60, deadline=None)
@given(
    n=st.integers(1, 240),
    C=st.integers(16, 33),
    M=st.sampled_from([1, 1, 3]),
    kind=st.sampled_from(["ties", "extremes", "crowded", "spread"]),
    one_class=st.booleans(),
    seed=st.integers(0, 10**6),
)
def test_multiclass_search_equals_the_pair_count(n, C, M, kind, one_class, seed):
    # unweighted float32 scores with C >= 16 take the bucket search: every U entry must equal the
    # float64 pair count exactly (2U is an integer), in the (N, C) and the (B, C, M) layouts
    g = torch.Generator().manual_seed(seed)
    B = max(1, n // M)
    S = _search_scores((B, C, M) if M > 1 else (B, C), kind, g)
    Y = (
        torch.full((B, M) if M > 1 else (B,), 2)
        if one_class
        else torch.randint(0, C, (B, M) if M > 1 else (B,), generator=g)
    )
    Y.view(-1)[:: max(2, n // 5)] = -100  # some ignored samples
    U, W = OPS.auroc_multiclass_stats(S, Y, None, -100)
    torch.testing.assert_close(U, _pair_count_table(S, Y, C), rtol=0, atol=0)
    torch.testing.assert_close(W, torch.bincount(Y[Y >= 0], minlength=C).double(), rtol=0, atol=0)


@pytest.mark.parametrize("layout", ["rows", "pixels"])
def test_multiclass_search_rejects_nan_in_an_absent_class_column(layout):
    # column 7's class has no sample: its counts are all 0, but its scores are still checked for NaN
    S, Y = _classes(600, 20, "spread", seed=9)
    Y[Y == 7] = 8
    S[123, 7] = float("nan")
    if layout == "pixels":
        S, Y = S.view(30, 20, 20).permute(0, 2, 1).contiguous(), Y.view(30, 20)  # (B, C, M): sample b * 20 + m
    with pytest.raises(ValueError, match="NaN"):
        OPS.auroc_multiclass_stats(S, Y, None, -100)
