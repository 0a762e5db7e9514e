"""The AP losses' ``logistic`` and ``barrier_hinge`` surrogates (compat.libauc_ap), the tiled
``grouped_pair_sums`` op and the one-call CPU step ``ap_loss_step``: against float64 brute force (pair
matrices), finite differences (gradcheck), and LibAUC 2.0.1 side by side over several SOAP steps, on
every path the losses can take (fused: the CPU op; tiled / scan: the composed path that CUDA takes)."""

import contextlib
from unittest import mock

import pytest
import torch
from cpu_isa_common import run_with_isa
from hypothesis import given, settings
from hypothesis import strategies as st

from torchauc._core import devices
from torchauc.compat import _ap_pair_sums as P
from torchauc.compat import libauc as C
from torchauc.compat import libauc_ap as A
from torchauc.reference import libauc as R

L = pytest.importorskip("libauc.losses")
LO = pytest.importorskip("libauc.optimizers")
OP = torch.ops.torchauc.grouped_pair_sums
KINDS = [("logistic", 0.0, 1.5), ("squared_hinge", 1.0, 0.0), ("hinge", 0.5, 0.0), ("squared", 1.0, 0.0)]
KINDS += [("barrier_hinge", 1.0, 2.0), ("barrier_hinge", -0.3, 0.5)]


# ------------------------------------------------------------------ the op
def _brute_pair_sums(q, grp, x, off, w, kind, m, s, sign):
    """float64 (value, dquery) by explicit (Q, I) matrices, items outside a query's group masked."""
    q, x, w = q.double().requires_grad_(), x.double(), w.double()
    item_group = torch.repeat_interleave(torch.arange(off.numel() - 1), off.diff())
    mask = (grp[:, None] == item_group[None, :]).double()
    hparam = (m, s) if kind == "barrier_hinge" else (s if kind == "logistic" else m)
    pair = R.surrogate(kind, hparam, sign * (q[:, None] - x[None, :])) * mask  # (Q, I)
    value = torch.stack([(pair * wk[None, :]).sum(1) for wk in w])
    dq = torch.stack([torch.autograd.grad(v.sum(), q, retain_graph=True)[0] for v in value])
    return value.detach(), dq


def _grouped(g, nq, n, groups, dtype=torch.float64, spread=3.0):
    cuts = torch.sort(torch.randint(0, n + 1, (groups - 1,), generator=g)).values
    off = torch.cat([torch.zeros(1, dtype=torch.long), cuts, torch.tensor([n])])
    q = (torch.randn(nq, generator=g, dtype=torch.float64) * spread).to(dtype)
    x = (torch.randn(n, generator=g, dtype=torch.float64) * spread).to(dtype)
    return q, torch.randint(0, groups, (nq,), generator=g), x, off


@settings(max_examples=60, deadline=None)
@given(
    nq=st.integers(0, 30),
    n=st.integers(0, 3000),
    groups=st.integers(1, 4),
    k=st.integers(1, 4),
    kind=st.sampled_from(KINDS),
    spread=st.sampled_from([1.0, 30.0]),
    sign=st.sampled_from([1.0, -1.0]),
    seed=st.integers(0, 2**16),
)
def test_op_vs_brute_force(nq, n, groups, k, kind, spread, sign, seed):
    kind, m, s = kind
    g = torch.Generator().manual_seed(seed)
    q, grp, x, off = _grouped(g, nq, n, groups, spread=spread)
    x = torch.where(torch.rand(n, generator=g) < 0.3, x.round() + 0.5, x)  # ties, off the breakpoints
    w = torch.rand(k, n, generator=g, dtype=torch.float64)
    v, dq = OP(q, grp, x, off, w, kind, m, s, sign)
    v_ref, dq_ref = _brute_pair_sums(q, grp, x, off, w, kind, m, s, sign)
    torch.testing.assert_close(v, v_ref, rtol=1e-12, atol=1e-9)
    torch.testing.assert_close(dq, dq_ref, rtol=1e-12, atol=1e-9)
    # float32 tiles (the logistic's path for float32 scores): float32 per pair, float64 across tiles
    v32, dq32 = OP(q.float(), grp, x.float(), off, w.float(), kind, m, s, sign)
    big = 1 + (v_ref.abs().max().item() if v_ref.numel() else 0)
    torch.testing.assert_close(v32, v_ref, rtol=1e-4, atol=1e-5 * big)
    torch.testing.assert_close(dq32, dq_ref, rtol=1e-4, atol=1e-5 * big)


