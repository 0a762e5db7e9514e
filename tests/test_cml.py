"""CML family: the fused triplet loss (dense and indexed), DCRS, the SFCML loss, the models and the
negative sampler, against the official formulations re-implemented in torchauc.reference.cml."""

import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

import torchauc
from torchauc import cml
from torchauc.reference import cml as R


def _grid(g, shape, dtype=torch.float64, ties=True):
    """Random values; with ties, from a coarse grid (exact in every dtype: many equal distances)."""
    if ties:
        return (torch.randint(-2, 3, shape, generator=g).double() / 2).to(dtype)
    return torch.randn(shape, generator=g, dtype=torch.float64).to(dtype)


def _triplet_data(g, B, K, J, d, ties, device):
    u = _grid(g, (B, K, d), ties=ties).to(device)
    p = _grid(g, (B, d), ties=ties).to(device)
    n = _grid(g, (B, J, d), ties=ties).to(device)
    return u, p, n


def _values_and_grads(fn, *xs):
    xs = [x.detach().clone().requires_grad_() for x in xs]
    loss = fn(*xs)
    if not loss.requires_grad:  # a constant (e.g. DCRS of one vector per user)
        return loss.detach(), [torch.zeros_like(x) for x in xs]
    grads = torch.autograd.grad(loss, xs, allow_unused=True)
    return loss.detach(), [torch.zeros_like(x) if gr is None else gr for x, gr in zip(xs, grads)]


# ------------------------------------------------------------------ triplet loss
@pytest.mark.parametrize("reduction", ["sum", "mean"])
@pytest.mark.parametrize("ties", [True, False])
@pytest.mark.parametrize("K,J", [(1, 1), (5, 1), (3, 10)])
def test_triplet_dense_matches_official(device, reduction, ties, K, J):
    g = torch.Generator().manual_seed(K * 100 + J)
    u, p, n = _triplet_data(g, 33, K, J, 4, ties, device)
    want, wg = _values_and_grads(lambda a, b, c: R.triplet_loss(a, b, c, 0.7, reduction), u, p, n)
    got, gg = _values_and_grads(lambda a, b, c: cml.triplet_loss(a, b, c, margin=0.7, reduction=reduction), u, p, n)
    torch.testing.assert_close(got, want, rtol=1e-12, atol=1e-12)
    for a, b in zip(gg, wg):
        torch.testing.assert_close(a, b, rtol=1e-12, atol=1e-12)


def test_triplet_plain_cml_shapes(device):
    g = torch.Generator().manual_seed(1)
    u, p, n = (torch.randn(s, generator=g, dtype=torch.float64).to(device) for s in [(8, 3), (8, 3), (8, 3)])
    got = cml.triplet_loss(u, p, n)
    torch.testing.assert_close(got, R.triplet_loss(u.unsqueeze(1), p, n.unsqueeze(1)))


@pytest.mark.parametrize("J", [1, 4])
def test_triplet_indexed_matches_gathered_official(device, J):
    g = torch.Generator().manual_seed(J)
    M, N, K, d, B = 6, 9, 3, 5, 40  # few rows: indices repeat, gradients accumulate
    users = _grid(g, (M, K, d)).to(device)
    items = _grid(g, (N, d)).to(device)
    ui = torch.randint(0, M, (B,), generator=g).to(device)
    pi = torch.randint(0, N, (B,), generator=g).to(device)
    ni = torch.randint(0, N, (B, J) if J > 1 else (B,), generator=g).to(device)

    def official(U, V):
        return R.triplet_loss(U[ui], V[pi], V[ni.reshape(B, J)], 1.0)

    def ours(U, V):
        return cml.triplet_loss(U, V, V, users_idx=ui, pos_idx=pi, neg_idx=ni)

    want, wg = _values_and_grads(official, users, items)
    got, gg = _values_and_grads(ours, users, items)
    torch.testing.assert_close(got, want, rtol=1e-12, atol=1e-12)
    for a, b in zip(gg, wg):
        torch.testing.assert_close(a, b, rtol=1e-12, atol=1e-12)


