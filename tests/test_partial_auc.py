"""Partial AUC family vs float64 brute force (explicit selection, pair matrices), XCurve and LibAUC."""
import math

import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

import torchauc
from torchauc import functional as F
from torchauc.compat import libauc as C
from torchauc import losses
from torchauc.reference import partial_auc as R
from torchauc.optim import ASGDA


def batch(n, pos_frac=0.3, seed=0, ties=False, dtype=torch.float64, device="cpu", prob=True):
    g = torch.Generator().manual_seed(seed)
    s = torch.rand(n, generator=g, dtype=torch.float64) if prob else torch.randn(n, generator=g, dtype=torch.float64)
    if ties:
        s = torch.round(s * 4) / 4
    y = (torch.rand(n, generator=g) < pos_frac).long()
    y[0], y[-1] = 1, 0
    return s.to(dtype).to(device), y.to(device)


def value_and_grad(fn, s, *args, **kw):
    s = s.detach().clone().requires_grad_()
    v = fn(s, *args, **kw)
    (g,) = torch.autograd.grad(v, s, allow_unused=True)
    return v.detach(), (torch.zeros_like(s) if g is None else g)


# ------------------------------------------------------------------ selection
@pytest.mark.parametrize("max_fpr,min_tpr", [(0.3, 0.0), (0.3, 0.5), (1.0, 0.0), (0.01, 0.0), (0.0, 0.0), (1.0, 1.0)])
@pytest.mark.parametrize("ties", [False, True])
@pytest.mark.parametrize("rounding", ["floor", "ceil", "round"])
def test_select_matches_explicit_sort(device, max_fpr, min_tpr, ties, rounding):
    s, y = batch(101, ties=ties, device=device)
    ours = F.partial_auc_select(s, y, max_fpr=max_fpr, min_tpr=min_tpr, rounding=rounding)
    assert torch.equal(ours.cpu(), R.partial_auc_select(s.cpu(), y.cpu(), max_fpr, min_tpr, rounding))


def test_select_tie_rule_and_counts(device):
    s = torch.tensor([0.5, 0.5, 0.5, 0.5, 0.9, 0.1], device=device)
    y = torch.tensor([0, 0, 0, 0, 1, 1], device=device)
    # 4 negatives, all tied: floor(0.5 * 4) = 2 -> the two smallest indices
    assert F.partial_auc_select(s, y, max_fpr=0.5).cpu().tolist() == [True, True, False, False, True, True]
    # 0.29 * 100 counts as 29 (binary rounding absorbed)
    s2 = torch.arange(100, dtype=torch.float64, device=device)
    assert int(F.partial_auc_select(s2, torch.zeros(100, device=device), max_fpr=0.29).sum()) == 29
    # NaN counts as the hardest negative
    s3 = torch.tensor([0.1, float("nan"), 0.9], device=device)
    assert F.partial_auc_select(s3, torch.zeros(3, device=device), max_fpr=0.34).cpu().tolist() == [False, True, False]


def test_select_errors():
    s, y = batch(10)
    with pytest.raises(ValueError, match="max_fpr"):
        F.partial_auc_select(s, y, max_fpr=1.5)
    with pytest.raises(ValueError, match="min_tpr"):
        F.partial_auc_select(s, y, max_fpr=0.5, min_tpr=-0.1)
    with pytest.raises(ValueError, match="rounding"):
        F.partial_auc_select(s, y, max_fpr=0.5, rounding="up")
    with pytest.raises(ValueError, match="labels"):
        torch.ops.torchauc.partial_auc_select(s, y + 2, 0.5, 0.0, "floor")


@settings(max_examples=40, deadline=None)
@given(n=st.integers(1, 60), beta=st.floats(0, 1), alpha=st.floats(0, 1), seed=st.integers(0, 10**6),
       ties=st.booleans())
def test_select_hypothesis(n, beta, alpha, seed, ties):
    g = torch.Generator().manual_seed(seed)
    s = torch.rand(n, generator=g, dtype=torch.float64)
    if ties:
        s = torch.round(s * 3) / 3
    y = (torch.rand(n, generator=g) < 0.5).long()
    assert torch.equal(F.partial_auc_select(s, y, max_fpr=beta, min_tpr=alpha), R.partial_auc_select(s, y, beta, alpha))


