"""Multiclass and pixel-level (AUCSeg) AUC loss vs float64 pair loops, XCurve and AUCSeg, on every device."""

import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

import torchauc
from torchauc import functional as F
from torchauc.reference import multiclass as R

SURROGATES = ["square", "exp", "hinge", "linear"]
MODES = ["ovo", "ova"]
NORMS = ["present", "xcurve"]


def make_mc(n, c, seed=0, absent=(), device="cpu", dtype=torch.float64, scale=1.0):
    g = torch.Generator().manual_seed(seed)
    s = (torch.randn(n, c, generator=g, dtype=torch.float64) * scale).to(dtype)
    y = torch.randint(0, c, (n,), generator=g)
    present = [k for k in range(c) if k not in absent]
    y = torch.tensor(present)[torch.randint(0, len(present), (n,), generator=g)]
    return s.to(device), y.to(device)


def make_pix(b, c, h, w, seed=0, absent=(), ignore_frac=0.2, device="cpu", dtype=torch.float64):
    g = torch.Generator().manual_seed(seed)
    x = torch.randn(b, c, h, w, generator=g, dtype=torch.float64).to(dtype)
    present = [k for k in range(c) if k not in absent]
    y = torch.tensor(present)[torch.randint(0, len(present), (b, h, w), generator=g)]
    y[torch.rand(b, h, w, generator=g) < ignore_frac] = 255
    return x.to(device), y.to(device)


def value_and_grad(fn, x, *args, **kwargs):
    x = x.detach().clone().requires_grad_()
    loss = fn(x, *args, **kwargs)
    loss.backward()
    return loss.detach(), x.grad


def assert_same(ours, ref, rtol=1e-9, atol=1e-12):
    for o, r in zip(ours, ref):
        torch.testing.assert_close(o.cpu().double(), r.cpu().double().reshape(o.shape), rtol=rtol, atol=atol)


@pytest.mark.parametrize("surrogate", SURROGATES)
@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("normalization", NORMS)
def test_multiclass_matches_pair_loop(device, surrogate, mode, normalization):
    s, y = make_mc(90, 6, absent=(2,), device=device)
    ours = value_and_grad(
        F.multiclass_auc_loss, s, y, surrogate=surrogate, mode=mode, margin=0.7, normalization=normalization
    )
    ref = value_and_grad(R.multiclass_auc_loss_pairs, s, y, surrogate, mode, 0.7, normalization=normalization)
    assert_same(ours, ref)


@pytest.mark.parametrize("surrogate", SURROGATES)
@pytest.mark.parametrize("mode", MODES)
def test_pixel_matches_pair_loop(device, surrogate, mode):
    x, y = make_pix(2, 5, 6, 7, absent=(1,), device=device)
    ours = value_and_grad(F.pixel_auc_loss, x, y, surrogate=surrogate, mode=mode, margin=0.6, ignore_index=255)
    ref = value_and_grad(
        R.multiclass_auc_loss_pairs, x, y, surrogate, mode, 0.6, ignore_index=255, activation="sigmoid"
    )
    assert_same(ours, ref)
    assert torch.all(ours[1].permute(1, 0, 2, 3)[:, y == 255] == 0)  # ignored pixels get no gradient


@pytest.mark.parametrize("surrogate", ["square", "exp", "hinge"])
@pytest.mark.parametrize("transform", MODES)
def test_matches_aucseg_official(device, surrogate, transform):
    # AUCSeg skips absent classes and uses C_b; its ova is a sum over classes (normalization="xcurve")
    x, y = make_pix(2, 7, 8, 9, absent=(0, 4), device=device)
    norm = "present" if transform == "ovo" else "xcurve"
    ours_sur = "linear" if surrogate == "hinge" else surrogate
    ours = value_and_grad(
        F.pixel_auc_loss, x, y, surrogate=ours_sur, mode=transform, normalization=norm, ignore_index=255
    )
    ref = value_and_grad(R.aucseg_auc_loss, x, y, surrogate, 1.0, transform)
    if surrogate != "hinge":
        assert_same(ours, ref)
    else:  # the official "hinge" is linear and misses N_i on its negative term: it is smaller
        assert ours[0] > ref[0]