def test_triplet_gradcheck(device):
    g = torch.Generator().manual_seed(3)
    u, p, n = _triplet_data(g, 7, 3, 4, 3, False, device)
    for red in ("sum", "mean"):
        torch.autograd.gradcheck(
            lambda a, b, c: cml.triplet_loss(a, b, c, reduction=red, margin=3.0),
            (u.requires_grad_(), p.requires_grad_(), n.requires_grad_()),
        )
    U, V = (
        torch.randn(4, 2, 3, dtype=torch.float64, device=device),
        torch.randn(5, 3, dtype=torch.float64, device=device),
    )
    ui, pi = torch.tensor([0, 3, 3, 1], device=device), torch.tensor([4, 0, 2, 2], device=device)
    ni = torch.tensor([[1, 2], [3, 4], [0, 0], [2, 1]], device=device)
    torch.autograd.gradcheck(
        lambda a, b: cml.triplet_loss(a, b, b, users_idx=ui, pos_idx=pi, neg_idx=ni, margin=4.0),
        (U.requires_grad_(), V.requires_grad_()),
    )


@pytest.mark.parametrize("dtype", [torch.float32, torch.float16, torch.bfloat16])
def test_triplet_low_precision_and_strides(device, dtype):
    g = torch.Generator().manual_seed(4)
    u = torch.randn(16, 5, 3, 2, generator=g, dtype=torch.float64)[..., 0]
    u = u.to(device)[:, ::2]  # non-contiguous (16, 3, 3): every other user vector, every other value
    p = torch.randn(3, 16, generator=g, dtype=torch.float64).to(device).T  # non-contiguous (16, 3)
    n = torch.randn(16, 2, 3, generator=g, dtype=torch.float64).to(device)
    want = R.triplet_loss(u.to(dtype).double(), p.to(dtype).double(), n.to(dtype).double(), 2.0)
    got = cml.triplet_loss(u.to(dtype), p.to(dtype), n.to(dtype), margin=2.0)
    assert got.dtype == dtype
    torch.testing.assert_close(got.double(), want, rtol=1e-2 if dtype != torch.float32 else 1e-5, atol=1e-3)


def test_triplet_nan_propagates_and_inactive_rows_have_no_gradient(device):
    u = torch.zeros(2, 1, 2, dtype=torch.float64, device=device, requires_grad=True)
    p = torch.tensor([[0.0, 0.0], [float("nan"), 0.0]], dtype=torch.float64, device=device)
    n = torch.tensor([[5.0, 0.0], [1.0, 0.0]], dtype=torch.float64, device=device)
    assert torch.isnan(cml.triplet_loss(u, p, n))
    loss = cml.triplet_loss(u[:1], p[:1], n[:1])
    assert float(loss.detach()) == 0.0  # 1 + 0 - 25 < 0
    (gu,) = torch.autograd.grad(loss, u)
    assert torch.count_nonzero(gu) == 0


def test_triplet_errors(device):
    u, p, n = torch.randn(4, 2, 3), torch.randn(4, 3), torch.randn(4, 5, 3)
    u, p, n = u.to(device), p.to(device), n.to(device)
    with pytest.raises(ValueError, match="pos must have shape"):
        cml.triplet_loss(u, p[:, :2], n)
    with pytest.raises(ValueError, match="neg must have shape"):
        cml.triplet_loss(u, p, n[:3])
    with pytest.raises(ValueError, match="dtype"):
        cml.triplet_loss(u, p.double(), n)
    with pytest.raises(ValueError, match="together"):
        cml.triplet_loss(u, p, p, users_idx=torch.zeros(2, dtype=torch.long, device=device))
    with pytest.raises(ValueError, match="reduction"):
        cml.triplet_loss(u, p, n, reduction="none")
    with pytest.raises(ValueError, match="J >= 1"):
        cml.triplet_loss(u, p, n[:, :0])
    with pytest.raises(TypeError, match="users"):
        cml.triplet_loss([1.0], p, n)
    idx = torch.tensor([0, 1], device=device)
    with pytest.raises(ValueError, match="neg_idx must have shape"):
        cml.triplet_loss(u, p, p, users_idx=idx, pos_idx=idx, neg_idx=torch.zeros(3, dtype=torch.long, device=device))
    if device == "cpu":
        with pytest.raises(ValueError, match="pos_idx must be in"):
            cml.triplet_loss(u, p, p, users_idx=idx, pos_idx=idx + 3, neg_idx=idx)


