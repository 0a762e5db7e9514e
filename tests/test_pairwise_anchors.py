"""Parity with the libraries our users come from (installed --no-deps as oracles): XCurve 1.1.0 and
LibAUC 2.0.1. Where they are wrong (XCurve's binary hinge, LibAUC's overflowing logistic) we check
the documented difference instead."""

import pytest
import torch

from torchauc import functional as F
from torchauc.reference import pairwise as R

xcurve_losses = pytest.importorskip("XCurve.AUROC.losses")
libauc_losses = pytest.importorskip("libauc.losses")


def probs(n=64, seed=0):
    g = torch.Generator().manual_seed(seed)
    p = torch.rand(n, 1, generator=g, dtype=torch.float64)
    t = (torch.rand(n, generator=g) < 0.3).long()
    t[0], t[1] = 1, 0
    return p, t


@pytest.mark.parametrize("gamma", [1.0, 0.5, 2.0])
def test_xcurve_square_is_half_of_ours(gamma):
    p, t = probs()
    p = p.float()  # XCurve's square path only runs in float32
    x = xcurve_losses.SquareAUCLoss(num_classes=2, gamma=gamma)(p, t)
    torch.testing.assert_close(
        0.5 * F.pairwise_auc_loss(p, t, surrogate="square", margin=gamma), x, rtol=1e-5, atol=1e-6
    )


@pytest.mark.parametrize("gamma", [1.0, 0.5, 2.0])
def test_xcurve_exp_matches(gamma):
    p, t = probs(seed=1)
    x = xcurve_losses.ExpAUCLoss(num_classes=2, gamma=gamma)(p, t)
    torch.testing.assert_close(F.pairwise_auc_loss(p, t, surrogate="exp", margin=gamma), x.to(torch.float64))


def test_xcurve_hinge_defect_is_not_reproduced():
    # XCurve divides the negative term by an extra n+ (a defect of XCurve 1.1.0); ours is the true
    # pair mean of max(0, gamma - t), which for s in [0, 1] and gamma = 1 is the linear form.
    p, t = probs(seed=2)
    x = xcurve_losses.HingeAUCLoss(num_classes=2, gamma=1.0)(p, t)
    ours = F.pairwise_auc_loss(p, t, surrogate="hinge", margin=1.0)
    pos, neg = p[t == 1], p[t == 0]
    linear = 1.0 - pos.mean() + neg.mean()
    torch.testing.assert_close(ours, linear)
    assert not torch.isclose(ours, x.to(torch.float64), rtol=1e-3)


@pytest.mark.parametrize(
    "surr, ours_name",
    [("squared_hinge", "squared_hinge"), ("squared", "square"), ("hinge", "hinge"), ("logistic", "logistic")],
)
@pytest.mark.parametrize("hparam", [1.0, 0.7])
def test_libauc_pairwise_matches(surr, ours_name, hparam):
    p, t = probs(seed=3)
    pl = p.float().clone().requires_grad_()
    lib = libauc_losses.PairwiseAUCLoss(surr_loss=surr, hparam=hparam)(pl, t.float())
    lib.backward()
    po = p.float().clone().requires_grad_()
    ours = F.pairwise_auc_loss(po, t, surrogate=ours_name, margin=hparam)
    ours.backward()
    torch.testing.assert_close(ours, lib, rtol=1e-5, atol=1e-6)
    torch.testing.assert_close(po.grad, pl.grad, rtol=1e-4, atol=1e-6)


def test_libauc_logistic_overflows_ours_does_not():
    s = torch.tensor([[-100.0], [0.0], [50.0], [100.0]])
    t = torch.tensor([1.0, 0.0, 1.0, 0.0])
    lib = libauc_losses.PairwiseAUCLoss(surr_loss="logistic", hparam=1.0)(s, t)
    ours = F.pairwise_auc_loss(s, t, surrogate="logistic", margin=1.0)
    assert torch.isinf(lib)
    ref = R.pairwise_auc_loss(s.double(), t, "logistic", 1.0)
    torch.testing.assert_close(ours.double(), ref, rtol=1e-6, atol=1e-6)
