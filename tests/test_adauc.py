"""AdAUC loss (torch.ops.torchauc.adauc_loss): values and gradients against the float64 formula
(torchauc.reference.adauc), the saddle identity with the square pairwise AUC loss, XCurve's
AdvAUROCLoss / RegAdvAUROCLoss / AdvAUCOptimizer as oracles, and bad input."""

import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

import torchauc
from torchauc.adauc import adauc_loss, adauc_sample_loss
from torchauc.losses import AdAUCLoss, RegAdAUCLoss
from torchauc.optim import AdAUCOptimizer
from torchauc.reference import adauc as R


def batch(n=50, seed=0, dtype=torch.float64, device="cpu", rate=0.3):
    g = torch.Generator().manual_seed(seed)
    s = torch.rand(n, generator=g, dtype=torch.float64)
    y = (torch.rand(n, generator=g) < rate).long()
    return s.to(dtype).to(device), y.to(device)


def scalars(device="cpu", dtype=torch.float64, values=(0.3, 0.6, -0.2)):
    return [torch.tensor(v, dtype=dtype, device=device, requires_grad=True) for v in values]


@pytest.mark.parametrize("form", ["canonical", "xcurve"])
@pytest.mark.parametrize("imratio", [None, 0.1, 0.0, 1.0])
@pytest.mark.parametrize("margin", [1.0, 0.5])
def test_value_and_gradients_match_the_formula(form, imratio, margin, device):
    s, y = batch(device=device)
    s.requires_grad_()
    a, b, alpha = scalars(device)
    ours = adauc_loss(s, y, a, b, alpha, imratio=imratio, margin=margin, form=form)
    got = torch.autograd.grad(ours, (s, a, b, alpha))
    s2, a2, b2, al2 = (t.detach().cpu().requires_grad_() for t in (s, a, b, alpha))
    ref = R.adauc_loss(s2, y.cpu(), a2, b2, al2, imratio=imratio, margin=margin, form=form)
    want = torch.autograd.grad(ref, (s2, a2, b2, al2))
    torch.testing.assert_close(ours.cpu(), ref)
    for g_ours, g_ref in zip(got, want):
        torch.testing.assert_close(g_ours.cpu(), g_ref)


def test_gradcheck():
    s, y = batch(n=17, seed=1)
    s.requires_grad_()
    a, b, alpha = scalars()
    for form in ("canonical", "xcurve"):
        assert torch.autograd.gradcheck(lambda *t: adauc_loss(*t[:1], y, *t[1:], form=form), (s, a, b, alpha))


def test_saddle_point_is_the_pairwise_square_auc_loss():
    # canonical form, p = batch rate: at a = mean+, b = mean-, alpha = mean- - mean+ the objective is
    # p(1-p)(pair mean of (m - s+ + s-)^2 - m^2) and alpha is a stationary point (the max).
    s, y = batch(n=40, seed=2)
    m = 0.7
    mp, mn = s[y == 1].mean(), s[y == 0].mean()
    a, b, alpha = (t.clone().requires_grad_() for t in (mp, mn, mn - mp))
    loss = adauc_loss(s, y, a, b, alpha, margin=m)
    p = y.double().mean()
    torch.testing.assert_close(loss, p * (1 - p) * (R.pair_square_mean(s, y, m) - m * m))
    ga, gb, galpha = torch.autograd.grad(loss, (a, b, alpha))
    for g in (ga, gb, galpha):
        torch.testing.assert_close(g, torch.zeros_like(g), atol=1e-12, rtol=0)


@settings(max_examples=40, deadline=None)
@given(
    n=st.integers(1, 60),
    seed=st.integers(0, 10_000),
    rate=st.sampled_from([0.0, 0.3, 1.0]),
    scale=st.sampled_from([1.0, 1e6, 1e-6]),
    ties=st.booleans(),
    form=st.sampled_from(["canonical", "xcurve"]),
)
def test_property_ties_extremes_one_class(n, seed, rate, scale, ties, form):
    s, y = batch(n, seed, rate=rate)
    s = s * scale
    if ties:
        s = (s * 4).round() / 4
    a, b, alpha = scalars()
    ours = adauc_loss(s.requires_grad_(), y, a, b, alpha, form=form)
    ref = R.adauc_loss(s, y, a, b, alpha, form=form)
    torch.testing.assert_close(ours, ref, rtol=1e-10, atol=1e-12 * scale * scale)
    (g,) = torch.autograd.grad(ours, s)
    (gr,) = torch.autograd.grad(ref, s)
    torch.testing.assert_close(g, gr, rtol=1e-10, atol=1e-12 * scale)