# ------------------------------------------------------------------ hard top-k loss
@pytest.mark.parametrize("surrogate", ["square", "exp", "hinge", "squared_hinge", "logistic", "sigmoid"])
@pytest.mark.parametrize("max_fpr,min_tpr", [(0.3, 0.0), (0.3, 0.4), (1.0, 0.0), (0.02, 0.0)])
@pytest.mark.parametrize("ties", [False, True])
def test_partial_auc_loss_matches_pair_matrix(device, surrogate, max_fpr, min_tpr, ties):
    s, y = batch(90, ties=ties, device=device)
    ours = value_and_grad(F.partial_auc_loss, s, y, max_fpr=max_fpr, min_tpr=min_tpr, surrogate=surrogate, margin=0.8)
    ref = value_and_grad(R.partial_auc_loss, s.cpu(), y.cpu(), max_fpr, min_tpr, surrogate, 0.8)
    torch.testing.assert_close(ours[0].cpu(), ref[0], rtol=1e-9, atol=1e-12)
    torch.testing.assert_close(ours[1].cpu(), ref[1], rtol=1e-9, atol=1e-12)


def test_partial_auc_loss_edge_counts(device):
    s, y = batch(40, device=device)
    # k = 0 (floor(0.01 * n-)): loss 0, zero gradient; one-class batch likewise
    for kw in (dict(max_fpr=0.01), dict(max_fpr=0.5, min_tpr=1.0)):
        v, g = value_and_grad(F.partial_auc_loss, s, y, **kw)
        assert float(v) == 0.0 and float(g.abs().sum()) == 0.0
    v, g = value_and_grad(F.partial_auc_loss, s, torch.ones_like(y), max_fpr=0.5)
    assert float(v) == 0.0 and float(g.abs().sum()) == 0.0
    # k = n: the full AUC loss
    full = F.pairwise_auc_loss(s, y, surrogate="square", margin=1.0)
    torch.testing.assert_close(F.partial_auc_loss(s, y, max_fpr=1.0), full)
    # k = 1 negative: only the hardest negative gets a gradient
    _, g = value_and_grad(F.partial_auc_loss, s, y, max_fpr=1.0 / int((y == 0).sum()) + 1e-12)
    assert int(((g != 0) & (y == 0)).sum()) == 1


def test_partial_auc_loss_gradcheck_and_dtypes():
    s, y = batch(30)
    s = s.requires_grad_()
    assert torch.autograd.gradcheck(lambda t: F.partial_auc_loss(t, y, max_fpr=0.4, min_tpr=0.3, surrogate="squared_hinge"), (s,))
    for dt in (torch.float32, torch.float16, torch.bfloat16):
        v = F.partial_auc_loss(s.detach().to(dt), y, max_fpr=0.4)
        assert v.dtype == dt and torch.isfinite(v)
    m = losses.PartialAUCLoss(0.3, min_tpr=0.2, surrogate="hinge")
    torch.testing.assert_close(m(s.detach(), y), F.partial_auc_loss(s.detach(), y, max_fpr=0.3, min_tpr=0.2, surrogate="hinge"))


def test_opcheck():
    s, y = batch(40)
    yb = y.bool()
    torch.library.opcheck(torch.ops.torchauc.partial_auc_select.default, (s, y, 0.3, 0.2, "floor"))
    torch.library.opcheck(torch.ops.torchauc.partial_auc_exp_rows.default, (s, yb, 1.0, 0.5, "squared_hinge"))
    torch.library.opcheck(torch.ops.torchauc.partial_auc_exp_cols.default, (s, yb, torch.rand(40, dtype=torch.float64),
                                                                     1.0, 0.5, "hinge"))


def test_hard_topk_large_n_runs():
    s = torch.randn(200_000)
    y = (torch.rand(200_000) < 0.1).long()
    v = F.partial_auc_loss(s.requires_grad_(), y, max_fpr=0.05, min_tpr=0.2, surrogate="squared_hinge")
    v.backward()
    assert torch.isfinite(v) and torch.isfinite(s.grad).all()


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
            for n in ("a", "b", "g", "s_p", "s_n", "lam_a", "lam_b")]
        hp = dict(device="cpu", nu=0.05, lam=0.02, k=1.0, m=100.0, c1=3.0, c2=3.0)
        opt = XASGDA(groups, weight_decay=weight_decay, hparams=hp)
    else:
        loss = losses.PAUCILoss(0.5, min_tpr=0.5).double()
        opt = ASGDA([dict(params=model.parameters(), name="net")] + loss.asgda_groups(), nu=0.05, k=1.0, m=100.0,
                    weight_decay=weight_decay, all_descent=all_descent, eta_power=0.333)
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


