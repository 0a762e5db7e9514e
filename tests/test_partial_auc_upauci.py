"""UPAUCI (UPAUCILoss, the fused partial_auc_upauci op) and its ASGDA path (Algorithm 1)."""

import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st
from partial_auc_common import batch

import torchauc
from torchauc import losses
from torchauc._core import devices
from torchauc.optim import ASGDA
from torchauc.partial_auc import UPAUCI_PARAMS, upauci_loss
from torchauc.reference import partial_auc as R

OP = torch.ops.torchauc.partial_auc_upauci


def _params(seed=0):
    g = torch.Generator().manual_seed(seed)
    lo = torch.tensor([0.0, 0.0, -1.0, -4.0, 0.0, 0.0, 0.0], dtype=torch.float64)
    hi = torch.tensor([1.0, 1.0, 1.0, 1.0, 5.0, 2.0, 2.0], dtype=torch.float64)
    return lo + (hi - lo) * torch.rand(7, generator=g, dtype=torch.float64)


def _ours(s, y, c, p, max_fpr, min_tpr, omega):
    s, c, p = (t.detach().clone().requires_grad_() for t in (s, c, p))
    v = upauci_loss(s, y, c, p, max_fpr=max_fpr, min_tpr=min_tpr, omega=omega)
    v.backward()
    return v.detach(), s.grad, c.grad, p.grad


def _ref(s, y, c, p, max_fpr, min_tpr, omega):
    s, c, p = (t.detach().double().clone().requires_grad_() for t in (s, c, p))
    v = R.upauci_objective(s, y, c, *p, max_fpr, min_tpr, omega)
    return (v.detach(), *torch.autograd.grad(v, (s, c, p)))


def _check(s, y, c, p, max_fpr, min_tpr, omega, **tol):
    for got, want in zip(_ours(s, y, c, p, max_fpr, min_tpr, omega), _ref(s, y, c, p, max_fpr, min_tpr, omega)):
        torch.testing.assert_close(got.double(), want, **tol)


@pytest.mark.parametrize("min_tpr", [0.0, 0.3])
@pytest.mark.parametrize("omega", [0.0, 0.7])
@pytest.mark.parametrize("ties", [False, True])
def test_equals_direct_float64_formula(min_tpr, omega, ties):
    s, y = batch(97, ties=ties, seed=3)
    c = torch.rand(97, dtype=torch.float64)
    _check(s, y, c, _params(1), 0.3, min_tpr, omega)


@settings(max_examples=40, deadline=None)
@given(
    n=st.integers(1, 70),
    seed=st.integers(0, 2**16),
    two_way=st.booleans(),
    kind=st.sampled_from(["prob", "ties", "extreme", "one_class_pos", "one_class_neg"]),
)
def test_property_matches_reference(n, seed, two_way, kind):
    g = torch.Generator().manual_seed(seed)
    s = torch.rand(n, generator=g, dtype=torch.float64)
    y = (torch.rand(n, generator=g) < 0.4).long()
    if kind == "ties":
        s = torch.round(s * 3) / 3
    elif kind == "extreme":
        s = torch.where(torch.rand(n, generator=g) < 0.5, torch.zeros_like(s), torch.ones_like(s)) * 1e3 - 5e2
    elif kind.startswith("one_class"):
        y = torch.full((n,), int(kind.endswith("pos")))
    c = torch.rand(n, generator=g, dtype=torch.float64)
    _check(s, y, c, _params(seed), 0.4, 0.25 if two_way else 0.0, 0.3, rtol=1e-9, atol=1e-9)


def test_gradcheck():
    s, y = batch(23, seed=5)
    c = torch.rand(23, dtype=torch.float64)
    for min_tpr in (0.0, 0.4):
        fn = lambda s, c, p: upauci_loss(s, y, c, p, max_fpr=0.5, min_tpr=min_tpr, omega=0.2)  # noqa: E731
        assert torch.autograd.gradcheck(fn, tuple(t.clone().requires_grad_() for t in (s, c, _params(2))))


