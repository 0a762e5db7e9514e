"""The O(n) square / exp pairwise path on the CPU (csrc/pairwise/cpu_moments.cpp): several chunks,
inputs read in their own dtypes, per-chunk moments combined exactly, gradients written once. Values
against float64 closed forms; bitwise equal across thread counts and label dtypes."""

import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st
from pairwise_common import run

from torchauc import functional as F
from torchauc.reference import pairwise as R

N = 3 * 32768 + 1234  # four chunks, the last one partial


def batch(n=N, offset=0.0, seed=0, dtype=torch.float64):
    g = torch.Generator().manual_seed(seed)
    s = (torch.randn(n, generator=g, dtype=torch.float64) + offset).to(dtype)
    y = (torch.rand(n, generator=g) < 0.2).long()
    a = torch.rand(n, generator=g, dtype=torch.float64).to(dtype)
    b = torch.rand(n, generator=g, dtype=torch.float64).to(dtype)
    return s, y, a, b


def centred_square(s, y, a, b, m=1.0):
    """sum a b (m - x + z)^2 / sum a b from globally centred float64 moments (two passes)."""
    pos = y.bool()
    u, z = (m - s[pos]).double(), s[~pos].double()
    aa, bb = a[pos].double(), b[~pos].double()
    A, B = aa.sum(), bb.sum()
    mu, mz = (aa * u).sum() / A, (bb * z).sum() / B
    cu, cz = (aa * (u - mu) ** 2).sum(), (bb * (z - mz) ** 2).sum()
    return (B * cu + A * cz + A * B * (mu + mz) ** 2) / (A * B)


@pytest.mark.parametrize("offset", [0.0, 1e4])
def test_square_across_chunks_is_the_centred_float64_value(offset):
    # scores far from 0: the per-chunk centred moments (exact shift formula) keep float64 accuracy
    s, y, a, b = batch(offset=offset)
    loss = run(s, y, "square", a, b)[0]
    torch.testing.assert_close(loss, centred_square(s, y, a, b), rtol=1e-10, atol=0)
    ones = torch.ones_like(s)
    torch.testing.assert_close(run(s, y, "square")[0], centred_square(s, y, ones, ones), rtol=1e-10, atol=0)


@pytest.mark.parametrize("surrogate", ["square", "exp"])
def test_gradients_across_chunks_match_the_closed_form(surrogate):
    s, y, _, _ = batch(seed=1)
    m = 1.0 if surrogate == "square" else 0.5
    ours = run(s, y, surrogate, margin=m)
    x = s.clone().requires_grad_()
    ref = R.pairwise_auc_loss_closed_form(x, y, surrogate, m)
    ref.backward()
    torch.testing.assert_close(ours[0], ref.detach(), rtol=1e-10, atol=0)
    torch.testing.assert_close(ours[1], x.grad, rtol=1e-8, atol=1e-18)


@pytest.mark.parametrize("weighted", [True, False])
@pytest.mark.parametrize("surrogate", ["square", "exp"])
def test_bitwise_equal_across_thread_counts(surrogate, weighted):
    s, y, a, b = batch(seed=2, dtype=torch.float32)
    a, b = (a, b) if weighted else (None, None)
    old = torch.get_num_threads()
    try:
        torch.set_num_threads(1)
        one = run(s, y, surrogate, a, b, margin=0.5)
        torch.set_num_threads(2)
        two = run(s, y, surrogate, a, b, margin=0.5)
    finally:
        torch.set_num_threads(old)
    for p, q in zip(one, two):
        assert torch.equal(p, q)


@pytest.mark.parametrize("surrogate", ["square", "exp"])
def test_every_label_dtype_gives_the_same_bits(surrogate):
    # bool / int8 / int64 / float32 are read in place, the others converted once: same result
    s, y, _, _ = batch(seed=3, dtype=torch.float32)
    base = run(s, y, surrogate, margin=0.5)
    for dt in (torch.bool, torch.int8, torch.uint8, torch.int32, torch.float32, torch.float64, torch.float16):
        for p, q in zip(run(s, y.to(dt), surrogate, margin=0.5), base):
            assert torch.equal(p, q), dt


def test_bad_label_in_a_later_chunk_names_its_index():
    s, y, _, _ = batch(seed=4)
    for dt in (torch.long, torch.float32, torch.int32):
        bad = y.to(dt).clone()
        bad[N - 7] = 2
        with pytest.raises(ValueError, match=f"labels must contain only 0 and 1.*index {N - 7}"):
            F.pairwise_auc_loss(s, bad)


