"""compat.libauc's AUC-M, compositional, AP and multi-label losses, DualSampler and PESG/PDSCA/SOAP:
against LibAUC 2.0.1 side by side (values, gradients, state over several optimizer steps) and
against the float64 brute force of reference/libauc.py."""

import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

import torchauc
from torchauc._core import devices
from torchauc.compat import libauc as C
from torchauc.reference import libauc as R

L = pytest.importorskip("libauc.losses")
LO = pytest.importorskip("libauc.optimizers")


def _set_abα(*mods, a=0.3, b=0.2, alpha=0.5):
    with torch.no_grad():
        for m in mods:
            m.a.fill_(a)
            m.b.fill_(b)
            m.alpha.fill_(alpha)


def _batch(g, n, c=1, rate=0.3, ties=False):
    s = torch.rand(n, c, generator=g)
    if ties:
        s = (s * 4).floor() / 4  # quarters in [0, 0.75]: ties, no pair exactly a margin 1 apart
    y = (torch.rand(n, c, generator=g) < rate).float()
    y[0] = 1
    y[1] = 0
    return s, y


# ------------------------------------------------------------------ AUC-M
@pytest.mark.parametrize("version", ["v1", "v2"])
@pytest.mark.parametrize("semantics", ["fixed", "libauc"])
def test_aucm_vs_libauc(version, semantics):
    g = torch.Generator().manual_seed(0)
    ref = L.AUCMLoss(margin=0.8, version=version, device="cpu")
    ours = C.AUCMLoss(margin=0.8, version=version, device="cpu", semantics=semantics)
    _set_abα(ref, ours)
    s, y = _batch(g, 64)
    s1, s2 = s.clone().requires_grad_(), s.clone().requires_grad_()
    l1, l2 = ref(s1, y), ours(s2, y)
    grads1 = torch.autograd.grad(l1.sum(), [s1, ref.a, ref.b, ref.alpha])
    grads2 = torch.autograd.grad(l2, [s2, ours.a, ours.b, ours.alpha])
    if version == "v2" and semantics == "fixed":  # LibAUC #74: ours is the paper's formula
        expect = R.aucm(s, y, ours.a.detach(), ours.b.detach(), ours.alpha.detach(), 0.8, "v2")[0]
        torch.testing.assert_close(l2.double(), expect, rtol=1e-6, atol=1e-7)
        assert abs(l2.item() - l1.item()) > 1e-3
        return
    torch.testing.assert_close(l2, l1.reshape(()), rtol=1e-6, atol=1e-7)
    for a, b in zip(grads1, grads2):
        torch.testing.assert_close(b, a, rtol=1e-5, atol=1e-7)


def test_aucm_v2_probe_issue_74():
    s, y = torch.tensor([0.1, 0.4, 0.35, 0.8]), torch.tensor([0, 0, 1, 1])
    fixed, libauc = C.AUCMLoss(version="v2", device="cpu"), C.AUCMLoss(version="v2", device="cpu", semantics="libauc")
    _set_abα(fixed, libauc)
    assert fixed(s, y).item() == pytest.approx(0.576250, abs=1e-6)
    assert libauc(s, y).item() == pytest.approx(0.451250, abs=1e-6)


def test_aucm_imratio_and_one_class():
    s = torch.rand(32)
    y = torch.zeros(32)
    ours = C.AUCMLoss(imratio=0.1, device="cpu")
    _set_abα(ours)
    expect = R.aucm(s[:, None], y[:, None], [0.3], [0.2], [0.5], 1.0, "v1", p=0.1)[0]
    torch.testing.assert_close(ours(s, y).double(), expect)  # imratio used (LibAUC: ignored)
    assert ours(s, y, auto=True).item() == pytest.approx(0.0)  # p = 0 on a negative-only batch
    v2 = C.AUCMLoss(version="v2", device="cpu")
    _set_abα(v2)
    sr = s.clone().requires_grad_()
    loss = v2(sr, y)
    loss.backward()
    assert torch.isfinite(loss) and torch.isfinite(sr.grad).all()
    torch.testing.assert_close(loss.double(), R.aucm(s[:, None], y[:, None], [0.3], [0.2], [0.5], 1.0, "v2")[0])


@pytest.mark.parametrize("version", ["v1", "v2"])
def test_aucm_closed_form_gradcheck(version):
    from torchauc.compat.libauc_aucm import aucm_loss

    g = torch.Generator().manual_seed(3)
    h = torch.rand(9, 3, generator=g, dtype=torch.float64)
    y = (torch.rand(9, 3, generator=g) < 0.4).long()
    y[:, 2] = 1  # a label without negatives
    a, b, alpha = (torch.rand(3, generator=g, dtype=torch.float64) for _ in range(3))
    p = (y == 1).double().mean(0) if version == "v1" else None
    w = torch.tensor([0.5, 0.2, 0.3], dtype=torch.float64)

    def f(h, a, b, alpha):
        return aucm_loss(h, y, a, b, alpha, 0.7, version, p, w)

    inputs = tuple(t.clone().requires_grad_() for t in (h, a, b, alpha))
    assert torch.autograd.gradcheck(f, inputs)
    torch.testing.assert_close(f(*inputs), (R.aucm(h, y, a, b, alpha, 0.7, version, p=p) * w).sum())