def test_half_noncontiguous_and_column_inputs():
    s, y = batch(200, seed=7)
    c = torch.rand(200, dtype=torch.float64)
    p = _params(3)
    want = _ref(s, y, c, p, 0.2, 0.1, 0.5)
    # non-contiguous (strided) float32 scores and weights, (n, 1) labels
    s2 = torch.stack([s, s], 1).float()[:, 0]
    c2 = torch.stack([c, c], 1).float()[:, 1]
    assert not s2.is_contiguous() and not c2.is_contiguous()
    got = _ours(s2, y.view(-1, 1), c2, p, 0.2, 0.1, 0.5)
    for a, b in zip(got, want):
        torch.testing.assert_close(a.double(), b, rtol=1e-4, atol=1e-5)
    # half / bfloat16 scores: the same values as float64, gradients in the input dtype
    for dt in (torch.float16, torch.bfloat16):
        sh = s.to(dt)
        got = _ours(sh, y, c.to(dt), p, 0.2, 0.1, 0.5)
        ref = _ref(sh.double(), y, c.to(dt).double(), p, 0.2, 0.1, 0.5)
        assert got[1].dtype == dt and got[2].dtype == dt
        torch.testing.assert_close(got[0].double(), ref[0], rtol=2e-2, atol=2e-2)
        torch.testing.assert_close(got[3], ref[3], rtol=1e-4, atol=1e-5)


def test_nan_score_propagates():
    s, y = batch(20)
    s[4] = float("nan")
    assert torch.isnan(upauci_loss(s, y, torch.ones(20), _params(), max_fpr=0.3))


@pytest.mark.parametrize("min_tpr", [0.0, 0.5])
def test_omega0_inner_maximiser_is_exact_top_beta_selection(min_tpr):
    # with omega = 0, d L / d c_j = (N_j - s') / (beta n-) (negatives), so the maximiser over
    # c in [0,1]^n is c_j = 1[N_j > s']; N grows with the score when gamma >= b - 1 (and P falls when
    # gamma >= -a), so for s' between the k-th and (k+1)-th largest N it keeps exactly the top
    # k = beta n- negatives (and the lowest (1 - min_tpr) n+ positives) of partial_auc_select
    n, beta = 300, 0.2
    s, y = batch(n, seed=11)
    pos = y.bool()
    p = _params(4)
    p[torchauc.partial_auc.UPAUCI_PARAMS.index("g")] = 0.1
    a, b, g = float(p[0]), float(p[1]), float(p[2])
    N = (s - b) ** 2 + 2 * (1 + g) * s
    P = (s - a) ** 2 - 2 * (1 + g) * s
    kn = int(beta * (~pos).sum())
    kp = int((1 - min_tpr) * pos.sum())
    Nn = torch.sort(N[~pos], descending=True).values
    p[4] = (Nn[kn - 1] + Nn[kn]) / 2
    if min_tpr > 0:
        Pp = torch.sort(P[pos], descending=True).values
        p[3] = (Pp[kp - 1] + Pp[kp]) / 2
    c = torch.rand(n, dtype=torch.float64)
    _, _, gc, _ = _ours(s, y, c, p, beta, min_tpr, 0.0)
    c_star = (gc > 0).double()
    mask = torchauc.partial_auc.partial_auc_select(s, y, max_fpr=beta, min_tpr=min_tpr)
    assert torch.equal(c_star[~pos].bool(), mask[~pos])
    if min_tpr > 0:
        assert torch.equal(c_star[pos].bool(), mask[pos])
    # c* maximises the objective, and at this s' it is the exact top-k mean of N (CVaR)
    top = upauci_loss(s, y, c_star, p, max_fpr=beta, min_tpr=min_tpr, omega=0.0)
    for seed in range(5):
        other = torch.rand(n, generator=torch.Generator().manual_seed(seed), dtype=torch.float64)
        assert top >= upauci_loss(s, y, other, p, max_fpr=beta, min_tpr=min_tpr, omega=0.0)
    if min_tpr == 0:
        n_neg = int((~pos).sum())
        # s' + sum_top (N - s') / (beta n-) = mean of the top k when k = beta n- exactly
        exact = P[pos].mean() + Nn[:kn].sum() / (beta * n_neg) + float(p[4]) * (1 - kn / (beta * n_neg))
        exact = exact - g * g - float(p[6]) * (b - 1 - g)
        torch.testing.assert_close(top, exact)