def test_op_derivative_gradcheck():
    g = torch.Generator().manual_seed(1)
    q, grp, x, off = _grouped(g, 7, 40, 3)
    w = torch.rand(2, 40, generator=g, dtype=torch.float64)

    class Sums(torch.autograd.Function):  # value with the op's own dquery as its backward
        @staticmethod
        def forward(ctx, q, kind, m, s, sign):
            v, dq = OP(q, grp, x, off, w, kind, m, s, sign)
            ctx.save_for_backward(dq)
            return v

        @staticmethod
        def backward(ctx, gv):
            (dq,) = ctx.saved_tensors
            return (gv * dq).sum(0), None, None, None, None

    for kind, m, s in KINDS:  # random points: no pair sits on a kink
        for sign in (1.0, -1.0):
            assert torch.autograd.gradcheck(Sums.apply, (q.clone().requires_grad_(), kind, m, s, sign))


def test_op_extremes_nan_and_errors():
    q = torch.tensor([0.0, 0.0, float("nan")], dtype=torch.float64)
    x = torch.tensor([-100.0, 100.0, 1e30, -1e30], dtype=torch.float64)
    grp, off, w = torch.tensor([0, 1, 0]), torch.tensor([0, 2, 4]), torch.ones(1, 4, dtype=torch.float64)
    for dtype in (torch.float64, torch.float32):
        v, dq = OP(q.to(dtype), grp, x.to(dtype), off, w.to(dtype), "logistic", 0.0, 1.0, -1.0)
        torch.testing.assert_close(v[0, :2], torch.tensor([100.0, 1e30], dtype=torch.float64))  # no overflow
        torch.testing.assert_close(dq[0, :2], torch.tensor([1.0, 1.0], dtype=torch.float64))  # t = x - q
        assert v[0, 2].isnan() and dq[0, 2].isnan()  # NaN propagates
        for kind, m, s in KINDS:
            v, dq = OP(q.to(dtype), grp, x.to(dtype), off, w.to(dtype), kind, m, s, 1.0)
            assert v[0, 2].isnan() and dq[0, 2].isnan()
    args = ("hinge", 1.0, 1.0, 1.0)
    with pytest.raises(ValueError, match="item_offsets"):
        OP(q, grp, x, torch.tensor([0, 3, 2]), w, *args)
    with pytest.raises(ValueError, match="query_group"):
        OP(q, torch.tensor([0, 2, 0]), x, off, w, *args)
    with pytest.raises(ValueError, match="weights"):
        OP(q, grp, x, off, torch.ones(5, 4, dtype=torch.float64), *args)
    with pytest.raises(ValueError, match="queries"):
        OP(q.long(), grp, x, off, w, *args)
    with pytest.raises(ValueError, match="surrogate"):
        OP(q, grp, x, off, w, "sigmoid", 1.0, 1.0, 1.0)
    with pytest.raises(ValueError, match="sign"):
        OP(q, grp, x, off, w, "hinge", 1.0, 1.0, 2.0)


