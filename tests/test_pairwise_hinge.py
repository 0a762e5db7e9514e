"""The sort-based hinge / squared hinge path on the CPU (csrc/pairwise/cpu_hinge.cpp): one split radix
sort, walks over fixed chunks that start from per-block moment tables, labels read in their own
dtypes, NaN found from the sorted ends. Values and gradients against a float64 sort + cumsum form
(weighted, through autograd); bitwise equal across thread counts and label dtypes."""

import pytest
import torch
from pairwise_common import run

from torchauc import functional as F

N = 3 * 32768 + 1234  # four walk chunks, the last one partial; partial moment blocks


def batch(n=N, seed=0, dtype=torch.float64, ties=False, pos_rate=0.2):
    g = torch.Generator().manual_seed(seed)
    s = torch.randn(n, generator=g, dtype=torch.float64)
    if ties:  # quarters: many ties, and pairs exactly a margin (1.0) apart
        s = (s * 4).round() / 4
    y = (torch.rand(n, generator=g) < pos_rate).long()
    a = torch.rand(n, generator=g, dtype=torch.float64)
    b = torch.rand(n, generator=g, dtype=torch.float64)
    return s.to(dtype), y, a.to(dtype), b.to(dtype)


def reference(s, y, surrogate, a=None, b=None, margin=1.0, reduction="mean"):
    """float64 sort + suffix cumsums with weights; gradients by autograd (the active set is fixed)."""
    power = 1 if surrogate == "hinge" else 2
    s = s.double().detach().clone().requires_grad_()
    wa = a.double().detach().clone().requires_grad_() if a is not None else None
    wb = b.double().detach().clone().requires_grad_() if b is not None else None
    pos = y.bool()
    x, z = s[pos], s[~pos]
    aa = wa[pos] if wa is not None else torch.ones_like(x)
    bb = wb[~pos] if wb is not None else torch.ones_like(z)
    zs, order = torch.sort(z.detach())
    zs = z[order]
    bs = bb[order]

    def suffix(v):
        return torch.cat([torch.flip(torch.cumsum(torch.flip(v, [0]), 0), [0]), v.new_zeros(1)])

    c0, c1, c2 = suffix(bs), suffix(bs * zs), suffix(bs * zs * zs)
    k = torch.searchsorted(zs.detach(), (x - margin).detach(), right=True)  # first z > x - m
    u = margin - x
    value = u * c0[k] + c1[k] if power == 1 else u * u * c0[k] + 2 * u * c1[k] + c2[k]
    total = (aa * value).sum()
    loss = total if reduction == "sum" else total / (aa.sum() * bb.sum())
    loss.backward()
    return [loss.detach(), s.grad] + ([wa.grad, wb.grad] if wa is not None and wb is not None else [])


@pytest.mark.parametrize("surrogate", ["hinge", "squared_hinge"])
@pytest.mark.parametrize("ties", [False, True])
def test_unweighted_across_chunks_matches_float64(surrogate, ties):
    s, y, _, _ = batch(seed=1, ties=ties)
    ours, ref = run(s, y, surrogate), reference(s, y, surrogate)
    torch.testing.assert_close(ours[0], ref[0], rtol=1e-12, atol=0)
    torch.testing.assert_close(ours[1], ref[1], rtol=1e-10, atol=1e-20)


@pytest.mark.parametrize("surrogate", ["hinge", "squared_hinge"])
@pytest.mark.parametrize("reduction", ["mean", "sum"])
def test_weighted_across_chunks_matches_float64(surrogate, reduction):
    s, y, a, b = batch(seed=2, ties=True)
    ours = run(s, y, surrogate, a, b, margin=0.5, reduction=reduction)
    ref = reference(s, y, surrogate, a, b, margin=0.5, reduction=reduction)
    for p, q in zip(ours, ref):
        torch.testing.assert_close(p, q, rtol=1e-9, atol=1e-12)