@pytest.mark.parametrize("version", ["v1", "v2"])
def test_multilabel_aucm_vs_libauc(version):
    g = torch.Generator().manual_seed(1)
    Cn = 5
    ref = L.MultiLabelAUCMLoss(version=version, num_labels=Cn, device="cpu")
    ours = C.MultiLabelAUCMLoss(version=version, num_labels=Cn, device="cpu", semantics="libauc")
    fixed = C.MultiLabelAUCMLoss(version=version, num_labels=Cn, device="cpu")
    assert len(list(ours.parameters())) == 3 and len(list(ref.parameters())) == 0
    with torch.no_grad():
        for t in (ref.a, ours.a, fixed.a):
            t.copy_(torch.linspace(0.1, 0.5, Cn))
        for t in (ref.alpha, ours.alpha, fixed.alpha):
            t.copy_(torch.linspace(0.6, 0.2, Cn))
    s, y = _batch(g, 48, Cn)
    for task_id in ([], torch.tensor([3, 1, 1])):
        s1, s2 = s.clone().requires_grad_(), s.clone().requires_grad_()
        l1, l2 = ref(s1, y, task_id=task_id), ours(s2, y, task_id=task_id)
        (g1,) = torch.autograd.grad(l1, s1)
        (g2,) = torch.autograd.grad(l2, s2)
        torch.testing.assert_close(l2, l1, rtol=1e-6, atol=1e-7)
        torch.testing.assert_close(g2, g1, rtol=1e-5, atol=1e-8)
    expect = R.aucm(s, y, fixed.a.detach(), fixed.b.detach(), fixed.alpha.detach(), 1.0, version).mean()
    torch.testing.assert_close(fixed(s, y).double(), expect, rtol=1e-6, atol=1e-7)  # v1 keeps the margin (#35)


@pytest.mark.parametrize("version", ["v1", "v2"])
@pytest.mark.parametrize("semantics", ["fixed", "libauc"])
def test_multilabel_aucm_task_id_tensor_stays_on_the_device(version, semantics, monkeypatch):
    # a task_id tensor off the host (CUDA; forced here on CPU tensors) is not read on the host: the labels
    # are masked on the device, with the loss and gradients of the host's list (repeats counted once); a
    # label out of range is a device-side assert there, a ValueError naming task_id on the host
    g = torch.Generator().manual_seed(2)
    Cn = 5
    loss = C.MultiLabelAUCMLoss(version=version, num_labels=Cn, device="cpu", semantics=semantics)
    with torch.no_grad():
        loss.a.copy_(torch.linspace(0.1, 0.5, Cn))
        loss.alpha.copy_(torch.linspace(0.6, 0.2, Cn))
    s, y = _batch(g, 48, Cn)
    s1, s2 = s.clone().requires_grad_(), s.clone().requires_grad_()
    want = loss(s1, y, task_id=[3, 1])
    want_grads = torch.autograd.grad(want, [s1, loss.a, loss.b, loss.alpha])
    with pytest.raises(ValueError, match=r"task_id entries must be in \[0, 5\), got \[5, 1\]"):
        loss(s, y, task_id=[5, 1])
    monkeypatch.setattr(devices, "host_reads_free", lambda t: False)
    got = loss(s2, y, task_id=torch.tensor([3, 1, 1]))
    torch.testing.assert_close(got, want, rtol=1e-12, atol=1e-12)
    for a, b in zip(torch.autograd.grad(got, [s2, loss.a, loss.b, loss.alpha]), want_grads):
        torch.testing.assert_close(a, b, rtol=1e-12, atol=1e-12)
    with pytest.raises(RuntimeError, match=r"task_id entries must be in \[0, 5\) \(device-side check\)"):
        loss(s, y, task_id=torch.tensor([1, -1]))


# ------------------------------------------------------------------ optimizers, side by side
def _model(seed):
    torch.manual_seed(seed)
    return torch.nn.Sequential(torch.nn.Linear(6, 1), torch.nn.Sigmoid())


def _compare(m1, m2, l1, l2):
    for p1, p2 in zip(m1.parameters(), m2.parameters()):
        torch.testing.assert_close(p2, p1, rtol=1e-5, atol=1e-6)
    for name in ("a", "b", "alpha"):
        torch.testing.assert_close(getattr(l2, name).detach().reshape(-1), getattr(l1, name).detach().reshape(-1))


