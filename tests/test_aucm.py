"""The fused AUC-M op (torch.ops.torchauc.aucm_loss / aucm_moments, the kernel of LibAUC's AUCMLoss,
CompositionalAUCLoss and MultiLabelAUCMLoss drop-ins): values and gradients against the float64
per-label formulas of torchauc.reference.libauc (autograd through them), gradcheck, the moments of
a larger batch, dtypes, labels that are neither 0 nor 1, NaN, bad input.

Error bound: the op sums the moments and runs the epilogue in float64; sum_P (h - a)^2 is expanded
as S2 - 2 a S1 + a^2 n+, so the loss's absolute error is about n eps (1 + max|h| + |a| + |b|)^2 (the
scale of the terms, not of their difference), checked by the hypothesis test with extreme scores."""

import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from torchauc.compat.libauc_aucm import aucm_loss, label_moments
from torchauc.reference import libauc as R

OPS = torch.ops.torchauc


def _batch(g, n, c, device="cpu", ties=True, rate=0.3):
    s = torch.rand(n, c, generator=g, dtype=torch.float64)
    if ties:
        s = torch.where(torch.rand(n, c, generator=g) < 0.5, (s * 4).floor() / 4, s)
    y = (torch.rand(n, c, generator=g) < rate).long()
    return s.to(device), y.to(device)


def _params(g, c, device="cpu", dtype=torch.float64):
    return [torch.rand(c, generator=g, dtype=torch.float64).to(dtype).to(device).requires_grad_() for _ in range(3)]


def _reference(s, y, a, b, alpha, margin, version, prior=None, weights=None):
    """sum_c w_c loss_c in float64 from the brute-force per-label formulas (differentiable)."""
    a, b, alpha = (t.double().cpu() for t in (a, b, alpha))
    per_label = R.aucm(s.double().cpu(), y.cpu(), a, b, alpha, margin, version, p=prior)
    w = torch.full_like(per_label, 1 / per_label.numel()) if weights is None else weights.double().cpu()
    return (per_label * w).sum()


def _grads(loss, inputs):  # an input the reference drops (a one-class label's a or b) has gradient 0
    return torch.autograd.grad(loss, inputs, allow_unused=True, materialize_grads=True)


@pytest.mark.parametrize("version, prior", [("v1", False), ("v1", True), ("v2", False)])  # v2 has no prior
@pytest.mark.parametrize("weighted", [False, True])
def test_loss_and_gradients_match_the_float64_formulas(version, prior, weighted, device):
    g = torch.Generator().manual_seed(0)
    s, y = _batch(g, 40, 5, device)
    y[:, 3], y[:, 4] = 1, 0  # a label without negatives, one without positives
    a, b, alpha = _params(g, 5, device)
    p = torch.rand(5, generator=g, dtype=torch.float64).to(device) if prior else None
    w = torch.rand(5, generator=g, dtype=torch.float64).to(device) if weighted else None
    s.requires_grad_()
    loss = aucm_loss(s, y, a, b, alpha, 0.7, version, prior=p, weights=w)
    want = _reference(s, y, a, b, alpha, 0.7, version, None if p is None else p.cpu(), w)
    torch.testing.assert_close(loss.cpu(), want, rtol=1e-12, atol=1e-12)
    for got, expect in zip(_grads(loss, [s, a, b, alpha]), _grads(want, [s, a, b, alpha])):
        torch.testing.assert_close(got.cpu(), expect.cpu(), rtol=1e-10, atol=1e-12)


@pytest.mark.parametrize("version", ["v1", "v2"])
def test_gradcheck(version):
    g = torch.Generator().manual_seed(3)
    s, y = _batch(g, 9, 3, ties=False, rate=0.4)
    y[:, 2] = 1
    a, b, alpha = _params(g, 3)
    w = torch.tensor([0.5, 0.0, 0.25], dtype=torch.float64)
    p = torch.tensor([0.2, 0.5, 0.9], dtype=torch.float64) if version == "v1" else None
    s.requires_grad_()
    assert torch.autograd.gradcheck(lambda *t: aucm_loss(t[0], y, *t[1:], 0.7, version, p, w), (s, a, b, alpha))