@pytest.mark.parametrize("surrogate", ["square", "exp"])
def test_weights_of_another_dtype_are_widened_not_rounded(surrogate):
    s, y, a, b = batch(n=5000, seed=5)
    ours = run(s.float(), y, surrogate, a, b, margin=0.5)  # float32 scores, float64 weights
    assert [t.dtype for t in ours] == [torch.float32, torch.float32, torch.float64, torch.float64]
    ref = run(s.float().double(), y, surrogate, a, b, margin=0.5)
    for p, q in zip(ours, ref):
        torch.testing.assert_close(p.double(), q, rtol=2e-7, atol=1e-12)


@pytest.mark.parametrize("surrogate", ["square", "exp"])
def test_nan_score_with_weights(surrogate):
    s, y, a, b = batch(n=100, seed=6)
    s[17] = float("nan")
    loss, gs, ga, gb = run(s, y, surrogate, a, b)
    pos = y.bool()
    assert torch.isnan(loss) and torch.isnan(gs).all()
    assert torch.isnan(ga[pos]).all() and (ga[~pos] == 0).all()
    assert torch.isnan(gb[~pos]).all() and (gb[pos] == 0).all()


@pytest.mark.parametrize("dtype", [torch.float32, torch.float64])
@pytest.mark.parametrize("surrogate", ["square", "exp"])
def test_nan_score_in_a_later_chunk_without_weights(surrogate, dtype):
    # float32 exp: earlier chunks have stored their factors in the gradient buffer by then
    s, y, _, _ = batch(seed=6, dtype=dtype)
    s[N - 5] = float("nan")
    loss, gs = run(s, y, surrogate, margin=0.5)
    assert torch.isnan(loss) and torch.isnan(gs).all()


@pytest.mark.parametrize("surrogate", ["square", "exp"])
def test_retained_graphs_and_scaled_backward(surrogate):
    s, y, a, _ = batch(n=2000, seed=7)
    x = s.clone().requires_grad_()
    loss = F.pairwise_auc_loss(x, y, surrogate=surrogate, margin=0.5)
    loss.backward(retain_graph=True)
    g = x.grad.clone()
    x.grad.zero_()  # in place on the accumulated gradient: the graph's copy must stay intact
    loss.backward(retain_graph=True)
    torch.testing.assert_close(x.grad, g, rtol=0, atol=0)
    loss.backward(retain_graph=True)
    loss.backward()
    torch.testing.assert_close(x.grad, 3 * g)
    x.grad = None
    (2.5 * F.pairwise_auc_loss(x, y, surrogate=surrogate, margin=0.5)).backward()  # a scale other than 1
    torch.testing.assert_close(x.grad, 2.5 * g)


@pytest.mark.parametrize("scale", [1.0, 30.0])
def test_exp_matches_a_float64_evaluation_over_wide_exponents(scale):
    # keys spanning hundreds: per-sample factors from ~1 down to ~e^-250, each side shifted by its max
    s, y, a, b = batch(n=70_000, seed=8)
    s = s * scale + torch.where(y.bool(), 4.0, -4.0) * scale  # well separated: no overflow
    ours = run(s, y, "exp", a, b, margin=1.0, reduction="sum")
    x = s.clone().requires_grad_()
    wa, wb = a.clone().requires_grad_(), b.clone().requires_grad_()
    pos = y.bool()
    # sum a b exp(z - x) = (sum_P a e^{-x}) (sum_N b e^{z}), with each side shifted by its max (libm exp)
    cp, cn = (-x[pos]).max().detach(), x[~pos].max().detach()
    total = (wa[pos] * torch.exp(-x[pos] - cp)).sum() * (wb[~pos] * torch.exp(x[~pos] - cn)).sum() * torch.exp(cp + cn)
    total.backward()
    ref = [total.detach(), x.grad, wa.grad * pos, wb.grad * ~pos]
    for p, q in zip(ours, ref):
        torch.testing.assert_close(p, q, rtol=1e-13, atol=1e-300)


def float64_exp_loss(s, y, a, b, margin, reduction):
    """The exp loss and its gradients in float64 (libm exp, each side shifted by its max)."""
    x = s.double().requires_grad_()
    wa, wb = a.double().requires_grad_(), b.double().requires_grad_()
    pos = y.bool()
    kp, kn = -margin * x[pos], margin * x[~pos]
    cp, cn = kp.max().detach(), kn.max().detach()
    total = (wa[pos] * torch.exp(kp - cp)).sum() * (wb[~pos] * torch.exp(kn - cn)).sum() * torch.exp(cp + cn)
    if reduction == "mean":
        total = total / (wa[pos].sum() * wb[~pos].sum())
    total.backward()
    return [total.detach(), x.grad, wa.grad * pos, wb.grad * ~pos]