def test_aucseg_module_loss_weight(device):
    x, y = make_pix(2, 6, 5, 5, absent=(3,), device=device)
    m = torchauc.losses.AUCSegLoss(num_classes=6, loss_weight=4.0, ignore_index=255)
    torch.testing.assert_close(m(x, y), 4.0 * R.aucseg_auc_loss(x, y).reshape(()))
    # ignore_index passed to forward overrides the module's: here no pixel is ignored
    y0 = torch.where(y == 255, 1, y)
    torch.testing.assert_close(m(x, y0, ignore_index=-5), 4.0 * F.pixel_auc_loss(x, y0, ignore_index=None))
    assert "loss_weight=4.0" in repr(m)
    with pytest.raises(ValueError, match="num_classes=6"):
        m(x[:, :5], y)


@pytest.mark.parametrize("surrogate", ["square", "exp", "hinge"])
@pytest.mark.parametrize("transform", MODES)
def test_matches_xcurve_reference_all_present(device, surrogate, transform):
    s, y = make_mc(120, 5, seed=3, device=device)
    p = torch.softmax(s, 1)
    ref = R.xcurve_multiclass_auc_loss(p, y, surrogate, 1.0, transform).reshape(())
    if surrogate == "hinge":
        return  # linear with the N_i bug; see test_xcurve_hinge_bug
    ours = F.multiclass_auc_loss(p, y, surrogate=surrogate, mode=transform, normalization="xcurve")
    torch.testing.assert_close(ours, ref, rtol=1e-10, atol=1e-12)


def test_xcurve_hinge_bug():
    # with one sample per class the missing N_i factor is 1, so XCurve's "hinge" equals our linear
    p = torch.softmax(torch.randn(6, 6, dtype=torch.float64), 1)
    y = torch.randperm(6)
    ours = F.multiclass_auc_loss(p, y, surrogate="linear", normalization="xcurve")
    torch.testing.assert_close(ours, R.xcurve_multiclass_auc_loss(p, y, "hinge").reshape(()))
    # with N_i > 1 the negative term is N_i times too small there; ours equals the pair sum (and the
    # true hinge, since s in [0, 1] and margin 1)
    s, y = make_mc(80, 4, seed=2)
    p = torch.softmax(s, 1)
    ours = F.multiclass_auc_loss(p, y, surrogate="linear", normalization="xcurve")
    torch.testing.assert_close(ours, R.multiclass_auc_loss_pairs(p, y, "linear", normalization="xcurve"))
    torch.testing.assert_close(ours, F.multiclass_auc_loss(p, y, surrogate="hinge", normalization="xcurve"))
    assert not torch.allclose(ours, R.xcurve_multiclass_auc_loss(p, y, "hinge").reshape(()))


@pytest.fixture
def xcurve_on_cpu(monkeypatch):
    # XCurve hard-codes .cuda(); make it the identity so the installed package runs on CPU
    monkeypatch.setattr(torch.Tensor, "cuda", lambda self, *a, **k: self)
    from XCurve.AUROC.losses import StandardAUROC

    return StandardAUROC


@pytest.mark.parametrize("name,surrogate", [("SquareAUCLoss", "square"), ("ExpAUCLoss", "exp")])
@pytest.mark.parametrize("transform", MODES)
def test_matches_installed_xcurve(xcurve_on_cpu, name, surrogate, transform):
    s, y = make_mc(100, 4, seed=5, dtype=torch.float32)
    p = torch.softmax(s, 1)
    official = getattr(xcurve_on_cpu, name)(num_classes=4, gamma=0.8, transform=transform)
    ref = official(p, y).reshape(())
    ours = torchauc.losses.MultiClassAUCLoss(
        4, surrogate=surrogate, mode=transform, margin=0.8, normalization="xcurve"
    )(p, y)
    torch.testing.assert_close(ours, ref, rtol=1e-5, atol=1e-6)
    torch.testing.assert_close(
        R.xcurve_multiclass_auc_loss(p, y, surrogate, 0.8, transform).reshape(()), ref, rtol=1e-5, atol=1e-6
    )
    # XCurve is NaN when a class is absent; ours skips the class
    y2 = torch.where(y == 2, 1, y)
    assert torch.isnan(official(p, y2)).all()
    assert (
        torch.isfinite(ours := F.multiclass_auc_loss(p, y2, surrogate=surrogate, mode=transform, margin=0.8))
        and ours > 0
    )


@pytest.mark.parametrize("surrogate", SURROGATES)
@pytest.mark.parametrize("mode", MODES)
def test_one_class_or_all_ignored_is_zero(device, surrogate, mode):
    s = torch.randn(20, 4, dtype=torch.float64, device=device, requires_grad=True)
    for y in (torch.full((20,), 2, device=device), torch.full((20,), 7, device=device)):
        loss = F.multiclass_auc_loss(s, y, surrogate=surrogate, mode=mode, ignore_index=7)
        loss.backward()
        assert loss.item() == 0.0
        assert torch.equal(s.grad, torch.zeros_like(s))
        s.grad = None