@pytest.mark.parametrize("mode", ["sgd", "adam"])
@pytest.mark.parametrize("multilabel", [False, True])
def test_pesg_trajectory_vs_libauc(mode, multilabel):
    g = torch.Generator().manual_seed(2)
    nl = 3 if multilabel else 1
    x = torch.randn(6, 40, 6, generator=g)
    y = (torch.rand(6, 40, nl, generator=g) < 0.4).float()
    y[:, 0], y[:, 1] = 1, 0
    lin = [torch.nn.Linear(6, nl) for _ in range(2)]
    lin[1].load_state_dict(lin[0].state_dict())
    m1, m2 = (torch.nn.Sequential(f, torch.nn.Sigmoid()) for f in lin)
    if multilabel:
        l1 = L.MultiLabelAUCMLoss(num_labels=nl, device="cpu")
        l2 = C.MultiLabelAUCMLoss(num_labels=nl, device="cpu", semantics="libauc")
    else:
        l1, l2 = L.AUCMLoss(device="cpu"), C.AUCMLoss(device="cpu", semantics="libauc")
    torch.manual_seed(7)
    o1 = LO.PESG(m1.parameters(), loss_fn=l1, lr=0.1, mode=mode, verbose=False, device="cpu")
    torch.manual_seed(7)
    o2 = C.PESG(m2.parameters(), loss_fn=l2, lr=0.1, mode=mode, verbose=False, semantics="libauc")
    for t in range(6):
        for m, lf, o in ((m1, l1, o1), (m2, l2, o2)):
            o.zero_grad()
            lf(m(x[t]), y[t]).sum().backward()
            o.step()
        if t == 2:
            o1.update_regularizer(decay_factor=10)
            o2.update_regularizer(decay_factor=10)
        _compare(m1, m2, l1, l2)


def test_pdsca_trajectory_vs_libauc():
    g = torch.Generator().manual_seed(4)
    x = torch.randn(8, 40, 6, generator=g)
    y = (torch.rand(8, 40, 1, generator=g) < 0.4).float()
    y[:, 0], y[:, 1] = 1, 0
    m1, m2 = _model(0), _model(0)
    l1 = L.CompositionalAUCLoss(k=2, version="v2", device="cpu")
    l2 = C.CompositionalAUCLoss(k=2, version="v2", device="cpu", semantics="libauc")
    torch.manual_seed(9)
    o1 = LO.PDSCA(m1.parameters(), loss_fn=l1, lr=0.1, lr0=0.05, verbose=False, device="cpu")
    torch.manual_seed(9)
    o2 = C.PDSCA(m2.parameters(), loss_fn=l2, lr=0.1, lr0=0.05, verbose=False, semantics="libauc")
    for t in range(8):
        for m, lf, o in ((m1, l1, o1), (m2, l2, o2)):
            o.zero_grad()
            lf(m(x[t]), y[t]).backward()
            o.step()
        _compare(m1, m2, l1, l2)
    assert int(l2.step) == l1.step == 8


def test_optimizer_fixes():
    m = _model(0)
    loss = C.AUCMLoss(device="cpu")
    opt = C.PESG(m.parameters(), loss_fn=loss, lr=0.1, weight_decay=0.0, verbose=False)
    w0 = [p.detach().clone() for p in opt._params()]
    for p, r in zip(opt._params(), w0):
        torch.testing.assert_close(opt.state[p]["model_ref"], r)  # w_ref = w0 (LibAUC: noise)
    # dampened momentum: buf_2 = 0.9 buf_1 + 0.1 d_2 with a constant gradient d gives d
    w = m[0].bias
    for _ in range(2):
        opt.zero_grad()
        w.grad = torch.full_like(w, 0.5)
        before = w.detach().clone()
        opt.step()
    d = 0.5 + 2e-3 * (before - opt.state[w]["model_ref"])
    torch.testing.assert_close(w.detach(), before - 0.1 * (0.9 * 0.5 + 0.1 * d), rtol=1e-6, atol=1e-7)
    sd = opt.state_dict()
    assert sd["steps"] == 2 and sd["T"] == 2
    opt.update_regularizer(decay_factor=2)
    assert opt.param_groups[0]["lr"] == pytest.approx(0.05) and opt.T == 0
    # PDSCA: a cross-entropy step after an AUC step is recognised as one
    comp = C.CompositionalAUCLoss(k=1, device="cpu")
    pd = C.PDSCA(m.parameters(), loss_fn=comp, verbose=False)
    xb, yb = torch.randn(16, 6), torch.tensor([1.0, 0.0] * 8)[:, None]
    kinds = []
    for _ in range(4):
        pd.zero_grad()
        kinds.append(comp.is_auc_step())
        comp(m(xb), yb).backward()
        pd.step()
        assert (comp.alpha.grad is None) or not kinds[-1]
    assert kinds == [False, True, False, True]
    with pytest.raises(ValueError, match="mode"):
        C.PESG(m.parameters(), loss_fn=loss, mode="rmsprop")
    with pytest.raises(TypeError, match="loss_fn"):
        C.PESG(m.parameters(), loss_fn=torch.nn.BCELoss())