# ------------------------------------------------------------------ LibAUC-compatible losses
def _libauc(name, n, **kw):
    import libauc.losses as L

    return getattr(L, name)(data_len=n, device="cpu", **kw), getattr(C, name)(data_len=n, device="cpu", **kw)


CASES = [("pAUC_CVaR_Loss", dict(pos_len=10, beta=0.3, eta=0.5)), ("pAUC_CVaR_Loss", dict(pos_len=10, surr_loss="hinge")),
         ("pAUC_DRO_Loss", dict(Lambda=0.7, gamma=0.6)), ("pAUC_DRO_Loss", dict(surr_loss="hinge")),
         ("tpAUC_KL_Loss", dict(tau=0.8, Lambda=0.6, gammas=(0.5, 0.7))), ("tpAUC_KL_Loss", dict(margin=0.6))]


@pytest.mark.parametrize("name,kw", CASES)
@pytest.mark.parametrize("full_index", [True, False])
def test_libauc_equal_values_grads_state(name, kw, full_index):
    n = 200
    ref, ours = _libauc(name, n, **kw)
    g = torch.Generator().manual_seed(3)
    for _ in range(4):
        s = torch.rand(n, generator=g)
        y = (torch.rand(n, generator=g) < 0.3).long()
        idx = torch.randperm(n, generator=g)
        if not full_index:
            idx = idx[y == 1]
        s1, s2 = s.clone().requires_grad_(), s.clone().requires_grad_()
        l1, l2 = ref(s1, y, idx), ours(s2, y, idx)
        l1.backward()
        l2.backward()
        torch.testing.assert_close(l2, l1, rtol=2e-6, atol=1e-7)
        torch.testing.assert_close(s2.grad, s1.grad, rtol=1e-5, atol=1e-7)
        torch.testing.assert_close(ours.u_pos, ref.u_pos, rtol=2e-6, atol=1e-6)
    if name == "tpAUC_KL_Loss":
        torch.testing.assert_close(ours.w, ref.w.float(), rtol=2e-6, atol=1e-7)


@pytest.mark.parametrize("name", ["pAUC_CVaR_Loss", "pAUC_DRO_Loss", "tpAUC_KL_Loss"])
def test_libauc_float64_vs_pair_matrix(device, name):
    n = 120
    s, y = batch(n, device=device)
    idx = torch.arange(n, device=device)
    kw = dict(pos_len=1) if name == "pAUC_CVaR_Loss" else {}
    ours = getattr(C, name)(data_len=n, device=device, **kw)
    pos = (y == 1).cpu()
    u = torch.zeros(int(pos.sum()), dtype=torch.float64)
    w = torch.zeros((), dtype=torch.float64)
    for step in range(3):
        s_step = (s + 0.1 * step).clamp(0, 1)
        v, gr = value_and_grad(ours, s_step, y, idx)
        if name == "pAUC_CVaR_Loss":
            ref_fn = lambda t: R.pauc_cvar_step(t, y.cpu(), u)
        elif name == "pAUC_DRO_Loss":
            ref_fn = lambda t: R.pauc_dro_step(t, y.cpu(), u)
        else:
            ref_fn = lambda t: R.tpauc_kl_step(t, y.cpu(), u, w)
        t = s_step.cpu().clone().requires_grad_()
        out = ref_fn(t)
        out[0].backward()
        torch.testing.assert_close(v.cpu(), out[0].detach(), rtol=1e-10, atol=1e-12)
        torch.testing.assert_close(gr.cpu(), t.grad, rtol=1e-9, atol=1e-12)
        u = out[1].detach()
        if name == "tpAUC_KL_Loss":
            w = out[2].detach()
        torch.testing.assert_close(ours.u_pos[pos.to(device), 0].cpu().double(), u, rtol=1e-6, atol=1e-7)


