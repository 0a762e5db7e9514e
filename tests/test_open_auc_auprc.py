"""OpenAUCLoss and ListStableAUPRCLoss on their own: the exact pos-neg term (direct and sort + prefix-sum) against
the (B, P, M) brute force (ties, gradcheck), buffers and training-mode state, batch-layout errors,
odd and tiny batches. Equality with XCurve is in test_xcurve_compat.py."""

import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from torchauc import auprc, losses
from torchauc.reference import auprc as R


@pytest.mark.parametrize("mean_pn", [auprc._mean_pn, auprc._mean_pn_sorted])  # direct (P <= 8) and sorted
@settings(max_examples=50, deadline=None)
@given(B=st.integers(1, 6), P=st.integers(1, 12), M=st.integers(1, 12), seed=st.integers(0, 10_000))
def test_mean_pn_equals_brute_force_with_ties(mean_pn, B, P, M, seed):
    g = torch.Generator().manual_seed(seed)
    grid = torch.randint(-8, 9, (B, P + M), generator=g).double() / 20  # ties, and gaps of exactly tau
    pos, neg = grid[:, :P], grid[:, P:]
    torch.testing.assert_close(mean_pn(pos, neg, 0.1), R.mean_pn(pos, neg, 0.1))


@pytest.mark.parametrize("mean_pn", [auprc._mean_pn, auprc._mean_pn_sorted])
def test_mean_pn_gradcheck(mean_pn):
    g = torch.Generator().manual_seed(0)
    pos = torch.rand(3, 2, generator=g, dtype=torch.float64).requires_grad_()
    neg = torch.rand(3, 7, generator=g, dtype=torch.float64).requires_grad_()
    assert torch.autograd.gradcheck(lambda p, n: mean_pn(p, n, 0.3), (pos, neg))


def feats(nc, ns, seed=0):
    g = torch.Generator().manual_seed(seed)
    f = torch.nn.functional.normalize(torch.randn(nc * ns, 16, generator=g), dim=1)
    return f, torch.arange(nc).repeat_interleave(ns)


def test_auprc_state_buffers_and_eval():
    crit = losses.ListStableAUPRCLoss(num_sample_per_id=4, cnt_per_id=[3, 5, 8])
    assert set(dict(crit.named_buffers())) == {"v", "prior"}
    f, t = feats(3, 4)
    before = crit.v.clone()
    crit.eval()
    crit(f, t)
    assert torch.equal(crit.v, before)  # no EMA step outside training
    crit.train()
    loss = crit(f.requires_grad_(), t)
    assert not torch.equal(crit.v, before)
    loss.backward()
    assert torch.isfinite(f.grad).all()
    crit2 = losses.ListStableAUPRCLoss(prior_mul=-1.0)  # uniform prior 1 / nc, no counts needed
    assert torch.isfinite(crit2(f, t))


def test_auprc_errors():
    f, t = feats(3, 4)
    with pytest.raises(ValueError, match="update_cnt_per_id"):
        losses.ListStableAUPRCLoss()(f, t)
    crit = losses.ListStableAUPRCLoss(cnt_per_id=[3, 5, 8])
    with pytest.raises(ValueError, match="consecutive"):
        crit(f, t[torch.randperm(12, generator=torch.Generator().manual_seed(1))])
    with pytest.raises(ValueError, match="num_sample_per_id"):
        crit(f[:10], t[:10])
    with pytest.raises(ValueError, match="ids in"):
        crit(f, t + 1)
    with pytest.raises(ValueError, match="num_sample_per_id must be"):
        losses.ListStableAUPRCLoss(num_sample_per_id=2)
    with pytest.raises(ValueError, match="cnt_per_id"):
        losses.ListStableAUPRCLoss(cnt_per_id=[3, 0])


def post(m):
    return m[:, :5] * 2


@pytest.mark.parametrize("B", [1, 2, 7])
def test_open_auc_small_and_odd_batches(B):
    g = torch.Generator().manual_seed(B)
    m = torch.randn(B, 6, generator=g, dtype=torch.float64, requires_grad=True)
    y = torch.randint(0, 5, (B,), generator=g)
    loss = losses.OpenAUCLoss(1.0, 0.5, generator=torch.Generator().manual_seed(0))(post(m), y, post, m)
    assert torch.isfinite(loss)
    loss.backward()
    ce = torch.nn.functional.cross_entropy(post(m), y)
    if B == 1:  # no pair to mix: the closed-set loss alone
        torch.testing.assert_close(loss, ce)
    drop = losses.OpenAUCLoss(1.0, 0.5, odd_batch="drop")(post(m), y, post, m, perm=torch.arange(B // 2), lam=0.5)
    if B % 2:
        torch.testing.assert_close(drop, ce)


def test_open_auc_no_matching_pair_is_ce():
    m = torch.randn(8, 6, dtype=torch.float64)
    y = torch.zeros(8, dtype=torch.long)  # every mixed pair has equal labels: H is empty
    loss = losses.OpenAUCLoss(1.0, 0.5)(post(m), y, post, m)
    torch.testing.assert_close(loss, torch.nn.functional.cross_entropy(post(m), y))
    with pytest.raises(ValueError, match="alpha"):
        losses.OpenAUCLoss(0.0, 0.5)
    with pytest.raises(ValueError, match="rows"):
        losses.OpenAUCLoss()(post(m), y[:3], post, m)