def test_errors_name_the_argument():
    s, y = batch(10)
    c, p = torch.ones(10), _params()
    with pytest.raises(ValueError, match="params"):
        OP(s, y, c, p[:5], 0.3, 0.0, 0.1, True)
    with pytest.raises(ValueError, match="params"):
        OP(s, y, c, p.float(), 0.3, 0.0, 0.1, True)
    with pytest.raises(ValueError, match="max_fpr"):
        OP(s, y, c, p, 0.0, 0.0, 0.1, True)
    with pytest.raises(ValueError, match="min_tpr"):
        OP(s, y, c, p, 0.3, 1.0, 0.1, True)
    with pytest.raises(ValueError, match="omega"):
        OP(s, y, c, p, 0.3, 0.0, -1.0, True)
    with pytest.raises((ValueError, RuntimeError), match="weights"):
        OP(s, y, torch.ones(9), p, 0.3, 0.0, 0.1, True)
    with pytest.raises(ValueError, match="labels"):
        OP(s, torch.full((10,), 2), c, p, 0.3, 0.0, 0.1, True)
    loss = losses.UPAUCILoss(10, 0.3)
    with pytest.raises(ValueError, match="ids"):
        loss(s, y, torch.arange(10) + 1)
    with pytest.raises(ValueError, match="ids"):
        loss(s, y, torch.arange(10).double())
    with pytest.raises(ValueError, match="num_samples"):
        losses.UPAUCILoss(0, 0.3)
    with pytest.raises(ValueError, match="omega"):
        losses.UPAUCILoss(10, 0.3, omega=-1)


def test_module_gathers_c_by_id_and_returns_its_gradient():
    s, y = batch(12, seed=2)
    loss = losses.UPAUCILoss(50, 0.5, min_tpr=0.2, omega=0.3)
    loss.c.copy_(torch.rand(50))
    ids = torch.tensor([3, 9, 9, 0, 49, 17, 5, 6, 7, 8, 10, 11])
    v = loss(s, y, ids)
    v.backward()
    assert torch.equal(loss.batch_c.detach(), loss.c[ids])
    want = _ref(s, y, loss.c[ids].double(), loss.params().detach(), 0.5, 0.2, 0.3)
    torch.testing.assert_close(v, want[0])
    torch.testing.assert_close(loss.batch_c.grad.double(), want[2], rtol=1e-5, atol=1e-6)
    for i, name in enumerate(UPAUCI_PARAMS):
        torch.testing.assert_close(getattr(loss, name).grad, want[3][i])
    with torch.no_grad():
        loss(s, y, ids)
    assert not loss.batch_c.requires_grad


# ------------------------------------------------------------------ ASGDA vs Algorithm 1
def _problem(two_way, n_data=120, seed=0, repeats=False):
    torch.manual_seed(seed)
    X = torch.randn(n_data, 4, dtype=torch.float64)
    Y = (X[:, 0] + 0.5 * torch.randn(n_data, dtype=torch.float64) > 0.7).long()
    perm = torch.randperm(n_data)
    batches = [perm[i : i + 40] for i in (0, 40, 80, 0, 40, 80)]
    if repeats:  # ids drawn twice in a batch (a sampler with replacement): their c gets the summed gradient
        batches = [torch.cat([b, b[::7]]) for b in batches]
    return X, Y, batches, dict(max_fpr=0.3, min_tpr=0.4 if two_way else None, omega=0.5)