def test_moments_of_a_larger_batch(device):
    """Rank parts of a batch with the summed moments: the full batch's loss on each part, each
    part's rows get the full batch's gradient (an empty part included)."""
    g = torch.Generator().manual_seed(4)
    s, y = _batch(g, 30, 4, device)
    a, b, alpha = _params(g, 4, device)
    pos, neg = (y == 1).double(), (y == 0).double()
    want_m = torch.cat([torch.stack([pos.sum(0), neg.sum(0), (s * pos).sum(0), (s * neg).sum(0),
                                     (s * s * pos).sum(0), (s * s * neg).sum(0)]).reshape(-1),
                        s.new_tensor([30.0])])  # fmt: skip
    torch.testing.assert_close(label_moments(s, y), want_m, rtol=1e-14, atol=1e-14)
    parts = [(s[:12], y[:12]), (s[12:12], y[12:12]), (s[12:], y[12:])]
    m = sum(label_moments(sp, yp) for sp, yp in parts)
    torch.testing.assert_close(m, want_m, rtol=1e-14, atol=1e-14)
    for version in ("v1", "v2"):
        full = s.clone().requires_grad_()
        loss = aucm_loss(full, y, a, b, alpha, 1.0, version)
        want = _grads(loss, [full, a, b, alpha])
        grads = []
        for sp, yp in parts:
            sp = sp.clone().requires_grad_()
            part_loss = aucm_loss(sp, yp, a, b, alpha, 1.0, version, moments=m)
            torch.testing.assert_close(part_loss, loss, rtol=1e-13, atol=1e-14)
            grads.append(_grads(part_loss, [sp, a, b, alpha]))
        torch.testing.assert_close(torch.cat([gr[0] for gr in grads]), want[0], rtol=1e-12, atol=1e-14)
        for k in (1, 2, 3):
            torch.testing.assert_close(grads[0][k], want[k], rtol=1e-12, atol=1e-14)


@pytest.mark.parametrize("dtype", [torch.float16, torch.bfloat16, torch.float32])
def test_low_precision_scores_strided_and_label_dtypes(dtype, device):
    g = torch.Generator().manual_seed(5)
    s64, y = _batch(g, 64, 6, device)
    s = s64.to(dtype).t().contiguous().t()[:, ::2]  # a strided view
    y = y[:, ::2]
    a, b, alpha = _params(g, 3, device, torch.float32)
    want_loss = None
    for labels in (y, y.bool(), y.to(torch.uint8), y.float(), y.to(dtype), y.double()):
        leaf = s.detach().clone().requires_grad_()
        loss = aucm_loss(leaf, labels, a, b, alpha, 1.0, "v1")
        assert loss.dtype == torch.float32
        (gs,) = _grads(loss, [leaf])
        assert gs.dtype == dtype
        if want_loss is None:
            want_loss, want_grad = loss, gs
        torch.testing.assert_close(loss, want_loss, rtol=0, atol=0)
        torch.testing.assert_close(gs, want_grad, rtol=0, atol=0)
    exact = s.double().requires_grad_()
    ref = _reference(exact, y, a, b, alpha, 1.0, "v1")
    torch.testing.assert_close(want_loss.double().cpu(), ref, rtol=1e-6, atol=1e-7)  # float32 rounding only
    tol = {torch.float16: 1e-3, torch.bfloat16: 8e-3, torch.float32: 1e-6}[dtype]
    (ref_grad,) = _grads(ref, [exact])
    torch.testing.assert_close(want_grad.double().cpu(), ref_grad.cpu(), rtol=tol, atol=tol * 1e-2)