_ISA_SCRIPT = """
import sys, torch
from torchauc.compat import libauc as C
x = torch.load(sys.argv[1]); out = []
for kind, m, s in x["kinds"]:
    for dtype in (torch.float32, torch.float64):
        for k in (1, 2, 3, 4):
            w = x["w"][:k].to(dtype)
            sums = torch.ops.torchauc.grouped_pair_sums(x["q"].to(dtype), x["grp"], x["x"].to(dtype), x["off"], w,
                                                        kind, m, s, 1.0)
            out += [t.to(dtype) for t in sums]  # float64 sums of tiles in the compute type: keep that type
for dtype in (torch.float32, torch.float64):  # the CPU op ap_loss_step (small batches), two steps each
    for surr, margin in (("logistic", 1.0), ("barrier_hinge", (1.0, 2.0)), ("squared_hinge", 1.0)):
        for loss, s, y in ((C.APLoss(200, margin=margin, surr_loss=surr), x["s"][:, :1], x["y"][:, :1]),
                           (C.mAPLoss(200, 3, margin=margin, top_k=4, surr_loss=surr), x["s"], x["y"])):
            for _ in range(2):
                v = s.to(dtype).clone().requires_grad_()
                value = loss(v, y, torch.arange(200))
                value.backward()
                out += [value.detach(), v.grad, loss.u_all.clone(), loss.u_pos.clone()]
torch.save(out, sys.argv[2])
"""


def test_isa_clones_agree(tmp_path):
    """The tiles' AVX2 and baseline clones (TORCHAUC_CPU_ISA) give the best clone's sums: the same
    order in every clone, so only FMA contraction differs (float rounding of the compute type)."""
    g = torch.Generator().manual_seed(7)
    q, grp, x, off = _grouped(g, 9, 2 * 2048 + 300, 3)  # several tiles per group
    w = torch.rand(4, x.numel(), generator=g, dtype=torch.float64)
    s, y = _batch(g, 200, 3, rate=0.4)
    inputs = dict(kinds=KINDS, q=q, grp=grp, x=x, off=off, w=w, s=s, y=y)
    best = run_with_isa(_ISA_SCRIPT, "best", inputs, tmp_path)
    for isa in ("avx2", "base"):
        got = run_with_isa(_ISA_SCRIPT, isa, inputs, tmp_path)
        assert len(got) == len(best)
        for a, b in zip(got, best):
            rtol = 1e-12 if b.dtype == torch.float64 else 1e-5
            torch.testing.assert_close(a, b, rtol=rtol, atol=rtol * (1 + float(b.abs().max())))


# ------------------------------------------------------------------ the losses
PATHS = ["fused", "tiled", "scan", "tiled-dense", "scan-dense"]


@contextlib.contextmanager
def on_path(path):
    """fused: every CPU batch takes ap_loss_step; tiled / scan: the composed path with the tiled kernel for
    every surrogate / with the sort + scan (the logistic is always tiled), its anchors compacted with host
    sizes (CPU's); -dense: the same with the anchors masked in place (CUDA's form: no host sync)."""
    with (
        mock.patch.object(A._APBase, "_fused", lambda self, h, y: path == "fused"),
        mock.patch.object(P, "SMALL_BATCH_PAIRS", 1 << 40 if path.startswith("tiled") else -1),
        mock.patch.object(devices, "host_reads_free", lambda t: not path.endswith("-dense")),
    ):
        yield


@pytest.fixture(params=PATHS)
def path(request):
    with on_path(request.param):
        yield request.param


SURROGATES = [("logistic", 1.0), ("logistic", 3.0), ("barrier_hinge", (1.0, 2.0)), ("barrier_hinge", (0.6, 0.5))]


def _batch(g, n, c=1, rate=0.3, ties=False):
    s = torch.rand(n, c, generator=g)
    if ties:
        s = (s * 4).floor() / 4  # quarters in [0, 0.75]: ties, no pair at a barrier breakpoint
    y = (torch.rand(n, c, generator=g) < rate).float()
    y[0], y[1] = 1, 0
    return s, y