def test_libauc_state_semantics(device):
    loss = C.pAUC_DRO_Loss(data_len=50, device=device)
    assert set(loss.state_dict()) == {"log_u_pos"}
    s, y = batch(50, device=device)
    idx = torch.arange(50, device=device)
    loss.eval()
    v_eval = loss(s, y, idx)
    assert torch.isinf(loss.log_u_pos).all()  # untouched in eval mode
    loss.train()
    v_train = loss(s, y, idx)
    torch.testing.assert_close(v_eval, v_train)
    assert torch.isfinite(loss.log_u_pos[y.bool()]).all()
    loss2 = C.pAUC_DRO_Loss(data_len=50, device=device)
    loss2.load_state_dict(loss.state_dict())
    torch.testing.assert_close(loss2.u_pos, loss.u_pos)
    kl = C.tpAUC_KL_Loss(data_len=50, device=device).to(torch.device(device))
    assert set(kl.state_dict()) == {"log_u_pos", "log_w"}
    cv = C.pAUC_CVaR_Loss(50, 10, device=device)
    with torch.no_grad():
        cv(s, y, idx)
    assert float(cv.u_pos.abs().sum()) == 0.0


def test_libauc_no_overflow_where_libauc_is_nan():
    import libauc.losses as L

    g = torch.Generator().manual_seed(0)
    s = torch.rand(100, generator=g) * 6 - 3  # logits
    y = (torch.rand(100, generator=g) < 0.3).long()
    idx = torch.arange(100)
    assert torch.isnan(L.pAUC_DRO_Loss(100, Lambda=0.1, device="cpu")(s, y, idx))
    for name in ("pAUC_DRO_Loss", "tpAUC_KL_Loss"):
        t = s.clone().requires_grad_()
        v = getattr(C, name)(100, Lambda=0.1, device="cpu")(t, y, idx)
        v.backward()
        assert torch.isfinite(v) and torch.isfinite(t.grad).all()


@pytest.mark.parametrize("name", ["pAUC_CVaR_Loss", "pAUC_DRO_Loss", "tpAUC_KL_Loss"])
def test_libauc_one_class_and_errors(name):
    kw = dict(pos_len=1) if name == "pAUC_CVaR_Loss" else {}
    loss = getattr(C, name)(data_len=20, device="cpu", **kw)
    s = torch.rand(20, requires_grad=True)
    for y in (torch.zeros(20), torch.ones(20)):
        v = loss(s, y, torch.arange(20))
        v.backward()
        assert float(v) == 0.0 and float(s.grad.abs().sum()) == 0.0
    with pytest.raises(ValueError, match="surr_loss"):
        getattr(C, name)(data_len=20, device="cpu", surr_loss="logistic", **kw)
    with pytest.raises(ValueError, match="y_true"):
        loss(s, torch.zeros(19), torch.arange(20))


# ------------------------------------------------------------------ kernel paths (sorted / counted)
@pytest.mark.parametrize("dtype", [torch.float32, torch.float16, torch.bfloat16, torch.float64])
def test_select_signed_zero_ties_and_nan_positives(dtype):
    # -0.0 and +0.0 tie (index order decides); a NaN positive is the hardest positive
    s = torch.tensor([0.0, -0.0, 0.0, -0.0, float("nan"), 0.5, -0.0, 0.0], dtype=dtype)
    y = torch.tensor([0, 0, 0, 0, 1, 1, 1, 1])
    for beta, alpha in ((0.5, 0.0), (0.25, 0.5), (0.75, 0.25)):
        ours = F.partial_auc_select(s, y, max_fpr=beta, min_tpr=alpha)
        assert torch.equal(ours, R.partial_auc_select(s.double(), y, beta, alpha)), (beta, alpha)


def _exp_stats_brute(s, y, scale, margin, lam, surrogate):
    """float64 pair-matrix versions of partial_auc_exp_rows (shift, r0, r1, r2) and partial_auc_exp_cols."""
    s, pos = s.double(), y.bool()
    x, z = s[pos], s[~pos]
    d = margin - x[:, None] + z[None, :]
    h = d.clamp_min(0)
    l, dl = (h * h, 2 * h) if surrogate == "squared_hinge" else (h, (d > 0).double())
    c = (l / lam).max(1).values
    e = torch.exp(l / lam - c[:, None])
    col = (scale[pos][:, None] * e * dl).sum(0)
    return c, e.sum(1), (e * dl).sum(1), (e * l).sum(1), col