# ------------------------------------------------------------------ AP losses
@pytest.mark.parametrize("surr", ["squared_hinge", "hinge", "squared"])
@pytest.mark.parametrize("full_index", [True, False])
def test_aploss_vs_libauc(surr, full_index):
    N, B = 300, 60
    g = torch.Generator().manual_seed(5)
    ref = L.APLoss(N, gamma=0.7, margin=0.9 if surr == "hinge" else 1.0, surr_loss=surr, device="cpu")
    ours = C.APLoss(N, gamma=0.7, margin=0.9 if surr == "hinge" else 1.0, surr_loss=surr, device="cpu")
    for _ in range(4):
        s, y = _batch(g, B, ties=True)
        idx = torch.randperm(N, generator=g)[:B]
        if not full_index:
            idx = idx[y[:, 0] == 1]
        s1, s2 = s.clone().requires_grad_(), s.clone().requires_grad_()
        l1, l2 = ref(s1, y, idx), ours(s2, y, idx)
        (g1,) = torch.autograd.grad(l1, s1)
        (g2,) = torch.autograd.grad(l2, s2)
        torch.testing.assert_close(l2, l1, rtol=1e-4, atol=2e-8)
        torch.testing.assert_close(g2, g1, rtol=1e-5, atol=1e-8)
        torch.testing.assert_close(ours.u_all, ref.u_all, rtol=1e-6, atol=1e-7)
        torch.testing.assert_close(ours.u_pos, ref.u_pos, rtol=1e-6, atol=1e-7)


@pytest.mark.parametrize("top_k", [-1, 4])
def test_map_vs_libauc(top_k):
    N, B, Cn = 200, 50, 4
    g = torch.Generator().manual_seed(6)
    ref = L.mAPLoss(N, Cn, top_k=top_k, device="cpu")
    ours = C.mAPLoss(N, Cn, top_k=top_k, device="cpu")
    for step in range(3):
        s, y = _batch(g, B, Cn)
        idx = torch.randperm(N, generator=g)[:B]
        task = torch.tensor([2, 0, 2]) if step == 2 else []
        s1, s2 = s.clone().requires_grad_(), s.clone().requires_grad_()
        l1, l2 = ref(s1, y, idx, task_id=task), ours(s2, y, idx, task_id=task)
        (g1,) = torch.autograd.grad(l1, s1)
        (g2,) = torch.autograd.grad(l2, s2)
        torch.testing.assert_close(l2, l1, rtol=1e-4, atol=2e-8)
        torch.testing.assert_close(g2, g1, rtol=1e-5, atol=1e-8)
        torch.testing.assert_close(ours.u_all, ref.u_all, rtol=1e-6, atol=1e-7)


@settings(max_examples=40, deadline=None)
@given(
    n=st.integers(2, 40),
    c=st.integers(1, 3),
    surr=st.sampled_from(["squared_hinge", "hinge", "squared"]),
    scale=st.sampled_from([0.25, 1.0, 30.0]),
    top_k=st.sampled_from([-1, 2]),
    seed=st.integers(0, 2**16),
)
def test_ap_sort_scan_vs_pair_matrix(n, c, surr, scale, top_k, seed):
    g = torch.Generator().manual_seed(seed)
    s = ((torch.randn(n, c, generator=g) * scale * 4).round() / 4).double()  # ties, large scores
    y = (torch.rand(n, c, generator=g) < 0.4).float()  # labels may have no positive
    idx = torch.randperm(3 * n, generator=g)[:n]
    loss = C.mAPLoss(3 * n, c, margin=0.7, gamma=0.8, top_k=top_k, surr_loss=surr, device="cpu")
    ua, up = torch.rand(2, c, 3 * n, generator=g).double() + 0.5
    with torch.no_grad():
        loss.u_all.copy_(ua[..., None])
        loss.u_pos.copy_(up[..., None])
    ua, up = loss.u_all[..., 0].double(), loss.u_pos[..., 0].double()
    s1, s2 = s.clone().requires_grad_(), s.clone().requires_grad_()
    l_ref, ua_ref, up_ref = R.soap_step(s1, y, idx, ua, up, 0.8, 0.7, surr, top_k)
    l_ours = loss(s2, y, idx)
    torch.testing.assert_close(loss.u_all[..., 0].double(), ua_ref, rtol=1e-6, atol=1e-6)
    torch.testing.assert_close(loss.u_pos[..., 0].double(), up_ref, rtol=1e-6, atol=1e-6)
    tol = dict(rtol=1e-5, atol=1e-6 * (1 + scale**2))
    torch.testing.assert_close(l_ours, l_ref, **tol)
    if l_ref.requires_grad:
        (g1,) = torch.autograd.grad(l_ref, s1)
        (g2,) = torch.autograd.grad(l_ours, s2)
        torch.testing.assert_close(g2, g1, **tol)