@pytest.mark.parametrize("surr,margin", SURROGATES)
@pytest.mark.parametrize("full_index", [True, False])
def test_aploss_vs_libauc(surr, margin, full_index, path):
    N, B = 300, 60
    g = torch.Generator().manual_seed(5)
    ref = L.APLoss(N, gamma=0.7, margin=margin, surr_loss=surr, device="cpu")
    ours = C.APLoss(N, gamma=0.7, margin=margin, surr_loss=surr, device="cpu")
    for step in range(4):
        s, y = _batch(g, B, ties=step % 2 == 0)
        idx = torch.randperm(N, generator=g)[:B]
        if not full_index:
            idx = idx[y[:, 0] == 1]
        s1, s2 = s.clone().requires_grad_(), s.clone().requires_grad_()
        l1, l2 = ref(s1, y, idx), ours(s2, y, idx)
        (g1,) = torch.autograd.grad(l1, s1)
        (g2,) = torch.autograd.grad(l2, s2)
        torch.testing.assert_close(l2, l1, rtol=1e-4, atol=1e-7)
        torch.testing.assert_close(g2, g1, rtol=1e-4, atol=1e-7)
        torch.testing.assert_close(ours.u_all, ref.u_all, rtol=1e-5, atol=1e-7)
        torch.testing.assert_close(ours.u_pos, ref.u_pos, rtol=1e-5, atol=1e-7)


@pytest.mark.parametrize("surr,margin", SURROGATES)
@pytest.mark.parametrize("top_k", [-1, 4])
def test_map_vs_libauc(surr, margin, top_k, path):
    N, B, Cn = 200, 50, 4
    g = torch.Generator().manual_seed(6)
    ref = L.mAPLoss(N, Cn, margin=margin, top_k=top_k, surr_loss=surr, device="cpu")
    ours = C.mAPLoss(N, Cn, margin=margin, top_k=top_k, surr_loss=surr, device="cpu")
    for step in range(3):
        s, y = _batch(g, B, Cn, ties=step == 1)
        idx = torch.randperm(N, generator=g)[:B]
        task = torch.tensor([2, 0, 2]) if step == 2 else []
        s1, s2 = s.clone().requires_grad_(), s.clone().requires_grad_()
        l1, l2 = ref(s1, y, idx, task_id=task), ours(s2, y, idx, task_id=task)
        (g1,) = torch.autograd.grad(l1, s1)
        (g2,) = torch.autograd.grad(l2, s2)
        torch.testing.assert_close(l2, l1, rtol=1e-4, atol=1e-7)
        torch.testing.assert_close(g2, g1, rtol=1e-4, atol=1e-7)
        torch.testing.assert_close(ours.u_all, ref.u_all, rtol=1e-5, atol=1e-7)
        torch.testing.assert_close(ours.u_pos, ref.u_pos, rtol=1e-5, atol=1e-7)


# breakpoints off the integers (the ties below): barrier (0.7, 2) bends at 0.7 and -1.4
EVERY_SURROGATE = [("logistic", 1.0), ("logistic", 3.0), ("logistic", 0.0), ("squared_hinge", 0.7), ("hinge", 0.7)]
EVERY_SURROGATE += [("squared", 0.7), ("barrier_hinge", (0.7, 2.0)), ("barrier_hinge", (0.6, 0.5))]
EVERY_SURROGATE += [("barrier_hinge", (-0.3, 3.0))]


@settings(max_examples=80, deadline=None)
@given(
    n=st.integers(2, 40),
    c=st.integers(1, 3),
    sm=st.sampled_from(EVERY_SURROGATE),
    spread=st.sampled_from([0.25, 1.0, 30.0]),
    top_k=st.sampled_from([-1, 2]),
    path=st.sampled_from(PATHS),
    seed=st.integers(0, 2**16),
)
def test_ap_vs_pair_matrix(n, c, sm, spread, top_k, path, seed):
    """Every path (the CPU op, the tiled kernel, the sort + scan of the larger batches) against the pair
    matrix."""
    with on_path(path):
        _check_against_pair_matrix(n, c, sm, spread, top_k, seed)