def test_labels_neither_0_nor_1_are_on_neither_side():
    """LibAUC's masks (y == 1, y == 0): another value counts in B (v1) but on no side; in v2 the
    loss is that of the batch without it, and its score gets no gradient."""
    g = torch.Generator().manual_seed(6)
    s, y = _batch(g, 20, 1)
    y[0], y[1] = 1, 0
    a, b, alpha = _params(g, 1)
    y2 = y.clone()
    y2[5] = 2
    keep = torch.arange(20) != 5
    leaf = s.clone().requires_grad_()
    loss = aucm_loss(leaf, y2, a, b, alpha, 1.0, "v2")
    torch.testing.assert_close(loss, aucm_loss(s[keep], y[keep], a, b, alpha, 1.0, "v2"), rtol=1e-14, atol=1e-15)
    assert _grads(loss, [leaf])[0][5, 0] == 0


def test_nan_score_gives_nan_loss():
    g = torch.Generator().manual_seed(7)
    s, y = _batch(g, 10, 2)
    a, b, alpha = _params(g, 2)
    y[3, 1] = 5  # on neither side: still NaN (the moments multiply the indicators in)
    for i in (0, 3):
        t = s.clone()
        t[i, 1] = float("nan")
        for version in ("v1", "v2"):
            assert torch.isnan(aucm_loss(t, y, a, b, alpha, 1.0, version))


def test_bad_input_names_the_argument():
    s, y = torch.rand(8, 2), torch.randint(0, 2, (8, 2))
    a = torch.zeros(2)
    cases = [
        ((s[:, 0], y[:, 0], a[:1], a[:1], a[:1]), {}, "scores must have shape"),
        ((s, y[:, :1], a, a, a), {}, "labels must have the shape"),
        ((s, y, torch.zeros(3), a, a), {}, "a must have one entry per label"),
        ((s, y, a, a, torch.zeros(2, dtype=torch.long)), {}, "alpha must be a floating point"),
        ((s, y, a, a, a), dict(version="v3"), "version must be 'v1' or 'v2'"),
        ((s, y, a, a, a), dict(version="v2", prior=a), "prior must be None"),
        ((s, y, a, a, a), dict(weights=torch.zeros(1)), "weights must have one entry per label"),
        ((s, y, a, a, a), dict(moments=torch.zeros(12)), "moments must have shape"),
        ((s[:0], y[:0], a, a, a), {}, "scores must not be empty"),
        ((s.long(), y, a, a, a), {}, "scores must be a floating point"),
    ]
    for args, kw, msg in cases:
        kw = dict(dict(margin=1.0, version="v1", prior=None, weights=None, moments=None), **kw)
        with pytest.raises((ValueError, RuntimeError), match=msg):
            OPS.aucm_loss(*args, kw["prior"], kw["weights"], kw["moments"], kw["margin"], kw["version"], False)
    with pytest.raises(ValueError, match="margin must be finite"):
        OPS.aucm_loss(s, y, a, a, a, None, None, None, float("inf"), "v1", False)


@settings(max_examples=60, deadline=None)
@given(
    n=st.integers(1, 30),
    c=st.integers(1, 4),
    scale=st.sampled_from([1.0, 1e3, 1e-3]),
    rate=st.sampled_from([0.0, 0.3, 1.0]),
    version=st.sampled_from(["v1", "v2"]),
    seed=st.integers(0, 2**31 - 1),
)
def test_hypothesis_ties_extremes_one_class(n, c, scale, rate, version, seed):
    g = torch.Generator().manual_seed(seed)
    s, y = _batch(g, n, c, rate=rate)
    s = (s * 2 - 1) * scale
    a, b, alpha = _params(g, c)
    leaf = s.clone().requires_grad_()
    loss = aucm_loss(leaf, y, a, b, alpha, 1.0, version)
    want = _reference(leaf, y, a, b, alpha, 1.0, version)
    m = 1 + scale + 3  # max |h| + |a| + |b| + |alpha| + margin, the scale of the loss's terms
    torch.testing.assert_close(loss, want, rtol=0, atol=64 * n * 2.3e-16 * m * m)
    for got, expect in zip(_grads(loss, [leaf, a, b, alpha]), _grads(want, [leaf, a, b, alpha])):
        torch.testing.assert_close(got, expect, rtol=0, atol=64 * n * 2.3e-16 * m * m)