@pytest.mark.parametrize("surrogate", ["squared_hinge", "hinge"])
@pytest.mark.parametrize("dtype", [torch.float32, torch.float64])
@pytest.mark.parametrize("margin,spread", [(1.0, 1.0), (0.3, 3.0), (-0.5, 2.0)])
def test_exp_rows_cols_with_inactive_pairs(surrogate, dtype, margin, spread):
    # logits with a small (or negative) margin: many pairs have l = 0 and are counted, not summed
    g = torch.Generator().manual_seed(7)
    n = 3000
    s = (torch.randn(n, generator=g, dtype=torch.float64) * spread).to(dtype)
    y = (torch.rand(n, generator=g) < 0.3)
    s[:5] = 0.25  # ties across classes
    scale = torch.rand(n, generator=g, dtype=torch.float64)
    lam = 0.7
    sh, r0, r1, r2 = torch.ops.torchauc.partial_auc_exp_rows(s, y, margin, lam, surrogate)
    col = torch.ops.torchauc.partial_auc_exp_cols(s, y, scale, margin, lam, surrogate)
    ref = _exp_stats_brute(s, y, scale, margin, lam, surrogate)
    # float32: the exponent l / lambda (up to ~260 here) carries a rounding error of a few ulp of its
    # size, which becomes a relative error of the exp of that size
    f32_rtol = 4e-7 * max(1.0, float(ref[0].max()))
    tol = dict(rtol=1e-10, atol=1e-12) if dtype == torch.float64 else dict(rtol=f32_rtol, atol=1e-6)
    for ours, want in zip((sh[y], r0[y], r1[y], r2[y], col[~y]), ref):
        torch.testing.assert_close(ours, want, **tol)


@pytest.mark.parametrize("surrogate", ["squared_hinge", "hinge"])
@pytest.mark.parametrize("lam", [1.0, 0.1])
def test_exp_rows_cols_float32_block_expansion(surrogate, lam):
    # float32, every pair active and large classes: the CPU kernel sums whole block pairs by the
    # factored Taylor expansion (csrc/cpu/pauc_expand.h) instead of pair by pair
    g = torch.Generator().manual_seed(11)
    n = 6000
    s = torch.sigmoid(torch.randn(n, generator=g) * 2)
    y = torch.rand(n, generator=g) < 0.15
    scale = torch.rand(n, generator=g, dtype=torch.float64)
    sh, r0, r1, r2 = torch.ops.torchauc.partial_auc_exp_rows(s, y, 1.0, lam, surrogate)
    col = torch.ops.torchauc.partial_auc_exp_cols(s, y, scale, 1.0, lam, surrogate)
    ref = _exp_stats_brute(s, y, scale, 1.0, lam, surrogate)
    f32_rtol = 4e-7 * max(1.0, float(ref[0].max()))
    for ours, want in zip((sh[y], r0[y], r1[y], r2[y], col[~y]), ref):
        torch.testing.assert_close(ours, want, rtol=f32_rtol, atol=1e-6)


def test_exp_rows_cols_nan_and_one_class():
    s = torch.rand(50, dtype=torch.float64)
    y = torch.rand(50) < 0.4
    s[3] = float("nan")
    sh, r0, r1, r2 = torch.ops.torchauc.partial_auc_exp_rows(s, y, 1.0, 1.0, "squared_hinge")
    assert torch.isnan(r0[y]).all() and torch.isnan(sh[y]).all()
    col = torch.ops.torchauc.partial_auc_exp_cols(s, y, torch.ones(50, dtype=torch.float64), 1.0, 1.0, "hinge")
    assert torch.isnan(col[~y]).all()
    # no negatives: the row sums are empty (0), no shift
    sh, r0, _, _ = torch.ops.torchauc.partial_auc_exp_rows(torch.rand(6), torch.ones(6, dtype=torch.bool), 1.0, 1.0, "hinge")
    assert float(r0.abs().sum()) == 0.0 and float(sh.abs().sum()) == 0.0


def test_partial_auc_loss_compacted_matches_weighted():
    # the CPU path compacts the selection; the CUDA path weights by the 0/1 mask: same numbers
    s, y = batch(500, ties=True)
    for surrogate in ("square", "squared_hinge", "logistic"):
        for reduction in ("mean", "sum"):
            mask = F.partial_auc_select(s, y, max_fpr=0.2, min_tpr=0.3)
            w = mask.double()
            want = value_and_grad(F.pairwise_auc_loss, s, y, surrogate=surrogate, margin=1.0, pos_weights=w, neg_weights=w, reduction=reduction)
            ours = value_and_grad(F.partial_auc_loss, s, y, max_fpr=0.2, min_tpr=0.3, surrogate=surrogate, margin=1.0, rounding="floor", reduction=reduction)
            torch.testing.assert_close(ours[0], want[0], rtol=1e-12, atol=1e-12)
            torch.testing.assert_close(ours[1], want[1], rtol=1e-12, atol=1e-12)
            assert float(ours[1][~mask].abs().sum()) == 0.0
