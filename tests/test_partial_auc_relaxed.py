"""Relaxed TPAUC (RelaxedTPAUCLoss), its instance-wise form (InsRelaxedPAUCLoss) and SGD4MinMaxPAUC."""

import pytest
import torch
from partial_auc_common import batch, value_and_grad

import torchauc
from torchauc import functional as F
from torchauc import losses
from torchauc.reference import partial_auc as R


# ------------------------------------------------------------------ relaxed TPAUC
@pytest.mark.parametrize("weight", ["poly", "exp"])
@pytest.mark.parametrize("auc_type", ["OP", "TP"])
@pytest.mark.parametrize("gamma,margin", [(0.5, 1.0), (2.0, None), (1.0, 0.3)])
def test_relaxed_tpauc_matches_pair_matrix(device, weight, auc_type, gamma, margin):
    s, y = batch(80, device=device)
    loss = losses.RelaxedTPAUCLoss(weight, gamma=gamma, margin=margin, auc_type=auc_type)
    m = gamma if margin is None else margin
    ours = value_and_grad(loss, s, y)
    ref = value_and_grad(R.relaxed_tpauc_loss, s.cpu(), y.cpu(), weight, gamma, m, auc_type)
    torch.testing.assert_close(ours[0].cpu(), ref[0], rtol=1e-9, atol=1e-12)
    torch.testing.assert_close(ours[1].cpu(), ref[1], rtol=1e-9, atol=1e-12)


def test_relaxed_tpauc_gradcheck_warmup_one_class():
    s, y = batch(25)
    loss = losses.RelaxedTPAUCLoss("exp", gamma=0.7, auc_type="TP")
    assert torch.autograd.gradcheck(lambda t: loss(t, y), (s.clone().requires_grad_(),))
    warm = losses.RelaxedTPAUCLoss("poly", gamma=0.5, warmup_epochs=3)
    torch.testing.assert_close(warm(s, y, epoch=1), F.pairwise_auc_loss(s, y, surrogate="square", margin=1.0))
    bce = losses.RelaxedTPAUCLoss(warmup_epochs=3, warmup_loss=torch.nn.BCELoss())
    torch.testing.assert_close(bce(s, y, epoch=0), torch.nn.BCELoss()(s, y.double()))
    assert float(loss(s, torch.zeros_like(y))) == 0.0


def test_relaxed_tpauc_vs_xcurve_base_formula():
    # XCurve 1.1.0 RelaxedPAUCLoss raises NameError on construction (a defect of the package);
    # its BaseAUCLoss.forward with the RelaxedPAUCLoss.re_weight is the formula, checked by binding.
    from XCurve.AUROC.losses.PartialAUROC import BaseAUCLoss, RelaxedPAUCLoss

    with pytest.raises(NameError):
        RelaxedPAUCLoss()
    s, y = batch(60, dtype=torch.float32)
    for scheme, typ in (("Poly", "TP"), ("Exp", "OP")):
        x = BaseAUCLoss(gamma=0.6, weight_scheme=scheme)
        x.AUC_type = typ
        x.re_weight = RelaxedPAUCLoss.re_weight.__get__(x)
        ours = losses.RelaxedTPAUCLoss(scheme, gamma=0.6, margin=None, auc_type=typ)(s, y)
        torch.testing.assert_close(ours, x(s, y), rtol=1e-5, atol=1e-7)


@pytest.fixture
def cpu_xcurve(monkeypatch):
    real_zeros, real_tensor_cuda = torch.zeros, torch.Tensor.cuda

    def zeros(*a, **k):
        k.pop("device", None)
        return real_zeros(*a, **k)

    monkeypatch.setattr(torch, "zeros", zeros)
    monkeypatch.setattr(torch.Tensor, "cuda", lambda self, *a, **k: self)
    yield
    assert real_tensor_cuda is not None


def test_ins_relaxed_matches_xcurve_and_saddle(cpu_xcurve):
    from XCurve.AUROC.losses.PartialAUROC import InsRelaxedPAUCLoss as X

    s, y = batch(70)
    for scheme, typ in (("Poly", "TP"), (None, "OP")):
        x = X(gamma=0.8, weight_scheme=scheme, AUC_type=typ, reg_a=0.1, reg_b=0.2)
        ours = losses.InsRelaxedPAUCLoss(0.8, weight=scheme, auc_type=typ, reg_a=0.1, reg_b=0.2)
        with torch.no_grad():
            x.a.copy_(torch.randn(10, dtype=torch.float64))
            x.b.copy_(torch.randn(8, dtype=torch.float64))
            ours.a.copy_(x.a)
            ours.b.copy_(x.b)
        s1, s2 = s.clone().requires_grad_(), s.clone().requires_grad_()
        lx, lo = x(s1, y), ours(s2, y)
        lx.backward()
        lo.backward()
        torch.testing.assert_close(lo, lx)
        torch.testing.assert_close(s2.grad, s1.grad)
        torch.testing.assert_close(ours.b.grad, x.b.grad)
    # at the saddle point it equals the relaxed TPAUC with margin 1
    ours = losses.InsRelaxedPAUCLoss(0.8, weight="poly", auc_type="TP")
    ours.reset_to_saddle(s, y)
    torch.testing.assert_close(ours(s, y), losses.RelaxedTPAUCLoss("poly", gamma=0.8, margin=1.0, auc_type="TP")(s, y))


def test_sgd4minmax_ascends_on_b():
    loss = losses.InsRelaxedPAUCLoss(1.0, weight="exp", auc_type="TP")
    w = torch.nn.Parameter(torch.ones(3))
    opt = torchauc.optim.SGD4MinMaxPAUC([w], loss.a, loss.b, lr=0.1, epoch_to_opt=0)
    w.grad = torch.ones(3)
    loss.a.grad, loss.b.grad = torch.ones(10, dtype=torch.float64), torch.ones(8, dtype=torch.float64)
    opt.step(epoch=0)
    assert torch.allclose(loss.a, torch.full((10,), -0.1, dtype=torch.float64))
    assert torch.allclose(loss.b, torch.full((8,), 0.1, dtype=torch.float64))
    assert torch.allclose(w, torch.full((3,), 0.9))