@settings(max_examples=30, deadline=None)
@given(
    B=st.integers(0, 20),
    K=st.integers(1, 4),
    J=st.integers(1, 5),
    d=st.integers(1, 4),
    ties=st.booleans(),
    margin=st.sampled_from([0.0, 0.5, 1.0, 3.0]),
    seed=st.integers(0, 2**16),
)
def test_triplet_property(B, K, J, d, ties, margin, seed):
    g = torch.Generator().manual_seed(seed)
    u, p, n = _triplet_data(g, B, K, J, d, ties, "cpu")
    want, wg = _values_and_grads(lambda a, b, c: R.triplet_loss(a, b, c, margin), u, p, n)
    got, gg = _values_and_grads(lambda a, b, c: cml.triplet_loss(a, b, c, margin=margin), u, p, n)
    torch.testing.assert_close(got, want, rtol=1e-12, atol=1e-12)
    for a, b in zip(gg, wg):
        torch.testing.assert_close(a, b, rtol=1e-12, atol=1e-12)


# ------------------------------------------------------------------ DCRS
@pytest.mark.parametrize("K", [1, 2, 5])
def test_dcrs_matches_official_and_paper(device, K):
    g = torch.Generator().manual_seed(K)
    U = torch.nn.functional.normalize(torch.randn(11, K, 6, generator=g, dtype=torch.float64), dim=-1).to(device)
    for red, ref, (m1, m2) in (("official", R.dcrs_official, (0.1, 0.35)), ("paper", R.dcrs_paper, (1.5, 1.8))):
        want, (wg,) = _values_and_grads(lambda x: ref(x, m1, m2), U)
        got, (gg,) = _values_and_grads(lambda x: cml.dcrs(x, m1, m2, reduction=red), U)
        torch.testing.assert_close(got, want, rtol=1e-10, atol=1e-12)
        torch.testing.assert_close(gg, wg, rtol=1e-8, atol=1e-10)


def test_dcrs_gradcheck_and_errors():
    U = torch.randn(5, 3, 4, dtype=torch.float64, requires_grad=True)
    torch.autograd.gradcheck(lambda x: cml.dcrs(x, 2.0, 9.0), (U,))
    torch.autograd.gradcheck(lambda x: cml.dcrs(x, 2.0, 9.0, reduction="paper"), (U,))
    with pytest.raises(ValueError, match="reduction"):
        cml.dcrs(U, 0.1, 0.2, reduction="mean")
    with pytest.raises(ValueError, match=r"\(M, K, d\)"):
        cml.dcrs(U[0], 0.1, 0.2)


# ------------------------------------------------------------------ SFCML
def _csr_batch(g, B, N, p=0.2):
    T = torch.rand(B, N, generator=g) < p
    T[0] = False  # a user without positives (skipped)
    T[1] = True  # a user with every item (no negatives: skipped)
    ptr = torch.cat([torch.zeros(1, dtype=torch.long), T.sum(1).cumsum(0)])
    return ptr, T.nonzero()[:, 1].contiguous(), T.double()


def _dots_inputs(g, B, N, d, p, dtype=torch.float64, device="cpu"):
    T = torch.rand(B, N, generator=g) < p
    ptr = torch.cat([torch.zeros(1, dtype=torch.long), T.sum(1).cumsum(0)])
    U = _grid(g, (B, d), ties=False).to(dtype)
    V = _grid(g, (N, d), ties=False).to(dtype)
    return U.to(device), V.to(device), ptr.to(device), T.nonzero()[:, 1].contiguous().to(device)


