"""Binary pairwise AUC loss vs the float64 pair-matrix reference, on every device."""

import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

import torchauc
from torchauc import functional as F
from torchauc.reference import pairwise as R

SURROGATES = ["square", "exp", "hinge", "squared_hinge", "logistic", "sigmoid"]


def make_batch(n, pos_frac=0.3, seed=0, scale=1.0, ties=False, dtype=torch.float64, device="cpu"):
    g = torch.Generator().manual_seed(seed)
    s = torch.randn(n, generator=g, dtype=torch.float64) * scale
    if ties:
        s = torch.round(s * 2) / 2
    y = (torch.rand(n, generator=g) < pos_frac).long()
    y[0], y[-1] = 1, 0  # both classes present
    return s.to(dtype).to(device), y.to(device)


def both(scores, labels, surrogate, margin, a=None, b=None, reduction="mean"):
    """(ours, reference) values and gradients for scores and weights."""
    out = []
    for fn in (F.pairwise_auc_loss, R.pairwise_auc_loss):
        s = scores.detach().clone().requires_grad_()
        aa = a.detach().clone().requires_grad_() if a is not None else None
        bb = b.detach().clone().requires_grad_() if b is not None else None
        loss = fn(s, labels, surrogate=surrogate, margin=margin, pos_weights=aa, neg_weights=bb, reduction=reduction)
        loss.backward()
        out.append((loss.detach(), s.grad, aa.grad if aa is not None else None, bb.grad if bb is not None else None))
    return out


def assert_close_all(ours, ref, rtol=1e-9, atol=1e-12):
    for o, r in zip(ours, ref):
        if r is None:
            assert o is None
        else:
            torch.testing.assert_close(o.cpu().double(), r.cpu().double(), rtol=rtol, atol=atol)


@pytest.mark.parametrize("surrogate", SURROGATES)
@pytest.mark.parametrize("reduction", ["mean", "sum"])
@pytest.mark.parametrize("weighted", [False, True])
def test_matches_reference_float64(device, surrogate, reduction, weighted):
    s, y = make_batch(97, device=device)
    a = b = None
    if weighted:
        g = torch.Generator().manual_seed(1)
        a = torch.rand(97, generator=g, dtype=torch.float64).to(device)
        b = torch.rand(97, generator=g, dtype=torch.float64).to(device)
    ours, ref = both(s, y, surrogate, 0.7, a, b, reduction)
    assert_close_all(ours, ref)


@pytest.mark.parametrize("surrogate", SURROGATES)
@pytest.mark.parametrize("kind", ["ties", "extreme", "single_positive", "single_negative"])
def test_hard_batches(device, surrogate, kind):
    if kind == "ties":
        s, y = make_batch(120, ties=True, device=device)
    elif kind == "extreme":
        s, y = make_batch(80, scale=1e4, device=device)
    else:
        s, y = make_batch(50, device=device)
        y = torch.zeros_like(y) if kind == "single_positive" else torch.ones_like(y)
        y[3] = 1 if kind == "single_positive" else 0
    margin = 1.0 if kind != "extreme" else 1e-3  # exp at |s| ~ 1e4 needs a small scale to stay finite
    ours, ref = both(s, y, surrogate, margin)
    assert torch.isfinite(ours[0]).all()
    assert_close_all(ours, ref, rtol=1e-8, atol=1e-9)


@pytest.mark.parametrize("surrogate", SURROGATES)
@pytest.mark.parametrize("only", [0, 1])
def test_one_class_batch_is_zero_with_zero_grad(device, surrogate, only):
    s = torch.randn(20, dtype=torch.float64, device=device, requires_grad=True)
    y = torch.full((20,), only, device=device)
    loss = F.pairwise_auc_loss(s, y, surrogate=surrogate)
    loss.backward()
    assert loss.item() == 0.0
    assert torch.equal(s.grad, torch.zeros_like(s))