@pytest.mark.parametrize("surrogate", ["hinge", "squared_hinge"])
def test_one_side_weight_given(surrogate):
    s, y, a, _ = batch(n=5000, seed=3)
    x = s.clone().requires_grad_()
    wa = a.clone().requires_grad_()
    loss = F.pairwise_auc_loss(x, y, surrogate=surrogate, pos_weights=wa)
    loss.backward()
    ref = reference(s, y, surrogate, a, torch.ones_like(s))
    torch.testing.assert_close(loss.detach(), ref[0], rtol=1e-12, atol=0)
    torch.testing.assert_close(x.grad, ref[1], rtol=1e-9, atol=1e-15)
    torch.testing.assert_close(wa.grad, ref[2], rtol=1e-9, atol=1e-15)


@pytest.mark.parametrize("surrogate", ["hinge", "squared_hinge"])
def test_bitwise_equal_across_thread_counts(surrogate):
    s, y, a, b = batch(seed=4, dtype=torch.float32)
    old = torch.get_num_threads()
    try:
        torch.set_num_threads(1)
        one = run(s, y, surrogate, a, b) + run(s, y, surrogate)
        torch.set_num_threads(2)
        two = run(s, y, surrogate, a, b) + run(s, y, surrogate)
    finally:
        torch.set_num_threads(old)
    for p, q in zip(one, two):
        assert torch.equal(p, q)


@pytest.mark.parametrize("dtype", [torch.bool, torch.int8, torch.uint8, torch.int32, torch.int64, torch.float32,
                                   torch.float64])  # fmt: skip
def test_label_dtypes_give_identical_results(dtype):
    s, y, _, _ = batch(n=70_000, seed=5, dtype=torch.float32)
    want = run(s, y.bool(), "squared_hinge")
    got = run(s, y.to(dtype), "squared_hinge")
    for p, q in zip(want, got):
        assert torch.equal(p, q)


@pytest.mark.parametrize("dtype", [torch.float16, torch.bfloat16])
def test_half_scores_round_once_from_float64(dtype):
    s, y, _, _ = batch(n=20_000, seed=6)
    s = s.to(dtype)
    ours = run(s, y, "hinge")
    ref = reference(s, y, "hinge")
    assert ours[1].dtype == dtype
    torch.testing.assert_close(ours[0], ref[0].to(dtype), rtol=0, atol=0)
    torch.testing.assert_close(ours[1], ref[1].to(dtype), rtol=0, atol=0)


@pytest.mark.parametrize("where", [0, 50_000, N - 1])
@pytest.mark.parametrize("sign", [1.0, -1.0])
def test_nan_score_gives_nan_loss_and_gradients(where, sign):
    s, y, a, b = batch(seed=7, dtype=torch.float32)
    s[where] = sign * float("nan")
    loss, gs, ga, gb = run(s, y, "hinge", a, b)
    assert loss.isnan() and gs.isnan().all()
    pos = y.bool()
    assert ga[pos].isnan().all() and (ga[~pos] == 0).all()
    assert gb[~pos].isnan().all() and (gb[pos] == 0).all()


def test_one_class_and_empty_give_zero():
    s, _, a, b = batch(n=1000, seed=8)
    for y in (torch.zeros(1000, dtype=torch.long), torch.ones(1000, dtype=torch.long)):
        loss, gs, ga, gb = run(s, y, "squared_hinge", a, b)
        assert loss.item() == 0.0 and not gs.any() and not ga.any() and not gb.any()
    loss, gs = run(torch.empty(0), torch.empty(0, dtype=torch.long), "hinge")
    assert loss.item() == 0.0 and gs.numel() == 0


def test_bad_label_names_the_argument():
    s, y, _, _ = batch(n=70_000, seed=9)
    y[40_000] = 2
    with pytest.raises(ValueError, match="labels"):
        F.pairwise_auc_loss(s, y, surrogate="hinge")
