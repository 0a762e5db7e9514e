"""PAUCI (PAUCILoss) and its optimizer ASGDA, against XCurve."""

import math

import pytest
import torch
from partial_auc_common import batch

import torchauc
from torchauc import losses
from torchauc.optim import ASGDA


# ------------------------------------------------------------------ PAUCI + ASGDA
@pytest.mark.parametrize("alpha,beta", [(1.0, 0.3), (0.5, 0.5)])
def test_pauci_matches_xcurve(alpha, beta):
    from XCurve.AUROC.losses.PartialAUROC import UnbiasedPAUCLoss

    s, y = batch(64)
    x = UnbiasedPAUCLoss(alpha, beta, "cpu")
    ours = losses.PAUCILoss(max_fpr=beta, min_tpr=1 - alpha).double()
    s1, s2 = s.clone().requires_grad_(), s.clone().requires_grad_()
    lx, lo = x(s1, y), ours(s2, y)
    lx.backward()
    lo.backward()
    torch.testing.assert_close(lo, lx.double())
    torch.testing.assert_close(s2.grad, s1.grad.double())
    for name in ("a", "b", "g", "s_n", "lam_b"):
        torch.testing.assert_close(getattr(ours, name).grad, getattr(x, name).grad.double())
    assert len(list(ours.parameters())) == 7 and "g" in ours.state_dict()


def _pauci_run(all_descent, weight_decay, xcurve):
    torch.manual_seed(0)
    model = torch.nn.Linear(5, 1).double()
    X = torch.randn(128, 5, dtype=torch.float64)
    y = (X[:, 0] + 0.3 * torch.randn(128, dtype=torch.float64) > 0.8).long()
    if xcurve:
        from XCurve.AUROC.losses.PartialAUROC import UnbiasedPAUCLoss
        from XCurve.AUROC.optimizer import ASGDA as XASGDA

        loss = UnbiasedPAUCLoss(0.5, 0.5, "cpu")
        for n in ("a", "b", "g", "s_p", "s_n", "lam_a", "lam_b"):
            setattr(loss, n, getattr(loss, n).double().detach().requires_grad_())
        groups = [dict(params=model.parameters(), name="net")] + [
            dict(params=[getattr(loss, n)], name=n, clip=torchauc.partial_auc.PAUCI_CLIP[n])
            for n in ("a", "b", "g", "s_p", "s_n", "lam_a", "lam_b")
        ]
        hp = dict(device="cpu", nu=0.05, lam=0.02, k=1.0, m=100.0, c1=3.0, c2=3.0)
        opt = XASGDA(groups, weight_decay=weight_decay, hparams=hp)
    else:
        loss = losses.PAUCILoss(0.5, min_tpr=0.5).double()
        opt = ASGDA(
            [dict(params=model.parameters(), name="net")] + loss.asgda_groups(),
            nu=0.05,
            k=1.0,
            m=100.0,
            weight_decay=weight_decay,
            all_descent=all_descent,
            eta_power=0.333,
        )
    for t in range(5):
        for pre in (True, False):
            for p in list(model.parameters()) + [getattr(loss, n) for n in ("a", "b", "g")]:
                p.grad = None
            loss(torch.sigmoid(model(X)).reshape(-1), y).backward()
            opt.step(pre=pre, t=t) if xcurve else opt.step(pre=pre)
    return torch.cat([p.detach().reshape(-1) for p in model.parameters()]), float(loss.g.detach())


def test_asgda_all_descent_matches_xcurve_and_honours_weight_decay():
    ours, g_ours = _pauci_run(all_descent=True, weight_decay=0.0, xcurve=False)
    ref, g_ref = _pauci_run(all_descent=True, weight_decay=0.0, xcurve=True)
    torch.testing.assert_close(ours, ref)
    assert math.isclose(g_ours, g_ref, rel_tol=1e-6)
    # XCurve drops weight_decay (it lands in SGD's dampening); ours applies it
    ref_wd, _ = _pauci_run(all_descent=True, weight_decay=0.5, xcurve=True)
    torch.testing.assert_close(ref_wd, ref)
    ours_wd, _ = _pauci_run(all_descent=True, weight_decay=0.5, xcurve=False)
    assert not torch.allclose(ours_wd, ours)
    # the paper's ascent on g moves g the other way
    _, g_asc = _pauci_run(all_descent=False, weight_decay=0.0, xcurve=False)
    assert g_asc != g_ours
