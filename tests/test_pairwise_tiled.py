"""The tiled logistic / sigmoid surrogates on float32 scores against the float64 reference, at the bound
the CPU kernel states (csrc/pairwise/cpu_tiled.cpp):

- the loss and every score gradient within TILED_RTOL relative (positive weights: every pair term has
  the sign of the sum), plus TILED_ATOL for terms that underflow float32 (|v| > 87);
- weight gradients (for "mean" a difference of two sums of size |loss| / side total) within TILED_RTOL
  of that size;
- the same inputs give the same result on any thread count, within two float32 ulps.

The float64 path stays on libm and is held to 1e-8 by test_pairwise.py."""

import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from torchauc import functional as F
from torchauc.reference import pairwise as R

TILED = ["logistic", "sigmoid"]
TILED_RTOL = 1e-4  # worst case ~4e-5: |v| 1.2e-7 (the rounded v, |v| < 87), 512-term float partials
TILED_ATOL = 1e-30  # far below float32's smallest normal: what the underflowed terms (< e^-87) add up to
TWO_ULPS = 2.0**-22


def batch(n, pos_frac, seed, scale, ties, one_class=False):
    g = torch.Generator().manual_seed(seed)
    s = torch.randn(n, generator=g, dtype=torch.float64) * scale
    if ties:
        s = torch.round(s * 2) / 2
    y = (torch.rand(n, generator=g) < pos_frac).long()
    if one_class:
        y.fill_(int(pos_frac > 0.5))
    else:
        y[0], y[-1] = 1, 0
    return s.float(), y


def run(fn, s, y, surrogate, margin, reduction, a=None, b=None):
    x = s.detach().clone().requires_grad_()
    aa = a.detach().clone().requires_grad_() if a is not None else None
    bb = b.detach().clone().requires_grad_() if b is not None else None
    loss = fn(x, y, surrogate=surrogate, margin=margin, pos_weights=aa, neg_weights=bb, reduction=reduction)
    loss.backward()
    grads = [t.grad for t in (aa, bb) if t is not None]
    return loss.detach().double(), x.grad.double(), [g.double() for g in grads]


def assert_within_bound(s, y, surrogate, margin, reduction, a=None, b=None):
    loss, gs, gw = run(F.pairwise_auc_loss, s, y, surrogate, margin, reduction, a, b)
    ref_w = [t.double() if t is not None else None for t in (a, b)]
    rl, rgs, rgw = run(R.pairwise_auc_loss, s.double(), y, surrogate, margin, reduction, *ref_w)
    torch.testing.assert_close(loss, rl, rtol=TILED_RTOL, atol=TILED_ATOL)
    # the reference's sigmoid'(v) = s (1 - s) is 0 in float64 once s rounds to 1 (v > 37): its own
    # absolute error, up to 2^-53 per pair, where ours keeps e^-v
    ref_atol = 2.0**-52 * margin * (s.numel() if reduction == "sum" else 1) * 2
    torch.testing.assert_close(gs, rgs, rtol=TILED_RTOL, atol=TILED_ATOL + ref_atol)
    pos = y.bool()
    side_totals = [float(a[pos].sum()), float(b[~pos].sum())] if a is not None and b is not None else []
    for o, r, total in zip(gw, rgw, side_totals):
        # "mean": (dS/dw - loss * other side's total) / W, two terms of size |loss| / (own side's total)
        scale = float(r.abs().max()) + float(rl.abs()) / total
        torch.testing.assert_close(o, r, rtol=0, atol=TILED_RTOL * scale + TILED_ATOL)


@settings(max_examples=60, deadline=None)
@given(
    n=st.integers(2, 700),
    pos_frac=st.floats(0.02, 0.98),
    seed=st.integers(0, 10_000),
    scale=st.sampled_from([0.1, 1.0, 10.0, 30.0, 1e4]),  # 10: factored tiles with |v| up to ~80
    ties=st.booleans(),
    surrogate=st.sampled_from(TILED),
    margin=st.floats(0.05, 3.0),
    reduction=st.sampled_from(["mean", "sum"]),
    weighted=st.booleans(),
)
def test_float32_within_stated_bound(n, pos_frac, seed, scale, ties, surrogate, margin, reduction, weighted):
    s, y = batch(n, pos_frac, seed, scale, ties)
    a = b = None
    if weighted:
        g = torch.Generator().manual_seed(seed + 1)
        a, b = torch.rand(n, generator=g) + 0.1, torch.rand(n, generator=g) + 0.1
    assert_within_bound(s, y, surrogate, margin, reduction, a, b)


@pytest.mark.parametrize("surrogate", TILED)
@pytest.mark.parametrize("pos_frac", [0.1, 0.9])  # positives as the rows, then as the columns
def test_several_blocks_and_row_chunks(surrogate, pos_frac):
    # > 1024 columns (several column blocks, the last one partial) and > 256 rows (several float row chunks,
    # row count not a multiple of the 4-row register block)
    s, y = batch(5003, pos_frac, seed=3, scale=3.0, ties=True)
    assert_within_bound(s, y, surrogate, 0.7, "mean")