def _check_against_pair_matrix(n, c, sm, spread, top_k, seed):
    surr, margin = sm
    g = torch.Generator().manual_seed(seed)
    s = torch.randn(n, c, generator=g, dtype=torch.float64) * spread
    s = torch.where(torch.rand(n, c, generator=g) < 0.3, s.round(), s)  # ties (integers: off the breakpoints)
    y = (torch.rand(n, c, generator=g) < 0.4).float()  # labels may have no positive, or no negative
    idx = torch.randperm(3 * n, generator=g)[:n]
    loss = C.mAPLoss(3 * n, c, margin=margin, gamma=0.8, top_k=top_k, surr_loss=surr, device="cpu")
    ua, up = torch.rand(2, c, 3 * n, generator=g).double() + 0.5
    with torch.no_grad():
        loss.u_all.copy_(ua[..., None])
        loss.u_pos.copy_(up[..., None])
    ua, up = loss.u_all[..., 0].double(), loss.u_pos[..., 0].double()
    s1, s2 = s.clone().requires_grad_(), s.clone().requires_grad_()
    l_ref, ua_ref, up_ref = R.soap_step(s1, y, idx, ua, up, 0.8, margin, surr, top_k)
    l_ours = loss(s2, y, idx)
    torch.testing.assert_close(loss.u_all[..., 0].double(), ua_ref, rtol=1e-6, atol=1e-6)
    torch.testing.assert_close(loss.u_pos[..., 0].double(), up_ref, rtol=1e-6, atol=1e-6)
    tol = dict(rtol=1e-5, atol=1e-6 * (1 + spread**2))
    torch.testing.assert_close(l_ours, l_ref, **tol)
    if l_ref.requires_grad:
        (g1,) = torch.autograd.grad(l_ref, s1)
        (g2,) = torch.autograd.grad(l_ours, s2)
        torch.testing.assert_close(g2, g1, **tol)


def test_logistic_finite_where_libauc_overflows():
    # t = h_i - h_j = -100 at scale 1: LibAUC's log(1 + exp(100)) is inf in float32
    s = torch.tensor([[-50.0], [50.0], [0.0]])
    y = torch.tensor([[1.0], [0.0], [0.0]])
    idx = torch.arange(3)
    ref = L.APLoss(3, surr_loss="logistic", device="cpu")
    ref(s.clone().requires_grad_(), y, idx)
    assert ref.u_all.isinf().any()
    ours = C.APLoss(3, surr_loss="logistic", device="cpu")
    sr = s.clone().requires_grad_()
    ours(sr, y, idx).backward()
    want = 0.9 * torch.nn.functional.softplus(-(s[0] - s[:, 0]).double()).mean()
    torch.testing.assert_close(ours.u_all[0, 0].double(), want, rtol=1e-6, atol=0)
    assert sr.grad.isfinite().all()


def test_one_class_batches_and_half_inputs(path):
    for surr, margin in SURROGATES:
        loss = C.APLoss(20, margin=margin, surr_loss=surr, device="cpu")
        sr = torch.rand(8).requires_grad_()
        out = loss(sr, torch.zeros(8), torch.arange(8))  # no positive: 0, zero gradient
        out.backward()
        assert out.item() == 0 and sr.grad.abs().sum() == 0
        out = loss(torch.rand(8).requires_grad_(), torch.ones(8), torch.arange(8))  # only positives
        assert out.isfinite()
        with torch.no_grad():
            loss.u_all.fill_(1.5)
            loss.u_pos.fill_(0.7)
        loss.eval()
        wide = torch.rand(12, 4)
        y = (torch.arange(12) % 3 == 0).float()
        half = loss(wide[:, ::2].half()[:, 0], y, torch.arange(12))
        assert half.dtype == torch.float16
        ref = loss(wide[:, ::2].half()[:, 0].float(), y, torch.arange(12))
        torch.testing.assert_close(half.float(), ref, rtol=1e-3, atol=1e-4)