@pytest.mark.parametrize(
    "B,N,d,p", [(0, 3, 2, 0.5), (1, 1, 1, 1.0), (7, 30, 5, 0.3), (40, 9, 17, 0.8), (5, 50, 3, 0.0)]
)
def test_gather_dots_values_and_grads_match_reference(device, B, N, d, p):
    g = torch.Generator().manual_seed(B * 31 + N)
    U, V, ptr, idx = _dots_inputs(g, B, N, d, p, device=device)
    w = torch.randn(idx.numel(), generator=g, dtype=torch.float64).to(device)  # a weighted sum: every grad entry
    fn = lambda op: lambda a, b: (op(a, b, ptr, idx) * w).sum()  # noqa: E731
    want, wg = _values_and_grads(fn(R.gather_dots), U, V)
    got, gg = _values_and_grads(fn(torch.ops.torchauc.cml_gather_dots), U, V)
    torch.testing.assert_close(got, want, rtol=1e-12, atol=1e-12)
    for a, b in zip(gg, wg):
        torch.testing.assert_close(a, b, rtol=1e-12, atol=1e-12)


def test_gather_dots_gradcheck(device):
    g = torch.Generator().manual_seed(3)
    U, V, ptr, idx = _dots_inputs(g, 6, 11, 4, 0.4, device=device)
    U, V = U.requires_grad_(), V.requires_grad_()
    assert torch.autograd.gradcheck(lambda a, b: torch.ops.torchauc.cml_gather_dots(a, b, ptr, idx), (U, V))


@pytest.mark.parametrize("dtype", [torch.float32, torch.float16, torch.bfloat16])
def test_gather_dots_low_precision_and_strides(device, dtype):
    g = torch.Generator().manual_seed(4)
    U, V, ptr, idx = _dots_inputs(g, 8, 20, 6, 0.3, device=device)
    Ut, Vt = U.to(dtype).t().contiguous().t(), V.to(dtype)[:, :6]  # a non-contiguous users table
    got = torch.ops.torchauc.cml_gather_dots(Ut, Vt, ptr, idx)
    assert got.dtype == dtype
    want = R.gather_dots(Ut.double(), Vt.double(), ptr, idx)  # accumulated in float (or double)
    torch.testing.assert_close(got.double(), want, rtol=1e-2 if dtype != torch.float32 else 1e-6, atol=1e-2)


def test_gather_dots_errors():
    U, V = torch.randn(2, 3), torch.randn(5, 3)
    op = torch.ops.torchauc.cml_gather_dots
    with pytest.raises(ValueError, match=r"indices must be item ids in \[0, 5\)"):
        op(U, V, torch.tensor([0, 1, 2]), torch.tensor([0, 5]))
    with pytest.raises(ValueError, match="indptr must start at 0"):
        op(U, V, torch.tensor([0, 1, 1]), torch.tensor([0, 1]))
    with pytest.raises(ValueError, match="non-decreasing"):
        op(U, V, torch.tensor([0, 2, 1]), torch.tensor([0]))
    with pytest.raises(ValueError, match="B \\+ 1 = 3"):
        op(U, V, torch.tensor([0, 1]), torch.tensor([0]))
    with pytest.raises(ValueError, match="share d"):
        op(U, V[:, :2], torch.tensor([0, 1, 2]), torch.tensor([0, 1]))
    with pytest.raises(ValueError, match="users' dtype"):
        op(U, V.double(), torch.tensor([0, 1, 2]), torch.tensor([0, 1]))
    with pytest.raises(ValueError, match="grad must have shape"):
        torch.ops.torchauc.cml_gather_dots_backward(torch.ones(3), U, V, torch.tensor([0, 1, 2]), torch.tensor([0, 1]))