@pytest.mark.parametrize("dtype", [torch.float16, torch.bfloat16, torch.float32])
def test_low_precision_and_strided_inputs(dtype, device):
    s, y = batch(64, seed=3, device=device)
    wide = torch.stack([s, s], 1).to(dtype)[:, 0]  # non-contiguous column
    assert not wide.is_contiguous()
    a, b, alpha = scalars(device, torch.float32)
    ours = adauc_loss(wide, y.bool(), a, b, alpha)
    assert ours.dtype == dtype
    want = R.adauc_loss(wide.double().cpu(), y.cpu(), a, b, alpha)
    tol = {torch.float16: 1e-3, torch.bfloat16: 1e-2, torch.float32: 1e-6}[dtype]
    torch.testing.assert_close(ours.double().cpu(), want, rtol=tol, atol=tol)


def test_nan_scores_propagate():
    s, y = batch(10)
    s[3] = float("nan")
    assert torch.isnan(adauc_loss(s, y, *scalars()))


def test_per_sample_terms_average_to_the_loss():
    s, y = batch(30, seed=4)
    crit = AdAUCLoss(imratio=0.2, margin=0.8).double()
    torch.testing.assert_close(crit.per_sample(s, y).mean(), crit(s, y))
    reg = RegAdAUCLoss().double()
    torch.testing.assert_close(reg.per_sample(s, y).mean(), reg(s, y))
    torch.testing.assert_close(adauc_sample_loss(s, y, *scalars()).mean(), adauc_loss(s, y, *scalars()))


def test_module_parameters_and_compile():
    crit = AdAUCLoss()
    names = {n for n, _ in crit.named_parameters()}
    assert names == {"a", "b", "alpha"} and set(crit.state_dict()) == names
    s, y = batch(32, dtype=torch.float32)
    compiled = torch.compile(crit, fullgraph=True, backend="aot_eager")
    torch.testing.assert_close(compiled(s, y), crit(s, y))


@pytest.mark.parametrize(
    "kwargs, err, match",
    [
        (dict(form="cubic"), ValueError, "form"),
        (dict(imratio=1.5), ValueError, "imratio"),
        (dict(margin=float("inf")), ValueError, "margin"),
    ],
)
def test_bad_options(kwargs, err, match):
    s, y = batch(8)
    with pytest.raises(err, match=match):
        adauc_loss(s, y, *scalars(), **kwargs)


def test_bad_tensors():
    s, y = batch(8)
    a, b, alpha = scalars()
    with pytest.raises(ValueError, match="labels"):
        adauc_loss(s, torch.full((8,), 2), a, b, alpha)
    with pytest.raises(ValueError, match="a must have exactly one element"):
        adauc_loss(s, y, torch.zeros(2), b, alpha)
    with pytest.raises(ValueError, match="empty"):
        adauc_loss(s[:0], y[:0], a, b, alpha)
    with pytest.raises(RuntimeError, match="labels must have as many"):
        adauc_loss(s, y[:3], a, b, alpha)
    with pytest.raises(TypeError, match="scores"):
        adauc_loss(s.tolist(), y, a, b, alpha)


# ---------------------------------------------------------------- XCurve as the oracle
@pytest.fixture
def xcurve_adauc(monkeypatch):
    mod = pytest.importorskip("XCurve.AUROC.losses.AdversarialAUROC")
    monkeypatch.setattr(torch.Tensor, "cuda", lambda self, *a, **k: self)  # XCurve hard-codes .cuda()
    return mod