@pytest.mark.parametrize("surrogate", SURROGATES)
def test_nan_scores_give_nan(device, surrogate):
    s, y = make_mc(30, 3, device=device)
    s[4, y[4]] = float("nan")
    assert torch.isnan(F.multiclass_auc_loss(s, y, surrogate=surrogate))


def test_exp_does_not_overflow(device):
    # scores near 800: exp(800) overflows float64, the loss (which depends on differences) does not
    s, y = make_mc(40, 3, seed=1, device=device)
    big = s + 800.0
    ours = value_and_grad(F.multiclass_auc_loss, big, y, surrogate="exp")
    ref = value_and_grad(R.multiclass_auc_loss_pairs, s, y, "exp")
    assert_same(ours, ref, rtol=1e-8, atol=1e-10)


@pytest.mark.parametrize("surrogate", SURROGATES)
@pytest.mark.parametrize("dtype", [torch.float32, torch.float16, torch.bfloat16])
def test_low_precision_logits(device, surrogate, dtype):
    x, y = make_pix(2, 4, 8, 8, absent=(2,), device=device)
    x = x.to(dtype)
    ref = value_and_grad(
        R.multiclass_auc_loss_pairs, x.double(), y, surrogate, "ovo", 1.0, ignore_index=255, activation="sigmoid"
    )
    loss, grad = value_and_grad(F.pixel_auc_loss, x, y, surrogate=surrogate, ignore_index=255)
    assert loss.dtype == dtype and grad.dtype == dtype
    tol = {torch.float32: 1e-5, torch.float16: 2e-3, torch.bfloat16: 1e-2}[dtype]
    torch.testing.assert_close(loss.double(), ref[0], rtol=tol, atol=tol)
    torch.testing.assert_close(grad.double(), ref[1], rtol=tol, atol=tol * 1e-2)


@pytest.mark.parametrize("surrogate", SURROGATES)
def test_non_contiguous_and_label_dtypes(device, surrogate):
    x, y = make_pix(2, 5, 6, 6, device=device)
    base = F.pixel_auc_loss(x, y, surrogate=surrogate, ignore_index=255)
    cl = x.contiguous(memory_format=torch.channels_last)
    assert not cl.is_contiguous()
    torch.testing.assert_close(F.pixel_auc_loss(cl, y, surrogate=surrogate, ignore_index=255), base)
    yy = torch.where(y == 255, 200, y)
    for labels in (yy.int(), yy.to(torch.uint8), yy.short()):
        torch.testing.assert_close(F.pixel_auc_loss(x, labels, ignore_index=200, surrogate=surrogate), base)
    s, t = make_mc(50, 4, device=device)
    ref = F.multiclass_auc_loss(s, t, surrogate=surrogate)
    torch.testing.assert_close(F.multiclass_auc_loss(s.t().contiguous().t(), t, surrogate=surrogate), ref)
    torch.testing.assert_close(F.multiclass_auc_loss(s, t.view(-1, 1), surrogate=surrogate), ref)


def test_multiclass_is_pixel_with_one_pixel(device):
    # the (N, C) loss is the pixel loss with H = W = 1 and no activation
    s, y = make_mc(40, 5, device=device)
    torch.testing.assert_close(
        F.multiclass_auc_loss(s, y, surrogate="square"),
        F.pixel_auc_loss(s[:, :, None, None], y[:, None, None], activation="none", ignore_index=255),
    )


def test_thread_count_does_not_change_bits():
    x, y = make_pix(3, 7, 40, 40, dtype=torch.float32)
    old = torch.get_num_threads()
    try:
        out = []
        for t in (1, 2):
            torch.set_num_threads(t)
            out.append(value_and_grad(F.pixel_auc_loss, x, y, surrogate="exp", ignore_index=255))
    finally:
        torch.set_num_threads(old)
    assert torch.equal(out[0][0], out[1][0]) and torch.equal(out[0][1], out[1][1])


@pytest.mark.parametrize("surrogate", SURROGATES)
@pytest.mark.parametrize("mode", MODES)
def test_gradcheck(device, surrogate, mode):
    s, y = make_mc(14, 4, device=device)
    s += 0.013 * torch.arange(56, dtype=s.dtype, device=device).view(14, 4)  # keep hinge kinks apart
    fn = lambda s_: F.multiclass_auc_loss(s_, y, surrogate=surrogate, mode=mode, margin=0.37)  # noqa: E731
    assert torch.autograd.gradcheck(fn, (s.requires_grad_(),))
    x, lab = make_pix(2, 3, 3, 4, device=device)
    fn = lambda x_: F.pixel_auc_loss(x_, lab, surrogate=surrogate, mode=mode, margin=0.9, ignore_index=255)  # noqa: E731
    assert torch.autograd.gradcheck(fn, (x.requires_grad_(),))