@settings(max_examples=25, deadline=None)
@given(B=st.integers(0, 12), N=st.integers(1, 25), d=st.integers(1, 9), p=st.floats(0, 1), seed=st.integers(0, 2**31))
def test_gather_dots_property(B, N, d, p, seed):
    g = torch.Generator().manual_seed(seed)
    U, V, ptr, idx = _dots_inputs(g, B, N, d, p)
    w = torch.randn(idx.numel(), generator=g, dtype=torch.float64)
    gu, gv = torch.ops.torchauc.cml_gather_dots_backward(w, U, V, ptr, idx)
    want, (wu, wv) = _values_and_grads(lambda a, b: (R.gather_dots(a, b, ptr, idx) * w).sum(), U, V)
    torch.testing.assert_close(torch.ops.torchauc.cml_gather_dots(U, V, ptr, idx), R.gather_dots(U, V, ptr, idx))
    torch.testing.assert_close(gu, wu, rtol=1e-12, atol=1e-12)
    torch.testing.assert_close(gv, wv, rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("method", ["gram", "direct", "auto"])
def test_sfcml_matches_official(device, method):
    g = torch.Generator().manual_seed(5)
    B, N, d = 9, 40, 6
    ptr, idx, T = _csr_batch(g, B, N)
    U = torch.nn.functional.normalize(torch.randn(B, d, generator=g, dtype=torch.float64), dim=1).to(device)
    V = torch.nn.functional.normalize(torch.randn(N, d, generator=g, dtype=torch.float64), dim=1).to(device)
    ptr, idx, T = ptr.to(device), idx.to(device), T.to(device)
    keep = torch.arange(2, B, device=device)  # the official code needs positives and negatives
    want, (wu, wv) = _values_and_grads(lambda a, b: R.sfcml_loss_official(a[keep], b, T[keep], 1.5), U, V)
    got, (gu, gv) = _values_and_grads(lambda a, b: cml.sfcml_loss(a, b, ptr, idx, margin=1.5, method=method), U, V)
    torch.testing.assert_close(got, want, rtol=1e-10, atol=1e-12)
    torch.testing.assert_close(gu, wu, rtol=1e-8, atol=1e-10)
    torch.testing.assert_close(gv, wv, rtol=1e-8, atol=1e-10)
    torch.testing.assert_close(got, R.sfcml_loss_pairs(U, V, T, 1.5), rtol=1e-10, atol=1e-12)


def test_sfcml_distance_form_under_unit_norms():
    g = torch.Generator().manual_seed(6)
    U = torch.nn.functional.normalize(torch.randn(3, 4, generator=g, dtype=torch.float64), dim=1)
    V = torch.nn.functional.normalize(torch.randn(7, 4, generator=g, dtype=torch.float64), dim=1)
    ptr, idx = torch.tensor([0, 2, 3, 5]), torch.tensor([1, 4, 0, 2, 6])
    d = torch.cdist(U, V) ** 2
    terms = []
    for b in range(3):
        P = idx[ptr[b] : ptr[b + 1]]
        Nm = torch.ones(7, dtype=torch.bool)
        Nm[P] = False
        terms.append(((1.0 + d[b, P].unsqueeze(1) - d[b, Nm].unsqueeze(0)) ** 2).mean())
    torch.testing.assert_close(cml.sfcml_loss(U, V, ptr, idx), torch.stack(terms).mean())


def test_sfcml_errors():
    U, V = torch.randn(2, 3), torch.randn(5, 3)
    with pytest.raises(ValueError, match="share d"):
        cml.sfcml_loss(U, V[:, :2], torch.tensor([0, 1, 2]), torch.tensor([0, 1]))
    with pytest.raises(ValueError, match="indptr"):
        cml.sfcml_loss(U, V, torch.tensor([0, 1]), torch.tensor([0]))
    with pytest.raises(ValueError, match="method"):
        cml.sfcml_loss(U, V, torch.tensor([0, 1, 2]), torch.tensor([0, 1]), method="dense")


# ------------------------------------------------------------------ models
@pytest.mark.parametrize("dtype", [torch.float32, torch.float64])
def test_renorm_rows_matches_embedding_renorm(dtype):
    from torchauc.cml.models import renorm_rows_

    g = torch.Generator().manual_seed(8)
    w = (torch.randn(50, 7, generator=g, dtype=torch.float64) * 0.6).to(dtype)
    w[3] = 0  # a zero row stays zero
    rows = torch.randint(0, 50, (40,), generator=g).unique()
    want, got = w.clone(), w.clone()
    torch.embedding_renorm_(want, rows, 1.0, 2.0)
    renorm_rows_(got, rows, 1.0)
    assert (want != w).any() and (want == w).any()  # some rows above the bound, some below
    torch.testing.assert_close(got, want, rtol=2 * torch.finfo(dtype).eps, atol=0)


def test_dpcml_model_official_init_forward_and_renorm():
    torch.manual_seed(0)
    m = cml.DPCML(50, 80, dim=16, num_vectors=3, reg=10.0, m1=0.1, m2=0.35)
    assert m.user_vectors.shape == (50, 3, 16)
    assert abs(float(m.user_embeddings.weight.detach().std()) - 0.01) < 0.002
    assert abs(float(m.item_embeddings.weight.detach().std()) - 0.25) < 0.03
    users, pos, neg = torch.randint(0, 50, (32,)), torch.randint(0, 80, (32,)), torch.randint(0, 80, (32, 4))
    loss = m(users, pos, neg)
    V = m.item_embeddings.weight.detach()
    read = torch.cat([pos, neg.reshape(-1)]).unique()
    assert float(V[read].norm(dim=1).max()) <= 1 + 1e-5  # max_norm=1 lookups
    want = R.triplet_loss(m.user_vectors[users], V[pos], V[neg]) + 10.0 * R.dcrs_official(m.user_vectors, 0.1, 0.35)
    torch.testing.assert_close(loss, want, rtol=1e-5, atol=1e-6)
    loss.backward()
    assert m.user_embeddings.weight.grad is not None
    m.renorm_()
    torch.testing.assert_close(m.user_vectors.norm(dim=-1), torch.ones(50, 3))


def test_sfcml_model_forward_and_renorm():
    torch.manual_seed(0)
    m = cml.SFCML(6, 20, dim=8, margin=1.0)
    torch.testing.assert_close(m.item_embeddings.weight.norm(dim=1), torch.ones(20))
    users, items = torch.randint(0, 6, (30,)), torch.randint(0, 20, (30,))
    indptr, indices = cml.data.to_csr(users, items, 6)
    batch = torch.tensor([4, 1, 1])
    loss = m(batch, indptr, indices)
    T = R.dense_target(*cml.csr_rows(indptr, indices, batch), 20, dtype=torch.float32)
    torch.testing.assert_close(loss, R.sfcml_loss_pairs(m.user_embeddings.weight[batch], m.item_embeddings.weight, T))
    with torch.no_grad():
        m.user_embeddings.weight.mul_(3)
    m.renorm_()
    torch.testing.assert_close(m.user_embeddings.weight.norm(dim=1), torch.ones(6))


# ------------------------------------------------------------------ negative sampling
def _csr(device, rows, num_items=None):
    ptr = torch.tensor([0] + [len(r) for r in rows]).cumsum(0)
    return ptr.to(device), torch.tensor([i for r in rows for i in sorted(r)], dtype=torch.long).to(device)


def test_sample_negatives_exact_reproducible_and_uniform(device):
    rows = [[0, 3, 4, 7], [], [1, 2, 3, 4, 5, 6, 7, 8], [9]]
    ptr, idx = _csr(device, rows)
    users = torch.tensor([0, 2, 3, 1, 2] * 400, device=device)
    g = torch.Generator(device="cpu").manual_seed(1)
    out = cml.sample_negatives(ptr, idx, users, 10, 7, generator=g)
    assert out.shape == (2000, 7) and out.dtype == torch.long and out.device.type == device
    for r, u in enumerate(users[:50].tolist()):
        assert not set(out[r].tolist()) & set(rows[u])
    allowed = torch.ones(4, 10, dtype=torch.bool)
    for u, r in enumerate(rows):
        allowed[u, r] = False
    assert bool(allowed.to(device)[users.unsqueeze(1), out].all())
    again = cml.sample_negatives(ptr, idx, users, 10, 7, generator=torch.Generator().manual_seed(1))
    assert torch.equal(out, again)
    other = cml.sample_negatives(ptr, idx, users, 10, 7, generator=torch.Generator().manual_seed(2))
    assert not torch.equal(out, other)
    # user 2 may only get items 0 and 9, user 0 six items: counts near uniform (>5 sigma would fail)
    sel = out[users == 2].reshape(-1).cpu()
    assert (
        set(sel.unique().tolist()) == {0, 9}
        and abs(int((sel == 0).sum()) - sel.numel() / 2) < 5 * (sel.numel() / 4) ** 0.5
    )
    c = torch.bincount(out[users == 0].reshape(-1).cpu(), minlength=10).double()[[1, 2, 5, 6, 8, 9]]
    assert float(((c - c.mean()) ** 2 / c.mean()).sum()) < 30  # chi-square, 5 dof


def test_sample_negatives_user_runs_never_draw_a_positive(device):
    # rows of one user in runs (CSR order, as triplets() makes them) and isolated rows: the CPU
    # kernel keeps the run's row as a bitmap and must drop it exactly when the user changes
    g = torch.Generator().manual_seed(3)
    dense = torch.rand(30, 70, generator=g) < 0.5
    dense[4] = False  # a user without positives
    ptr = torch.cat([torch.zeros(1, dtype=torch.long), dense.sum(1).cumsum(0)]).to(device)
    idx = dense.nonzero()[:, 1].contiguous().to(device)
    runs = torch.randint(0, 30, (300,), generator=g).sort().values
    users = torch.cat([runs, torch.randint(0, 30, (300,), generator=g), runs.flip(0)]).to(device)
    out = cml.sample_negatives(ptr, idx, users, 70, 9, generator=torch.Generator().manual_seed(4))
    assert not bool(dense.to(device)[users.unsqueeze(1), out].any())
    assert bool(((out >= 0) & (out < 70)).all())


def test_sample_negatives_errors(device):
    ptr, idx = _csr(device, [[0, 1, 2], [1]])
    users = torch.tensor([0, 1], device=device)
    with pytest.raises(ValueError, match="interacted with every item"):
        cml.sample_negatives(ptr, idx, users, 3, 2)
    with pytest.raises(ValueError, match="users must be in"):
        cml.sample_negatives(ptr, idx, users + 1, 5, 2)
    with pytest.raises(ValueError, match="int64"):
        cml.sample_negatives(ptr, idx.int(), users, 5, 2)
    with pytest.raises(TypeError, match="num_items"):
        cml.sample_negatives(ptr, idx, users, 5.0, 2)
    if device == "cpu":
        with pytest.raises(ValueError, match="sorted"):
            cml.sample_negatives(ptr, torch.tensor([2, 0, 1, 1]), users, 5, 2)
    assert cml.sample_negatives(ptr, idx, users[:0], 5, 2).shape == (0, 2)


def test_triplets_layouts():
    rows = [[0, 3], [1], [2, 4, 5]]
    ptr, idx = _csr("cpu", rows)
    u, p, n = cml.triplets(ptr, idx, 8, 3, layout="uniform", generator=torch.Generator().manual_seed(0))
    assert u.shape == p.shape == n.shape == (18,)
    assert u.tolist()[:6] == [0, 0, 0, 0, 0, 0] and p.tolist()[:6] == [0, 0, 0, 3, 3, 3]
    u, p, n = cml.triplets(ptr, idx, 8, 3, layout="hard", generator=torch.Generator().manual_seed(0))
    assert u.tolist() == [0, 0, 1, 2, 2, 2] and p.tolist() == [0, 3, 1, 2, 4, 5] and n.shape == (6, 3)
    for r in range(6):
        assert not set(n[r].tolist()) & set(rows[u[r]])
    with pytest.raises(ValueError, match="layout"):
        cml.triplets(ptr, idx, 8, 3, layout="pairs")


def test_ops_registered():
    assert {"cml_triplet_loss", "cml_triplet_backward", "cml_sample_negatives"} <= set(torchauc.op_names())