@pytest.mark.parametrize("surrogate", SURROGATES)
def test_nan_scores_give_nan(device, surrogate):
    s, y = make_batch(30, device=device)
    s[5] = float("nan")
    s.requires_grad_()
    loss = F.pairwise_auc_loss(s, y, surrogate=surrogate)
    loss.backward()
    assert torch.isnan(loss)
    assert torch.isnan(s.grad).all()


@pytest.mark.parametrize("surrogate", SURROGATES)
def test_logistic_and_exp_do_not_overflow(device, surrogate):
    # LibAUC's logistic returns inf at t = -100; the stable forms stay finite.
    s = torch.tensor([-100.0, 0.0, 50.0, 100.0], dtype=torch.float32, device=device)
    y = torch.tensor([1, 0, 1, 0], device=device)
    m = 1.0 if surrogate != "exp" else 0.1  # exp(0.5 * 200) overflows float32 by definition
    loss = F.pairwise_auc_loss(s, y, surrogate=surrogate, margin=m)
    ref = R.pairwise_auc_loss(s.double(), y, surrogate, m)
    torch.testing.assert_close(loss.double().cpu(), ref.cpu(), rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("surrogate", SURROGATES)
@pytest.mark.parametrize("dtype", [torch.float32, torch.float16, torch.bfloat16])
def test_low_precision_inputs(device, surrogate, dtype):
    s, y = make_batch(300, device=device)
    s = s.to(dtype)
    sr = s.double().requires_grad_()
    ref = R.pairwise_auc_loss(sr, y, surrogate, 1.0)
    ref.backward()
    s.requires_grad_()
    loss = F.pairwise_auc_loss(s, y, surrogate=surrogate, margin=1.0)
    loss.backward()
    assert loss.dtype == dtype and s.grad.dtype == dtype
    tol = {torch.float32: 1e-5, torch.float16: 2e-3, torch.bfloat16: 1e-2}[dtype]
    torch.testing.assert_close(loss.double(), ref.detach(), rtol=tol, atol=tol)
    torch.testing.assert_close(s.grad.double(), sr.grad, rtol=tol, atol=tol * 1e-2)


@pytest.mark.parametrize("surrogate", SURROGATES)
def test_label_dtypes_shapes_and_strides(device, surrogate):
    s, y = make_batch(64, device=device)
    base = F.pairwise_auc_loss(s, y, surrogate=surrogate)
    for labels in (y.bool(), y.int(), y.float(), y.to(torch.uint8), y.view(-1, 1)):
        torch.testing.assert_close(F.pairwise_auc_loss(s, labels, surrogate=surrogate), base)
    torch.testing.assert_close(F.pairwise_auc_loss(s.view(-1, 1), y, surrogate=surrogate), base)
    wide = torch.zeros(64, 3, dtype=s.dtype, device=device)
    wide[:, 1] = s
    strided = wide[:, 1]  # non-contiguous view
    assert not strided.is_contiguous()
    torch.testing.assert_close(F.pairwise_auc_loss(strided, y, surrogate=surrogate), base)


@pytest.mark.parametrize("surrogate", SURROGATES)
def test_gradcheck(device, surrogate):
    s, y = make_batch(24, device=device)
    s += 0.01 * torch.arange(24, dtype=s.dtype, device=device)  # keep hinge kinks away from pairs
    a = torch.rand(24, dtype=torch.float64, device=device) + 0.5
    b = torch.rand(24, dtype=torch.float64, device=device) + 0.5
    fn = lambda s_, a_, b_: F.pairwise_auc_loss(s_, y, surrogate=surrogate, margin=0.37, pos_weights=a_, neg_weights=b_)  # noqa: E731
    assert torch.autograd.gradcheck(fn, (s.requires_grad_(), a.requires_grad_(), b.requires_grad_()))


def test_torch_compile_fullgraph(device):
    s, y = make_batch(50, dtype=torch.float32, device=device)
    loss_fn = torchauc.losses.AUCLoss("squared_hinge")
    compiled = torch.compile(lambda s_, y_: loss_fn(s_, y_) * 2, fullgraph=True, backend="aot_eager")
    s1 = s.clone().requires_grad_()
    out = compiled(s1, y)
    out.backward()
    s2 = s.clone().requires_grad_()
    ref = loss_fn(s2, y) * 2
    ref.backward()
    torch.testing.assert_close(out, ref)
    torch.testing.assert_close(s1.grad, s2.grad)


def test_module_matches_functional(device):
    s, y = make_batch(33, device=device)
    m = torchauc.losses.AUCLoss("logistic", margin=2.0, reduction="sum")
    torch.testing.assert_close(m(s, y), F.pairwise_auc_loss(s, y, surrogate="logistic", margin=2.0, reduction="sum"))
    assert "logistic" in repr(m)


@settings(max_examples=40, deadline=None)
@given(
    n=st.integers(2, 60),
    pos_frac=st.floats(0.05, 0.95),
    seed=st.integers(0, 10_000),
    surrogate=st.sampled_from(SURROGATES),
    margin=st.floats(0.05, 3.0),
    ties=st.booleans(),
)
def test_property_matches_reference(n, pos_frac, seed, surrogate, margin, ties):
    s, y = make_batch(n, pos_frac, seed, ties=ties)
    ours, ref = both(s, y, surrogate, margin)
    assert_close_all(ours, ref, rtol=1e-8, atol=1e-10)


@settings(max_examples=25, deadline=None)
@given(n=st.integers(2, 40), seed=st.integers(0, 10_000), surrogate=st.sampled_from(SURROGATES))
def test_property_shift_invariance(n, seed, surrogate):
    # the loss depends on score differences only
    s, y = make_batch(n, seed=seed)
    a = F.pairwise_auc_loss(s, y, surrogate=surrogate)
    b = F.pairwise_auc_loss(s + 3.25, y, surrogate=surrogate)
    torch.testing.assert_close(a, b, rtol=1e-9, atol=1e-9)


def test_matches_closed_form_baseline():
    s, y = make_batch(500)
    for sur in ["square", "exp", "hinge", "squared_hinge"]:
        torch.testing.assert_close(F.pairwise_auc_loss(s, y, surrogate=sur), R.pairwise_auc_loss_closed_form(s, y, sur))


# ---------------------------------------------------------------- errors name the argument
def test_errors():
    s, y = make_batch(10)
    with pytest.raises(ValueError, match="surrogate"):
        F.pairwise_auc_loss(s, y, surrogate="cubic")
    with pytest.raises(ValueError, match="reduction"):
        F.pairwise_auc_loss(s, y, reduction="none")
    with pytest.raises(ValueError, match="margin"):
        F.pairwise_auc_loss(s, y, margin=float("inf"))
    with pytest.raises(TypeError, match="scores"):
        F.pairwise_auc_loss(s.tolist(), y)
    with pytest.raises(ValueError, match="labels must contain only 0 and 1.*2"):
        F.pairwise_auc_loss(s, torch.full((10,), 2))
    with pytest.raises(ValueError, match="labels must contain only 0 and 1"):
        F.pairwise_auc_loss(s, torch.full((10,), 0.5))
    with pytest.raises(RuntimeError, match="labels must have as many elements"):
        F.pairwise_auc_loss(s, y[:5])
    with pytest.raises(RuntimeError, match=r"scores must have shape \(n,\) or \(n, 1\)"):
        F.pairwise_auc_loss(s.view(2, 5), y)
    with pytest.raises(RuntimeError, match="scores must be a floating point"):
        F.pairwise_auc_loss(y, y)
    with pytest.raises(RuntimeError, match="pos_weights must have shape"):
        F.pairwise_auc_loss(s, y, pos_weights=torch.ones(3, dtype=s.dtype))
    with pytest.raises(ValueError, match="surrogate"):
        torchauc.losses.AUCLoss("bad")


def test_every_op_is_listed_and_has_a_cpu_kernel():
    names = torchauc.op_names()
    assert "pairwise_auc_loss" in names
    for n in names:
        assert torch._C._dispatch_has_kernel_for_dispatch_key(f"torchauc::{n}", "CPU"), n