# float32 scores take the vectorised exp (exp_nonpos_fast, < 5e-10 relative, terms below e^-700
# flushed to 0): the stated bound is 2.5e-7 relative (the float32 rounding of each output
# dominates) plus 1e-9 of the tensor's largest entry absolute (the mean's weight gradients
# f - loss/A subtract nearly equal terms) and one float32 subnormal.
EXP_FLOAT32_RTOL = 2.5e-7


def assert_within_float32_bound(ours, ref, scale=0.0):
    # scale: the size of the terms a cancelling output subtracts (mean weight gradients f - loss/A
    # can be exactly 0 analytically; their error follows loss/A, not the output's own size)
    atol = max(2e-45, 1e-9 * max(ref.abs().max().item(), scale))
    torch.testing.assert_close(ours.double(), ref, rtol=EXP_FLOAT32_RTOL, atol=atol)


@settings(max_examples=40, deadline=None)
@given(
    n=st.integers(2, 3000),
    seed=st.integers(0, 10_000),
    spread=st.sampled_from([1.0, 30.0, 80.0]),
    margin=st.floats(0.05, 2.0),
    ties=st.booleans(),
    one_class=st.booleans(),
    reduction=st.sampled_from(["mean", "sum"]),
    weighted=st.booleans(),
)
def test_float32_exp_is_within_its_bound_of_float64(n, seed, spread, margin, ties, one_class, reduction, weighted):
    g = torch.Generator().manual_seed(seed)
    s = (torch.randn(n, generator=g, dtype=torch.float64) * spread).float()
    if ties:
        s = s.round()
    y = (torch.rand(n, generator=g) < 0.3).long()
    if one_class:
        y.fill_(seed % 2)
    a = torch.rand(n, generator=g).float() + 0.1
    b = torch.rand(n, generator=g).float() + 0.1
    if not weighted:  # the unweighted path stores its factors in the gradient buffer (one exp per sample)
        a, b = torch.ones_like(s), torch.ones_like(s)
    ours = run(s, y, "exp", *((a, b) if weighted else (None, None)), margin=margin, reduction=reduction)
    if y.all() or not y.any():  # no pairs: zero loss and gradients
        assert all((t == 0).all() for t in ours)
        return
    ref = float64_exp_loss(s, y, a, b, margin, reduction)
    if not torch.isfinite(ref[0]):
        return  # the float64 value overflows: no bound to check
    pos = y.bool()
    sums = min(a[pos].sum().item(), b[~pos].sum().item())
    scale = ref[0].abs().item() / sums if reduction == "mean" else 0.0
    for p, q in zip(ours, ref):
        if torch.isfinite(q).all() and q.abs().max() < 3e38:  # the float32 result is representable
            assert_within_float32_bound(p, q, scale)


@pytest.mark.parametrize("weighted", [True, False])
@pytest.mark.parametrize("surrogate", ["square", "exp"])
def test_float32_extreme_scores_match_float64(surrogate, weighted):
    # keys over hundreds (exp: factors down to e^-600, flushed below e^-700), several chunks
    s, y, a, b = batch(seed=9, dtype=torch.float32)
    s = s * 40.0
    m = 0.2 if surrogate == "exp" else 1.0
    a, b = (a, b) if weighted else (None, None)
    ours = run(s, y, surrogate, a, b, margin=m, reduction="sum")
    ref = run(s.double(), y, surrogate, *((a.double(), b.double()) if weighted else (None, None)), m, "sum")
    for p, q in zip(ours, ref):
        assert_within_float32_bound(p, q)


@pytest.mark.parametrize("layout", ["positives in the first chunk only", "one chunk far above the rest", "wide"])
@pytest.mark.parametrize("reduction", ["mean", "sum"])
def test_float32_exp_across_chunks_is_within_its_bound(layout, reduction):
    # the unweighted float32 path scales each chunk's stored e^(key - chunk max) by that chunk's
    # constant: chunks with one side absent, chunk maxima far below the global one, keys spread
    # over ~300 within a chunk (stored factors leave float's range), against the float64 evaluation
    s, y, _, _ = batch(seed=10, dtype=torch.float32)
    s = s * 3.0
    if layout == "positives in the first chunk only":
        y[32768:] = 0
    elif layout == "one chunk far above the rest":
        s[2 * 32768 : 3 * 32768] += 30.0  # negatives there dominate, positives there barely count
    else:
        s = s * 10.0 + torch.where(y.bool(), 100.0, -100.0)  # separated sides: the loss stays finite
    ones = torch.ones_like(s)
    ours = run(s, y, "exp", margin=1.0, reduction=reduction)
    ref = float64_exp_loss(s, y, ones, ones, 1.0, reduction)[:2]
    for p, q in zip(ours, ref):
        assert_within_float32_bound(p, q)