def test_torch_compile_fullgraph(device):
    x, y = make_pix(2, 4, 5, 5, dtype=torch.float32, device=device)
    loss_fn = torchauc.losses.AUCSegLoss(num_classes=4, loss_weight=2.0, ignore_index=255)
    compiled = torch.compile(lambda a, b: loss_fn(a, b) + 1, fullgraph=True, backend="aot_eager")
    x1 = x.clone().requires_grad_()
    out = compiled(x1, y)
    out.backward()
    x2 = x.clone().requires_grad_()
    ref = loss_fn(x2, y) + 1
    ref.backward()
    torch.testing.assert_close(out, ref)
    torch.testing.assert_close(x1.grad, x2.grad)


@settings(max_examples=40, deadline=None)
@given(
    n=st.integers(1, 50),
    c=st.integers(1, 6),
    seed=st.integers(0, 10_000),
    surrogate=st.sampled_from(SURROGATES),
    mode=st.sampled_from(MODES),
    normalization=st.sampled_from(NORMS),
    margin=st.floats(0.05, 2.0),
    n_absent=st.integers(0, 3),
    ties=st.booleans(),
)
def test_property_matches_pair_loop(n, c, seed, surrogate, mode, normalization, margin, n_absent, ties):
    s, y = make_mc(n, c, seed=seed, absent=tuple(range(min(n_absent, c - 1))))
    if ties:
        s = torch.round(s * 2) / 2
    y[::5] = -1  # ignored
    kw = dict(ignore_index=-1, normalization=normalization)
    ours = value_and_grad(F.multiclass_auc_loss, s, y, surrogate=surrogate, mode=mode, margin=margin, **kw)
    ref = value_and_grad(R.multiclass_auc_loss_pairs, s, y, surrogate, mode, margin, **kw)
    if surrogate == "hinge" and ties:  # at a kink the two sides disagree on the subgradient
        assert_same(ours[:1], ref[:1], rtol=1e-8, atol=1e-10)
    else:
        assert_same(ours, ref, rtol=1e-8, atol=1e-10)


@settings(max_examples=20, deadline=None)
@given(
    n=st.integers(2, 40),
    c=st.integers(2, 5),
    seed=st.integers(0, 10_000),
    surrogate=st.sampled_from(SURROGATES),
    shift=st.floats(-5, 5),
)
def test_property_column_shift_invariance(n, c, seed, surrogate, shift):
    # pairs compare scores within one column: shifting a column leaves the loss unchanged
    s, y = make_mc(n, c, seed=seed)
    shifted = s.clone()
    shifted[:, 0] += shift
    torch.testing.assert_close(
        F.multiclass_auc_loss(s, y, surrogate=surrogate),
        F.multiclass_auc_loss(shifted, y, surrogate=surrogate),
        rtol=1e-9,
        atol=1e-9,
    )


# ---------------------------------------------------------------- errors name the argument
def test_errors():
    s, y = make_mc(10, 3)
    x, lab = make_pix(1, 3, 4, 4)
    with pytest.raises(ValueError, match=r"labels must be class indices in \[0, 3\).*found 3 at flat index 2"):
        F.multiclass_auc_loss(s, torch.tensor([0, 1, 3, 0, 1, 2, 0, 1, 2, 0]))
    with pytest.raises(ValueError, match=r"or ignore_index \(255\); found -1"):
        F.pixel_auc_loss(x, torch.where(lab == 255, -1, lab), ignore_index=255)
    with pytest.raises(ValueError, match="upsample"):
        F.pixel_auc_loss(x, lab[:, :2, :2], ignore_index=255)
    with pytest.raises(ValueError, match="labels must be an integer tensor"):
        F.multiclass_auc_loss(s, y.float())
    with pytest.raises(ValueError, match=r"labels must have shape \(N,\)"):
        F.multiclass_auc_loss(s, y[:4])
    with pytest.raises(ValueError, match="surrogate"):
        F.multiclass_auc_loss(s, y, surrogate="squared_hinge")
    with pytest.raises(ValueError, match="mode"):
        F.multiclass_auc_loss(s, y, mode="ovr")
    with pytest.raises(ValueError, match="normalization"):
        F.multiclass_auc_loss(s, y, normalization="all")
    with pytest.raises(ValueError, match="activation"):
        F.pixel_auc_loss(x, lab, activation="softmax", ignore_index=255)
    with pytest.raises(ValueError, match="margin"):
        F.multiclass_auc_loss(s, y, margin=float("nan"))
    with pytest.raises(TypeError, match="ignore_index"):
        F.multiclass_auc_loss(s, y, ignore_index=1.5)
    with pytest.raises(ValueError, match=r"scores must have shape \(N, C\)"):
        F.multiclass_auc_loss(x, lab)
    with pytest.raises(ValueError, match=r"logits must have shape \(B, C, H, W\)"):
        F.pixel_auc_loss(s, y, ignore_index=255)
    with pytest.raises(ValueError, match="scores must be a floating point"):
        torch.ops.torchauc.multiclass_auc_loss(y.view(-1, 1), y, None, "none", "square", "ovo", 1.0, "present", False)
    with pytest.raises(ValueError, match="surrogate"):
        torchauc.losses.MultiClassAUCLoss(3, surrogate="bad")