@pytest.mark.parametrize("imratio", [0.1, None])
def test_equals_xcurve_advaurocloss(xcurve_adauc, imratio):
    s, y = batch(64, seed=5, dtype=torch.float32)
    s = s.reshape(-1, 1).requires_grad_()
    theirs = xcurve_adauc.AdvAUROCLoss(imratio=imratio)
    ours = AdAUCLoss(imratio=imratio, form="xcurve")
    for step in range(3):  # a, b, alpha moved between calls
        with torch.no_grad():
            for t in (theirs.a, theirs.b, theirs.alpha, ours.a, ours.b, ours.alpha):
                t.add_(0.05 * step)
        lt, lo = theirs(s, y), ours(s, y)
        torch.testing.assert_close(lo, lt)
        gt = torch.autograd.grad(lt, (s, theirs.a, theirs.b, theirs.alpha))
        go = torch.autograd.grad(lo, (s, ours.a, ours.b, ours.alpha))
        for x, z in zip(go, gt):
            torch.testing.assert_close(x, z.reshape(x.shape))
    canonical = AdAUCLoss(imratio=0.1)(s, y)
    assert not torch.isclose(canonical, xcurve_adauc.AdvAUROCLoss(imratio=0.1)(s, y))


def test_equals_xcurve_regadvaurocloss(xcurve_adauc):
    s, y = batch(40, seed=6, dtype=torch.float32)
    theirs = xcurve_adauc.RegAdvAUROCLoss(imratio=0.25)
    ours = RegAdAUCLoss(imratio=0.25, form="xcurve")
    torch.testing.assert_close(ours(s, y), theirs(s, y))


def test_optimizer_equals_xcurve_advaucoptimizer(monkeypatch):
    opt_mod = pytest.importorskip("XCurve.AUROC.optimizer.AdvAUC_opt")
    torch.manual_seed(0)
    model = torch.nn.Sequential(torch.nn.Linear(5, 8), torch.nn.ReLU(), torch.nn.Linear(8, 1))
    twin = torch.nn.Sequential(torch.nn.Linear(5, 8), torch.nn.ReLU(), torch.nn.Linear(8, 1))
    twin.load_state_dict(model.state_dict())
    ours_loss = AdAUCLoss(imratio=0.3, form="xcurve")
    a, b, alpha = (torch.tensor(0.2, requires_grad=True) for _ in range(3))
    theirs = opt_mod.AdvAUCOptimizer(twin.parameters(), a, b, alpha, lr=0.5, momentum=0.9)
    ours = AdAUCOptimizer([{"params": model.parameters()}, *ours_loss.param_groups()], lr=0.5, momentum=0.9)
    g = torch.Generator().manual_seed(1)
    for _ in range(4):
        x = torch.randn(32, 5, generator=g) * 3
        y = (torch.rand(32, generator=g) < 0.3).long()
        ours.zero_grad()
        ours_loss(torch.sigmoid(model(x)), y).backward()
        ours.step()
        for t in (a, b, alpha, *twin.parameters()):
            t.grad = None
        R.adauc_loss(torch.sigmoid(twin(x)), y, a, b, alpha, imratio=0.3, form="xcurve").backward()
        theirs.step()
    for p, q in zip(model.parameters(), twin.parameters()):
        torch.testing.assert_close(p, q)
    torch.testing.assert_close(torch.stack([ours_loss.a, ours_loss.b, ours_loss.alpha]), torch.stack([a, b, alpha]))


def test_optimizer_clamp_groups_and_nesterov():
    reg = RegAdAUCLoss()
    opt = AdAUCOptimizer(reg.param_groups(), lr=10.0, momentum=0.5, nesterov=True)
    s, y = batch(16, dtype=torch.float32)
    for _ in range(3):
        opt.zero_grad()
        reg(s, y).backward()
        opt.step()
    assert 0.0 <= reg.lambda1.item() <= 5.0 and 0.0 <= reg.lambda2.item() <= 5.0
    with pytest.raises(ValueError, match="nesterov"):
        AdAUCOptimizer(reg.param_groups(), lr=0.1, momentum=0.0, nesterov=True)


def test_losses_reexport():
    assert torchauc.losses.AdAUCLoss is AdAUCLoss and torchauc.losses.RegAdAUCLoss is RegAdAUCLoss