def test_ap_dtypes_and_strides():
    # the gradient is LibAUC's estimator (weights detached), not the value's derivative, so it is
    # checked against the autograd of the pair-matrix reference above, not by gradcheck
    g = torch.Generator().manual_seed(8)
    s, y = _batch(g, 12, 2)
    loss = C.mAPLoss(12, 2, device="cpu").eval()
    with torch.no_grad():
        loss.u_all.fill_(1.5)
        loss.u_pos.fill_(0.7)
    idx = torch.arange(12)
    # non-contiguous and half scores
    wide = torch.rand(12, 4, generator=g)
    ref = loss(wide[:, ::2].contiguous().float(), y, idx)
    torch.testing.assert_close(loss(wide[:, ::2], y, idx), ref)
    half = loss(wide[:, ::2].half(), y, idx)
    assert half.dtype == torch.float16
    torch.testing.assert_close(half.float(), loss(wide[:, ::2].half().float(), y, idx), rtol=1e-3, atol=1e-4)


def test_ap_state_semantics():
    N = 50
    loss = C.APLoss(N, device="cpu")
    assert set(loss.state_dict()) == {"u_all", "u_pos"}
    s, y, idx = torch.rand(20), (torch.arange(20) % 3 == 0).float(), torch.arange(20)
    with torch.no_grad():
        v_eval = loss(s, y, idx)
    assert loss.u_all.abs().sum() == 0  # untouched under no_grad
    loss.eval()
    loss(s.clone().requires_grad_(), y, idx)
    assert loss.u_all.abs().sum() == 0  # untouched in eval
    loss.train()
    v_train = loss(s.clone().requires_grad_(), y, idx)
    torch.testing.assert_close(v_train, v_eval)
    assert loss.u_all.abs().sum() > 0
    copy = C.APLoss(N, device="cpu")
    copy.load_state_dict(loss.state_dict())
    torch.testing.assert_close(copy.u_pos, loss.u_pos)
    assert loss.to(torch.float64).u_all.dtype == torch.float64
    libauc_like = C.APLoss(N, device="cpu", semantics="libauc").eval()
    libauc_like(s, y, idx)
    assert libauc_like.u_all.abs().sum() > 0  # LibAUC updates in eval (its issue #22)
    # no positive: 0 with zero gradient (LibAUC asserts)
    sr = s.clone().requires_grad_()
    out = loss(sr, torch.zeros(20), idx)
    out.backward()
    assert out.item() == 0 and sr.grad.abs().sum() == 0


def test_ap_errors(monkeypatch):
    loss = C.APLoss(10, device="cpu")
    s, y = torch.rand(6), torch.tensor([1, 0, 1, 0, 0, 0])
    with pytest.raises(ValueError, match="index"):
        loss(s, y, torch.arange(3))
    with pytest.raises(ValueError, match="index"):
        loss(s, y, torch.arange(6) + 8)
    with pytest.raises(ValueError, match="surr_loss"):
        C.APLoss(10, surr_loss="sigmoid")
    with pytest.raises(TypeError, match="y_pred"):
        loss(torch.arange(6), y, torch.arange(6))
    with pytest.raises(ValueError, match="y_true"):
        loss(s, y[:4], torch.arange(6))
    with pytest.raises(ValueError, match="task_id"):
        C.mAPLoss(10, 2)(torch.rand(6, 2), torch.ones(6, 2), torch.arange(6), task_id=[5])
    with pytest.raises(ValueError, match="version"):
        C.AUCMLoss(version="v3")
    with pytest.raises(ValueError, match="y_pred"):
        C.MultiLabelAUCMLoss(num_labels=3, device="cpu")(torch.rand(6, 2), torch.ones(6, 2))
    monkeypatch.setattr(devices, "host_reads_free", lambda t: False)  # a task_id tensor off the host (CUDA)
    with pytest.raises(RuntimeError, match=r"task_id entries must be in \[0, 2\) \(device-side check\)"):
        C.mAPLoss(10, 2)(torch.rand(6, 2), torch.ones(6, 2), torch.arange(6), task_id=torch.tensor([5]))
    # the AP losses' index checks off the host: device-side asserts (on CPU tensors they raise at once)
    with pytest.raises(RuntimeError, match=r"per positive \(device-side check\)"):
        loss(s, y, torch.arange(3))
    with pytest.raises(RuntimeError, match=r"index entries must be in \[0, data_len=10\) \(device-side check\)"):
        loss(s, y, torch.arange(6) + 8)
    with pytest.raises(RuntimeError, match=r"data_len=10\) \(device-side check\)"):
        C.mAPLoss(10, 2)(torch.rand(6, 2), torch.ones(6, 2), torch.arange(6) - 1)