@pytest.mark.parametrize("surrogate", TILED)
@pytest.mark.parametrize("pos_frac", [0.1, 0.9])
def test_factored_and_exp_tiles_in_one_call(surrogate, pos_frac):
    # float tiles whose pairs all have |u_row| + |u_col| <= 80 multiply per-sample exp factors, the others take
    # the exp of v per pair: rows far from the middle (margin 1.5 * 60 = 90) and one column block holding a far
    # column take the second form, every other tile the first, in the same call
    s, y = batch(3001, pos_frac, seed=7, scale=2.0, ties=True)
    minority = (y == 1) if pos_frac < 0.5 else (y == 0)
    far_rows = minority.nonzero().flatten()[5:12]
    s[far_rows] = torch.tensor([60.0, -60.0, 70.0, -55.0, 0.25, 58.0, -61.0])
    majority = (~minority).nonzero().flatten()
    s[majority[1500]] = -60.0  # the second column block (1024 columns each)
    assert_within_bound(s, y, surrogate, 1.5, "mean")
    assert_within_bound(s, y, surrogate, 1.5, "sum")


@pytest.mark.parametrize("surrogate", TILED)
def test_factored_pair_terms_within_a_few_ulps(surrogate):
    # One positive: each negative's weight gradient ("sum") is its pair's value and its score gradient m times the
    # pair's derivative, one float term each. e^{+-v} from the exp factors is within ~3 half-ulps, the sigmoid's
    # Newton reciprocal within 2: the terms stay within 1.5e-6 (logistic's value: the log1p fit, 1.5e-6, plus
    # rounding). Two Newton steps instead of three would leave up to 6.4e-6.
    z = torch.linspace(-30.0, 30.0, 1001)
    s = torch.cat([torch.tensor([0.3]), z])
    y = torch.cat([torch.ones(1), torch.zeros(z.numel())]).long()
    a, b = torch.ones(s.numel()), torch.ones(s.numel())
    _, gs, (_, gb) = run(F.pairwise_auc_loss, s, y, surrogate, 1.0, "sum", a, b)
    v = z.double() - s[0].double()  # margin 1; float64 terms without the reference's 1 - sigmoid cancellation
    if surrogate == "logistic":
        value, deriv, value_rtol = torch.nn.functional.softplus(v), torch.sigmoid(v), 2e-6
    else:
        value, deriv, value_rtol = torch.sigmoid(v), torch.sigmoid(v) * torch.sigmoid(-v), 1.5e-6
    torch.testing.assert_close(gb[1:], value, rtol=value_rtol, atol=0)
    torch.testing.assert_close(gs[1:], deriv, rtol=1.5e-6, atol=0)


@pytest.mark.parametrize("surrogate", TILED)
def test_extreme_scores_stay_finite_and_within_bound(surrogate):
    # |s| up to 1e4: most pairs saturate (v << -87 or v >> 87), a few sit near v = 0 in the middle
    s = torch.cat([torch.linspace(-1e4, 1e4, 301), torch.tensor([1e4, 1e4 + 0.5, -1e4, -1e4 + 1e-3])]).float()
    y = (torch.arange(s.numel()) % 3 == 0).long()
    for margin in (0.3, 1.0, 2.5):
        assert_within_bound(s, y, surrogate, margin, "mean")


@pytest.mark.parametrize("surrogate", TILED)
@pytest.mark.parametrize("positive", [True, False])
def test_one_class_float32_is_zero(surrogate, positive):
    s, y = batch(100, 1.0 if positive else 0.0, seed=0, scale=1.0, ties=False, one_class=True)
    loss, gs, _ = run(F.pairwise_auc_loss, s, y, surrogate, 1.0, "mean")
    assert float(loss) == 0.0 and not gs.any()


@pytest.mark.parametrize("surrogate", TILED)
@pytest.mark.parametrize("pos_frac", [0.1, 0.9])
def test_thread_count_changes_nothing_beyond_rounding(surrogate, pos_frac):
    s, y = batch(9000, pos_frac, seed=5, scale=2.0, ties=False)
    g = torch.Generator().manual_seed(6)
    a, b = torch.rand(9000, generator=g) + 0.1, torch.rand(9000, generator=g) + 0.1
    before = torch.get_num_threads()
    results = []
    try:
        for threads in (1, 2, 3):
            torch.set_num_threads(threads)
            results.append(run(F.pairwise_auc_loss, s, y, surrogate, 1.0, "mean", a, b))
    finally:
        torch.set_num_threads(before)
    (l1, g1, w1), *rest = results
    for loss, gs, gw in rest:
        torch.testing.assert_close(loss, l1, rtol=TWO_ULPS, atol=0)
        torch.testing.assert_close(gs, g1, rtol=TWO_ULPS, atol=TILED_ATOL)
        for o, r in zip(gw, w1):
            torch.testing.assert_close(o, r, rtol=TWO_ULPS, atol=TILED_ATOL)