def test_barrier_margin_must_be_a_pair():
    with pytest.raises(ValueError, match="barrier_hinge"):
        C.APLoss(10, surr_loss="barrier_hinge")
    with pytest.raises(TypeError, match="margin"):
        C.mAPLoss(10, 2, margin=("a", 1.0), surr_loss="barrier_hinge")


@pytest.mark.parametrize("surr,margin", [("logistic", 1.0), ("barrier_hinge", (1.0, 2.0))])
def test_soap_trajectory_vs_libauc(surr, margin, path):
    N = 120
    g = torch.Generator().manual_seed(11)
    x = torch.randn(N, 6, generator=g)
    y = (torch.rand(N, 1, generator=g) < 0.3).float()
    torch.manual_seed(1)
    m1 = torch.nn.Sequential(torch.nn.Linear(6, 1), torch.nn.Sigmoid())
    m2 = torch.nn.Sequential(torch.nn.Linear(6, 1), torch.nn.Sigmoid())
    m2.load_state_dict(m1.state_dict())
    l1 = L.APLoss(N, margin=margin, surr_loss=surr, device="cpu")
    l2 = C.APLoss(N, margin=margin, surr_loss=surr, device="cpu")
    o1 = LO.SOAP(m1.parameters(), lr=0.05, mode="adam", verbose=False, device="cpu")
    o2 = C.SOAP(m2.parameters(), lr=0.05, mode="adam", verbose=False, semantics="libauc")
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
        torch.testing.assert_close(l2.u_pos, l1.u_pos, rtol=1e-5, atol=1e-6)


def test_large_batches_route_by_anchor_count():
    """Past FUSED_ALWAYS_PAIRS the CPU op takes batches with few anchor pairs or few anchors per label (O(n+ n)
    pair sums), the sort + scan the others (O(n log n)); the logistic (no scan) always takes the op. Both exact."""
    n = 4096
    g = torch.Generator().manual_seed(12)
    s = torch.rand(n, 1, generator=g, dtype=torch.float64)
    few, many = torch.zeros(n, 1), (torch.rand(n, 1, generator=g) < 0.5).float()
    few[torch.randperm(n, generator=g)[:40]] = 1
    assert n * n > A.FUSED_ALWAYS_PAIRS and 40 <= A.FUSED_ANCHORS_PER_LABEL < n // 4
    assert n * n // 2 > A.FUSED_ANCHOR_PAIRS
    # LibAUC's 16x batch, half positives: few enough anchor pairs for the op; twice that batch is not
    for b, fused in ((1024, True), (2048, False)):
        assert A.FUSED_ALWAYS_PAIRS < b * b // 2 and A.FUSED_ANCHORS_PER_LABEL < b // 2
        half = (torch.arange(b)[:, None] % 2 == 0).float()
        assert C.APLoss(b, surr_loss="barrier_hinge", margin=(1.0, 2.0))._fused(s[:b], half) == fused
    for y, fused in ((few, True), (many, False)):
        loss = C.APLoss(n, gamma=0.8, device="cpu")
        assert loss._fused(s, y) == fused
        assert C.APLoss(n, surr_loss="logistic", device="cpu")._fused(s, y)
        zeros = torch.zeros(1, n, dtype=torch.float64)
        s1, s2 = s.clone().requires_grad_(), s.clone().requires_grad_()
        l_ref, ua_ref, _ = R.soap_step(s1, y, torch.arange(n), zeros, zeros, 0.8, 1.0, "squared_hinge")
        l_ours = loss(s2, y, torch.arange(n))
        torch.testing.assert_close(loss.u_all[:, 0].double(), ua_ref[0], rtol=1e-6, atol=1e-9)
        torch.testing.assert_close(l_ours, l_ref, rtol=1e-6, atol=1e-9)
        (g1,) = torch.autograd.grad(l_ref, s1)
        (g2,) = torch.autograd.grad(l_ours, s2)
        torch.testing.assert_close(g2, g1, rtol=1e-6, atol=1e-9)