@pytest.mark.parametrize("mode", ["sgd", "adam"])
def test_soap_trajectory_vs_libauc(mode):
    N = 120
    g = torch.Generator().manual_seed(11)
    x = torch.randn(N, 6, generator=g)
    y = (torch.rand(N, 1, generator=g) < 0.3).float()
    m1, m2 = _model(1), _model(1)
    l1, l2 = L.APLoss(N, device="cpu"), C.APLoss(N, device="cpu")
    torch.manual_seed(3)
    o1 = LO.SOAP(m1.parameters(), lr=0.01, mode=mode, epoch_decay=1e-3, verbose=False, device="cpu")
    torch.manual_seed(3)
    o2 = C.SOAP(m2.parameters(), lr=0.01, mode=mode, epoch_decay=1e-3, verbose=False, semantics="libauc")
    for _ in range(5):
        idx = torch.randperm(N, generator=g)[:40]
        idx[0] = torch.nonzero(y[:, 0])[0, 0]
        for m, lf, o in ((m1, l1, o1), (m2, l2, o2)):
            o.zero_grad()
            lf(m(x[idx]), y[idx], idx).backward()
            o.step()
        for p1, p2 in zip(m1.parameters(), m2.parameters()):
            torch.testing.assert_close(p2, p1, rtol=1e-5, atol=1e-6)
        torch.testing.assert_close(l2.u_all, l1.u_all, rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("mode", ["sgd", "adam"])
def test_staco_trajectory_vs_libauc(mode):
    # STACO with its own defaults (weight_decay 0, dampening 0) driving the two-way pAUC loss
    N = 120
    g = torch.Generator().manual_seed(14)
    x = torch.randn(N, 6, generator=g)
    y = (torch.rand(N, 1, generator=g) < 0.3).float()
    m1, m2 = _model(1), _model(1)
    l1, l2 = L.tpAUC_KL_Loss(N, tau=0.8, device="cpu"), C.tpAUC_KL_Loss(N, tau=0.8, device="cpu")
    torch.manual_seed(4)
    o1 = LO.STACO(m1.parameters(), mode=mode, lr=0.01, epoch_decay=1e-3, device="cpu")
    torch.manual_seed(4)
    o2 = C.STACO(m2.parameters(), mode=mode, lr=0.01, epoch_decay=1e-3, semantics="libauc")
    assert torchauc.optim.STACO is C.STACO and o2.param_groups[0]["weight_decay"] == 0
    for step in range(5):
        idx = torch.randperm(N, generator=g)[:40]
        idx[0] = torch.nonzero(y[:, 0])[0, 0]
        for m, lf, o in ((m1, l1, o1), (m2, l2, o2)):
            o.zero_grad()
            lf(torch.sigmoid(m(x[idx])), y[idx], idx).backward()
            o.step()
        if step == 2:  # epoch decay: the reference moves to the mean iterate, the rate drops
            o1.update_regularizer(decay_factor=10)
            o2.update_regularizer(decay_factor=10)
        for p1, p2 in zip(m1.parameters(), m2.parameters()):
            torch.testing.assert_close(p2, p1, rtol=1e-5, atol=1e-6)


# ------------------------------------------------------------------ multi-label pAUC, sampler
@pytest.fixture(params=["compacted", "dense"])
def ml_entries(request, monkeypatch):
    """MultiLabelpAUCLoss's entries (and the single-label losses' batches): the positives compacted with
    host sizes (taken on CPU tensors) or every (B, K) entry with the class sizes on the device (taken on
    CUDA; forced here on CPU tensors). The list of the entries built, to check that the form was taken."""
    from torchauc.compat import libauc_mlpauc as M

    form = M._PositiveEntries if request.param == "compacted" else M._DenseEntries
    if request.param == "dense":
        monkeypatch.setattr(devices, "host_reads_free", lambda t: False)
    built = []

    class Counting(form):
        def __init__(self, *args):
            super().__init__(*args)
            built.append(self)

    monkeypatch.setattr(M, form.__name__, Counting)
    return built


@pytest.mark.parametrize(
    "mode,kw", [("1w", dict(Lambda=0.8)), ("2w", dict(tau=0.9)), ("SOPA", dict(beta=0.3, pos_len=10))]
)
def test_multilabel_pauc_vs_libauc(mode, kw, ml_entries):
    N, B, Cn = 100, 40, 3
    g = torch.Generator().manual_seed(12)
    ref = L.MultiLabelpAUCLoss(mode=mode, num_labels=Cn, device="cpu", data_len=N, **kw)
    ours = C.MultiLabelpAUCLoss(mode=mode, num_labels=Cn, device="cpu", data_len=N, semantics="libauc", **kw)
    for _ in range(3):
        s, y = _batch(g, B, Cn)
        idx = torch.randperm(N, generator=g)[:B]
        s1, s2 = s.clone().requires_grad_(), s.clone().requires_grad_()
        l1, l2 = ref(s1, y, idx), ours(s2, y, idx)
        (g1,) = torch.autograd.grad(l1, s1)
        (g2,) = torch.autograd.grad(l2, s2)
        torch.testing.assert_close(l2, l1, rtol=2e-6, atol=1e-7)
        torch.testing.assert_close(g2, g1, rtol=1e-5, atol=1e-7)
    state = ours.u_pos if mode == "SOPA" else torch.exp(ours.log_u_pos).float()
    torch.testing.assert_close(state, ref.u_pos_all, rtol=2e-6, atol=1e-6)
    assert len(ours.state_dict()) >= 1
    assert len(ml_entries) == 3


_SINGLE = {"1w": C.pAUC_DRO_Loss, "2w": C.tpAUC_KL_Loss, "SOPA": C.pAUC_CVaR_Loss}
_ML_KW = {
    "1w": dict(Lambda=0.8, gamma=0.7),
    "2w": dict(tau=0.9, Lambda=0.5, gammas=(0.8, 0.6)),
    "SOPA": dict(beta=0.3, eta=0.2),
}


def _labelwise(mode, semantics, Cn, N, kw):
    """The loop the one-pass loss replaces: one single-label loss per label, LibAUC's shared w of
    '2w' (semantics='libauc') handed from label to label."""
    losses = [_SINGLE[mode](data_len=N, device="cpu", **kw) for _ in range(Cn)]
    shared = torch.tensor(-float("inf"), dtype=torch.float64)

    def run(s, y, idx, tasks):
        nonlocal shared
        total = 0
        for c in tasks:
            if mode == "2w" and semantics == "libauc":
                losses[c].log_w.copy_(shared)
            total = total + losses[c](s[:, c], y[:, c], idx)
            if mode == "2w" and semantics == "libauc":
                shared = losses[c].log_w.clone()
        return total / len(tasks)

    return losses, run


@pytest.mark.parametrize("surr", ["squared_hinge", "hinge"])
@pytest.mark.parametrize("mode,semantics", [("1w", "fixed"), ("2w", "fixed"), ("2w", "libauc"), ("SOPA", "fixed")])
def test_multilabel_pauc_one_pass_equals_labelwise_losses(mode, semantics, surr, ml_entries):
    # float64, several steps, label subsets (task_id), one-class label columns and repeated indices:
    # value, gradient and every state entry equal to the label-by-label loop of single-label losses,
    # both in the forms taken on CPU (host sizes) and in CUDA's (class sizes on the device, forced on
    # CPU tensors)
    N, B, Cn = 50, 24, 5
    g = torch.Generator().manual_seed(21)
    kw = dict(_ML_KW[mode], surr_loss=surr)
    ours = C.MultiLabelpAUCLoss(mode=mode, num_labels=Cn, device="cpu", data_len=N, semantics=semantics, **kw)
    singles, labelwise = _labelwise(mode, semantics, Cn, N, kw)
    for step, tasks in enumerate([range(Cn), [1, 3, 4], range(Cn), [0, 2]]):
        s = torch.randn(B, Cn, generator=g, dtype=torch.float64)
        s[:4] = 0.25  # ties
        y = (torch.rand(B, Cn, generator=g) < 0.35).double()
        y[0], y[1] = 1, 0
        y[:, 3] = 1 if step % 2 else y[:, 3]  # label 3 without negatives every other step
        y[:, 4] = 0 if step == 2 else y[:, 4]
        idx = torch.randperm(N, generator=g)[:B]
        idx[5] = idx[6]  # a repeated dataset index
        s1, s2 = s.clone().requires_grad_(), s.clone().requires_grad_()
        task_id = torch.tensor(list(tasks)) if step % 2 else []
        want, got = labelwise(s1, y, idx, list(tasks)), ours(s2, y, idx, task_id)
        torch.testing.assert_close(got, want, rtol=1e-12, atol=1e-14)
        torch.testing.assert_close(torch.autograd.grad(got, s2)[0], torch.autograd.grad(want, s1)[0])
        if mode == "SOPA":
            torch.testing.assert_close(ours.u_pos, torch.stack([m.u_pos for m in singles]))
        else:
            torch.testing.assert_close(ours.log_u_pos, torch.stack([m.log_u_pos for m in singles]))
        if mode == "2w" and semantics == "fixed":
            torch.testing.assert_close(ours.log_w, torch.stack([m.log_w for m in singles]))
    if mode == "2w" and semantics == "libauc":
        torch.testing.assert_close(ours.log_w, singles[2].log_w)  # label 2 was updated last
    # eval: the training value, nothing stored
    before = {k: v.clone() for k, v in ours.state_dict().items()}
    train_value = ours(s.clone(), y, idx)
    for k, v in before.items():
        ours.state_dict()[k].copy_(v)
    ours.eval()
    torch.testing.assert_close(ours(s.clone(), y, idx), train_value)
    for k, v in ours.state_dict().items():
        torch.testing.assert_close(v, before[k])
    assert len(ml_entries) == 6  # 4 steps, then a training and an eval call


def test_multilabel_pauc_checks_and_empty_batches(ml_entries):
    loss = C.MultiLabelpAUCLoss(mode="1w", num_labels=3, device="cpu", data_len=10)
    s = torch.randn(6, 3, requires_grad=True)
    v = loss(s, torch.ones(6, 3), torch.arange(6))  # no negatives in any label
    v.backward()
    assert float(v.detach()) == 0.0 and float(s.grad.abs().sum()) == 0.0
    assert float(loss.log_u_pos.exp().sum()) == 0.0
    with pytest.raises(ValueError, match="index"):
        loss(s, torch.ones(6, 3), torch.arange(5))
    # a task_id on the host: a ValueError; off the host (CUDA; forced here on CPU) a device-side assert
    on_host = devices.host_reads_free(s)
    error, match = (ValueError, "task_id") if on_host else (RuntimeError, r"\[0, 3\) \(device-side check")
    for task_id in ([3], torch.tensor([-1])):
        with pytest.raises(error, match=match):
            loss(s, torch.ones(6, 3), torch.arange(6), task_id)
    with pytest.raises(ValueError, match=r"shape \(B, 3\)"):
        loss(torch.randn(5, 2), torch.ones(5, 2), torch.arange(5))
    assert len(ml_entries) == 1  # the bad calls raise before


def test_dual_sampler_structure_vs_libauc(monkeypatch):
    import types

    # libauc.sampler imports torchvision for one isinstance check; the anchor env has none
    tv = types.ModuleType("torchvision")
    tv.datasets = types.SimpleNamespace(ImageFolder=type("ImageFolder", (), {}))
    monkeypatch.setitem(__import__("sys").modules, "torchvision", tv)
    import libauc.sampler as S

    labels = (torch.rand(1000, generator=torch.Generator().manual_seed(0)) < 0.1).long()
    ref = S.DualSampler(None, 64, labels=labels.numpy(), sampling_rate=0.5)
    ours = C.DualSampler(None, 64, labels=labels, sampling_rate=0.5)
    ref_idx, ours_idx = torch.as_tensor(list(iter(ref))), torch.as_tensor(list(iter(ours)))
    assert len(ours) == len(ref) == ours_idx.numel() == ref_idx.numel()
    for idx in (ref_idx, ours_idx):
        per_batch = labels[idx].reshape(-1, 64)
        assert (per_batch[:, :32] == 1).all() and (per_batch[:, 32:] == 0).all()
    pos = torch.nonzero(labels).reshape(-1)
    counts = torch.bincount(ours_idx, minlength=1000)[pos]
    assert counts.max() - counts.min() <= 1  # each positive repeated evenly (successive permutations)
    again = C.DualSampler(None, 64, labels=labels, sampling_rate=0.5)
    assert list(again) == ours_idx.tolist()  # seeded
    assert list(ours) != ours_idx.tolist()  # the next epoch reshuffles
    assert C.DualSampler(None, 10, labels=labels, num_pos=3).num_pos == 3
    with pytest.raises(ValueError, match="binary"):
        C.DualSampler(None, 8, labels=torch.tensor([0, 1, 2, 1]))
    with pytest.raises(ValueError, match="sampling_rate"):
        C.DualSampler(None, 8, labels=labels, sampling_rate=1.5)


def test_reexports():
    assert torchauc.losses.AUCMLoss is C.AUCMLoss and torchauc.losses.APLoss is C.AveragePrecisionLoss
    assert torchauc.optim.PESG is C.PESG and torchauc.optim.SOAP is C.SOAP
    assert C.mAPLoss is C.meanAveragePrecisionLoss and C.mAUCMLoss is C.MultiLabelAUCMLoss


def test_multilabel_pauc_fixed_keeps_one_w_per_label(ml_entries):
    N, B, Cn = 60, 30, 3
    g = torch.Generator().manual_seed(13)
    ours = C.MultiLabelpAUCLoss(mode="2w", num_labels=Cn, device="cpu", data_len=N, tau=0.9)
    single = [C.tpAUC_KL_Loss(N, tau=0.9, device="cpu") for _ in range(Cn)]
    for _ in range(3):
        s, y = _batch(g, B, Cn)
        idx = torch.randperm(N, generator=g)[:B]
        expect = sum(single[c](s[:, c].clone().requires_grad_(), y[:, c], idx) for c in range(Cn)) / Cn
        torch.testing.assert_close(ours(s.clone().requires_grad_(), y, idx), expect)
    torch.testing.assert_close(ours.log_w, torch.stack([m.log_w for m in single]))
    torch.testing.assert_close(ours.log_u_pos, torch.stack([m.log_u_pos for m in single]))
    ours.eval()
    before = ours.log_u_pos.clone()
    ours(s.clone().requires_grad_(), y, idx)
    torch.testing.assert_close(ours.log_u_pos, before)  # eval: untouched
    assert len(ml_entries) == 4