from torchauc.reference.multiclass import _surrogate  # noqa: E402


def _per_class_pairs(s, y, surrogate, mode, margin):
    """Pair sum per class (one (N_i, N - N_i) pair block per class; "present" normalization)."""
    C = s.shape[1]
    counts = torch.bincount(y, minlength=C).double()
    present = (counts > 0).nonzero().flatten().tolist()
    total = s.sum() * 0
    for i in present:
        pos = y == i
        x, z, yz = s[pos, i], s[~pos, i], y[~pos]
        w = (
            1.0 / (counts[i] * counts[yz])
            if mode == "ovo"
            else (1.0 / (counts[i] * (len(y) - counts[i]))).expand(len(yz))
        )
        total = total + (w[None, :] * _surrogate(surrogate, margin, x[:, None] - z[None, :])).sum()
    cb = len(present)
    return total / (cb * (cb - 1) if mode == "ovo" else cb)


@pytest.mark.parametrize("surrogate", SURROGATES)
@pytest.mark.parametrize("mode", MODES)
def test_rows_across_chunks_and_column_blocks(device, surrogate, mode):
    # N > 4096 (several sample chunks) and C > 256 (several column blocks, lengths not a multiple of 8)
    s, y = make_mc(4103, 261, seed=3, absent=(5, 260), device=device)
    ours = value_and_grad(F.multiclass_auc_loss, s, y, surrogate=surrogate, mode=mode, margin=0.8)
    ref = value_and_grad(_per_class_pairs, s, y, surrogate, mode, 0.8)
    assert_same(ours, ref, rtol=1e-8, atol=1e-13)


@pytest.mark.parametrize("surrogate", SURROGATES)
@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("dtype", [torch.float64, torch.float32])
def test_pixels_across_chunks_and_tiles(device, surrogate, mode, dtype):
    # B * H * W > 4096 with chunk and tile edges inside images (H * W = 4355, not a multiple of 8)
    x, y = make_pix(2, 5, 67, 65, seed=4, absent=(3,), device=device)
    x = x.to(dtype)
    ours = value_and_grad(F.pixel_auc_loss, x, y, surrogate=surrogate, mode=mode, margin=0.9, ignore_index=255)
    keep = y.reshape(-1) != 255

    def ref_fn(logits):
        v = torch.sigmoid(logits).movedim(1, -1).reshape(-1, 5)
        return _per_class_pairs(v[keep], y.reshape(-1)[keep], surrogate, mode, 0.9)

    ref = value_and_grad(ref_fn, x.double())
    tol = 1e-9 if dtype == torch.float64 else 1e-5
    assert_same(ours, ref, rtol=tol, atol=tol * 1e-3)


def test_backward_hands_over_the_gradient_buffer():
    # loss.backward() with an incoming gradient of 1 gives the op's buffer to .grad (no N x C copy);
    # a retained graph still gets a fresh, correct gradient on a second backward
    x, y = make_pix(2, 4, 8, 8)
    x.requires_grad_()
    loss = F.pixel_auc_loss(x, y, ignore_index=255)
    loss.backward(retain_graph=True)
    g1 = x.grad.clone()
    x.grad = None
    (loss * 3).backward(retain_graph=True)
    torch.testing.assert_close(x.grad, 3 * g1)
    x.grad = None
    loss.backward()
    torch.testing.assert_close(x.grad, g1)
