"""The LibAUC drop-ins (compat.libauc) and their exp row/column ops, against LibAUC 2.0.1 and pair matrices."""

import pytest
import torch
from partial_auc_common import batch, value_and_grad

from torchauc._core import devices
from torchauc.compat import libauc as C
from torchauc.reference import partial_auc as R


@pytest.fixture(params=["compacted", "masked"])
def exp_batch(request, monkeypatch):
    """The DRO / KL batch form: compacted with host sizes (taken on CPU tensors) or masked with the class
    sizes on the device (taken on CUDA; here forced on CPU tensors too)."""
    if request.param == "masked":
        monkeypatch.setattr(devices, "host_reads_free", lambda t: False)
    return request.param


# ------------------------------------------------------------------ LibAUC-compatible losses
def _libauc(name, n, **kw):
    import libauc.losses as L

    return getattr(L, name)(data_len=n, device="cpu", **kw), getattr(C, name)(data_len=n, device="cpu", **kw)


CASES = [
    ("pAUC_CVaR_Loss", dict(pos_len=10, beta=0.3, eta=0.5)),
    ("pAUC_CVaR_Loss", dict(pos_len=10, surr_loss="hinge")),
    ("pAUC_DRO_Loss", dict(Lambda=0.7, gamma=0.6)),
    ("pAUC_DRO_Loss", dict(surr_loss="hinge")),
    ("tpAUC_KL_Loss", dict(tau=0.8, Lambda=0.6, gammas=(0.5, 0.7))),
    ("tpAUC_KL_Loss", dict(margin=0.6)),
]


@pytest.mark.parametrize("name,kw", CASES)
@pytest.mark.parametrize("full_index", [True, False])
def test_libauc_equal_values_grads_state(name, kw, full_index, exp_batch):
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
def test_libauc_float64_vs_pair_matrix(device, name, exp_batch):
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
def test_libauc_one_class_and_errors(name, exp_batch):
    kw = dict(pos_len=1) if name == "pAUC_CVaR_Loss" else {}
    loss = getattr(C, name)(data_len=20, device="cpu", **kw)
    s = torch.rand(20, requires_grad=True)
    for y in (torch.zeros(20), torch.ones(20)):
        v = loss(s, y, torch.arange(20))
        v.backward()
        assert float(v.detach()) == 0.0 and float(s.grad.abs().sum()) == 0.0  # v requires grad: detach
    with pytest.raises(ValueError, match="surr_loss"):
        getattr(C, name)(data_len=20, device="cpu", surr_loss="logistic", **kw)
    with pytest.raises(ValueError, match="y_true"):
        loss(s, torch.zeros(19), torch.arange(20))
    if name == "pAUC_CVaR_Loss":  # auto=False counts the negatives as num_neg, which must then be given
        with pytest.raises(ValueError, match="num_neg must be given when auto=False"):
            loss(s, (torch.arange(20) % 3 == 0).long(), torch.arange(20), auto=False)


@pytest.mark.parametrize("name", ["pAUC_DRO_Loss", "tpAUC_KL_Loss"])
def test_libauc_exp_losses_touch_only_positive_rows(name, exp_batch):
    # the sync-free path masks instead of compacting or returning early, the CPU's compacts: with both,
    # one-class batches leave every state row as it is, and a step writes the positives' rows only
    loss = getattr(C, name)(data_len=20, device="cpu")
    s = torch.rand(20, requires_grad=True)
    for y in (torch.zeros(20), torch.ones(20)):
        for idx in (torch.arange(20), torch.arange(int(y.sum()))):
            loss(s, y, idx).backward()
    assert torch.isinf(loss.log_u_pos).all() and float(s.grad.abs().sum()) == 0.0
    y = (torch.arange(20) % 3 == 0).long()
    loss(s, y, torch.arange(20)).backward()
    assert torch.isfinite(loss.log_u_pos[y == 1]).all() and torch.isinf(loss.log_u_pos[y == 0]).all()
    if exp_batch == "compacted":
        with pytest.raises(ValueError, match=r"index must have one entry per sample \(20\) or per positive \(7\)"):
            loss(s, y, torch.arange(5))
    else:  # n+ stays on the device: a device-side assert (raised at once on CPU tensors)
        with pytest.raises(RuntimeError, match=r"per sample \(20\) or per positive, got 5 \(device-side check\)"):
            loss(s, y, torch.arange(5))
    loss(s, torch.zeros(20), torch.arange(5))  # a one-class batch is skipped: no check (both forms)