@pytest.mark.parametrize("two_way", [False, True])
@pytest.mark.parametrize("repeats", [False, True])
@pytest.mark.parametrize("host_form", [True, False], ids=["host", "device"])
def test_asgda_equals_plain_algorithm_1(two_way, repeats, host_form, monkeypatch):
    # device: the CUDA form of the sparse c update (no unique: a dataset-sized gradient buffer), forced on CPU
    monkeypatch.setattr(devices, "host_reads_free", lambda t: host_form)
    X, Y, batches, kw = _problem(two_way, repeats=repeats)
    hp = dict(nu=0.1, lam=0.3, k=1.0, m=20.0)
    # ours
    torch.manual_seed(1)
    model = torch.nn.Linear(4, 1).double()
    w0, b0 = model.weight.detach().clone(), model.bias.detach().clone()
    loss = losses.UPAUCILoss(len(Y), **kw).double()
    loss.c.fill_(0.8)
    opt = ASGDA(
        [dict(params=model.parameters(), name="net")] + loss.asgda_groups(),
        c1=2.0,
        c2=4.0,
        instance_weights=loss,
        **hp,
    )
    for ids in batches:
        for pre in (True, False):
            opt.zero_grad()
            loss(torch.sigmoid(model(X[ids])).reshape(-1), Y[ids], ids).backward()
            opt.step(pre=pre)
    # Algorithm 1 written out
    scal = {n: torch.tensor(v, dtype=torch.float64) for n, v in torchauc.partial_auc._UPAUCI_INIT.items()}
    names = [n for n in UPAUCI_PARAMS if n != "g"]
    mins = [w0.clone(), b0.clone()] + [scal[n] for n in names]
    clips = [None, None] + [torchauc.partial_auc.UPAUCI_CLIP[n] for n in names]
    g, c = scal["g"], torch.full((len(Y),), 0.8, dtype=torch.float64)
    min_tpr = kw["min_tpr"] or 0.0

    def objective(batch, m, g, c):
        (ids,) = batch
        f = torch.sigmoid(X[ids] @ m[0].t() + m[1]).reshape(-1)
        sc = dict(zip(names, m[2:]))
        return R.upauci_objective(
            f, Y[ids], c[ids], sc["a"], sc["b"], g, sc["s_p"], sc["s_n"], sc["theta_a"], sc["theta_b"],
            kw["max_fpr"], min_tpr, kw["omega"],
        )  # fmt: skip

    R.upauci_asgda(objective, mins, clips, g, c, [(ids,) for ids in batches], iota1=2.0, iota2=4.0, **hp)
    torch.testing.assert_close(model.weight.detach(), mins[0])
    torch.testing.assert_close(model.bias.detach(), mins[1])
    for n, x in zip(names, mins[2:]):
        torch.testing.assert_close(getattr(loss, n).detach(), x, msg=n)
    torch.testing.assert_close(loss.g.detach(), g)
    torch.testing.assert_close(loss.c, c)
    assert not torch.equal(c, torch.full_like(c, 0.8))  # c moved, within [0, 1]
    assert not torch.allclose(mins[0], w0) and float(g) != 0.0  # so did the model and gamma
    assert float(c.min()) >= 0 and float(c.max()) <= 1


def test_asgda_state_dict_keeps_the_c_estimator():
    X, Y, batches, kw = _problem(False)
    model = torch.nn.Linear(4, 1).double()
    loss = losses.UPAUCILoss(len(Y), **kw).double()
    opt = ASGDA([dict(params=model.parameters(), name="net")] + loss.asgda_groups(), instance_weights=loss, lam=0.2)
    for pre in (True, False):
        opt.zero_grad()
        loss(torch.sigmoid(model(X[batches[0]])).reshape(-1), Y[batches[0]], batches[0]).backward()
        opt.step(pre=pre)
    sd = opt.state_dict()
    opt2 = ASGDA([dict(params=model.parameters(), name="net")] + loss.asgda_groups(), instance_weights=loss, lam=0.2)
    opt2.load_state_dict(sd)
    assert opt2.t == 1 and torch.equal(opt2._c_w, opt._c_w) and bool(opt._c_w.abs().sum() > 0)


def test_cpu_result_does_not_depend_on_the_thread_count():
    s, y = batch(200_000, seed=9, dtype=torch.float32)
    c, p = torch.rand(200_000), _params(5)
    prev = torch.get_num_threads()
    try:
        outs = []
        for threads in (1, 2):
            torch.set_num_threads(threads)
            outs.append(OP(s, y, c, p, 0.3, 0.2, 0.5, True))
    finally:
        torch.set_num_threads(prev)
    for a, b in zip(*outs):
        assert torch.equal(a, b)


@pytest.mark.parametrize("host_form", [True, False], ids=["host", "device"])
def test_asgda_second_step_on_other_ids_is_an_error(host_form, monkeypatch):
    # CPU: ValueError; the CUDA form (forced): a device-side assert, raised at once on CPU tensors
    monkeypatch.setattr(devices, "host_reads_free", lambda t: host_form)
    X, Y, batches, kw = _problem(False)
    model = torch.nn.Linear(4, 1).double()
    loss = losses.UPAUCILoss(len(Y), **kw).double()
    opt = ASGDA([dict(params=model.parameters(), name="net")] + loss.asgda_groups(), instance_weights=loss, lam=0.2)
    for pre, ids in ((True, batches[0]), (False, batches[1])):
        opt.zero_grad()
        loss(torch.sigmoid(model(X[ids])).reshape(-1), Y[ids], ids).backward()
        if pre:
            opt.step(pre=True)
    error = ValueError if host_form else RuntimeError
    with pytest.raises(error, match="must follow step\\(pre=True\\) on the same batch of ids"):
        opt.step(pre=False)