@pytest.mark.parametrize("name,kw", CASES)
@pytest.mark.parametrize("dtype,rtol", [(torch.float64, 1e-12), (torch.float32, 3e-7)])
def test_libauc_losses_compacted_equals_masked(name, kw, dtype, rtol, monkeypatch):
    # CPU tensors take the compacted batch (host sizes); CUDA's masked batch (class sizes on the device),
    # forced here on the same CPU tensors, gives the same steps to float64 rounding (and the float32
    # output's own rounding): values, gradients and state over steps with one-class batches and
    # per-positive indices among them
    n, g = 60, torch.Generator().manual_seed(5)
    steps = []
    for k in range(6):
        s = (torch.rand(n, generator=g, dtype=torch.float64) * 4 - 2).to(dtype)
        y = (torch.rand(n, generator=g) < 0.3).long() if k not in (2, 4) else torch.full((n,), k // 4)
        idx = torch.randperm(n, generator=g)
        steps.append((s, y, idx if k % 2 else idx[: int(y.sum())]))
    masked_batches = []

    class Masked(C._DeviceBatch):  # counts the steps that take the masked form
        def __init__(self, *args):
            super().__init__(*args)
            masked_batches.append(self)

    monkeypatch.setattr(C, "_DeviceBatch", Masked)
    runs = []
    for masked in (False, True):
        if masked:
            monkeypatch.setattr(devices, "host_reads_free", lambda t: False)
        loss = getattr(C, name)(data_len=n, device="cpu", **kw)
        out = []
        for s, y, idx in steps:
            t = s.clone().requires_grad_()
            v = loss(t, y, idx)
            v.backward()
            state = [b.clone() for b in loss.buffers()]  # u_pos (CVaR), log_u_pos and log_w (KL)
            out.append((v.detach(), t.grad, *state))
        assert len(masked_batches) == (len(steps) if masked else 0)
        runs.append(out)
    for host, dev in zip(*runs, strict=True):
        for a, b in zip(host, dev, strict=True):
            torch.testing.assert_close(b, a, rtol=rtol, atol=1e-300, equal_nan=False)


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
    y = torch.rand(n, generator=g) < 0.3
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
    sh, r0, _, _ = torch.ops.torchauc.partial_auc_exp_rows(
        torch.rand(6), torch.ones(6, dtype=torch.bool), 1.0, 1.0, "hinge"
    )
    assert float(r0.abs().sum()) == 0.0 and float(sh.abs().sum()) == 0.0


@pytest.mark.parametrize("surrogate", ["squared_hinge", "hinge"])
@pytest.mark.parametrize("dtype", [torch.float32, torch.float64])
def test_exp_rows_cols_columns_are_independent_problems(surrogate, dtype):
    # (n, C) scores: each column is its own problem (the multi-label losses), equal to the float64
    # brute force of that column alone; a NaN poisons only its own column, one-class columns are 0
    g = torch.Generator().manual_seed(17)
    n, cols = 300, 5
    s = (torch.randn(n, cols, generator=g, dtype=torch.float64) * 1.5).to(dtype)
    s[:7] = 0.5  # ties within and across columns
    y = torch.rand(n, cols, generator=g) < 0.3
    y[:, 3], y[:, 4] = True, False
    s[11, 2] = float("nan")
    scale = torch.rand(n, cols, generator=g, dtype=torch.float64)
    sh, r0, r1, r2 = torch.ops.torchauc.partial_auc_exp_rows(s, y, 0.8, 0.5, surrogate)
    col = torch.ops.torchauc.partial_auc_exp_cols(s, y, scale, 0.8, 0.5, surrogate)
    assert sh.shape == col.shape == (n, cols) and col.dtype == torch.float64
    for c in range(2):
        yc = y[:, c]
        ref = _exp_stats_brute(s[:, c], yc, scale[:, c], 0.8, 0.5, surrogate)
        f32_rtol = 4e-7 * max(1.0, float(ref[0].max()))  # as in the 1-D tests above
        tol = dict(rtol=1e-10, atol=1e-12) if dtype == torch.float64 else dict(rtol=f32_rtol, atol=1e-6)
        for ours, want in zip((sh[yc, c], r0[yc, c], r1[yc, c], r2[yc, c], col[~yc, c]), ref):
            torch.testing.assert_close(ours, want, **tol)
    assert torch.isnan(r0[y[:, 2], 2]).all() and torch.isnan(col[~y[:, 2], 2]).all()
    assert float(r0[:, 3:].abs().sum()) == 0.0 and float(col[:, 3:].abs().sum()) == 0.0
    # a single column in (n, 1) layout is the 1-D problem
    one = torch.ops.torchauc.partial_auc_exp_rows(s[:, :1], y[:, :1], 0.8, 0.5, surrogate)[1]
    flat = torch.ops.torchauc.partial_auc_exp_rows(s[:, 0], y[:, 0], 0.8, 0.5, surrogate)[1]
    assert one.shape == (n, 1) and torch.equal(one[:, 0], flat)
    with pytest.raises(RuntimeError, match="labels must have the shape"):
        torch.ops.torchauc.partial_auc_exp_rows(s, y[:, :2], 0.8, 0.5, surrogate)
    with pytest.raises(RuntimeError, match="row_scale must have the shape"):
        torch.ops.torchauc.partial_auc_exp_cols(s, y, scale[:, 0], 0.8, 0.5, surrogate)
