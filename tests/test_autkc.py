"""AUTKC family: the per-row top-k selection op against a brute-force sort, the top-k losses against
float64 full-sort references (values and gradients), the metrics against row loops, properties with
hypothesis (ties, extreme scores, tiny C), errors. XCurve equality is in test_xcurve_compat.py."""

import pytest
import torch
from cpu_isa_common import run_with_isa
from hypothesis import given, settings
from hypothesis import strategies as st

import torchauc
from torchauc import autkc as A
from torchauc.reference import autkc as R

OPS = torch.ops.torchauc


def logits(B, C, seed=0, ties=True, dtype=torch.float64, device="cpu"):
    g = torch.Generator().manual_seed(seed)
    x = torch.randn(B, C, generator=g, dtype=torch.float64)
    if ties:
        grid = torch.randint(-3, 4, (B, C), generator=g).double() / 2
        x = torch.where(torch.rand(B, C, generator=g) < 0.5, grid, x)
    y = torch.randint(0, C, (B,), generator=g)
    return x.to(device=device, dtype=dtype), y.to(device)


# ---------------------------------------------------------------- the selection op
@pytest.mark.parametrize("dtype", [torch.float64, torch.float32, torch.float16, torch.bfloat16])
@pytest.mark.parametrize("k,margin,inc", [(1, 0.0, False), (3, 0.0, False), (4, 1.0, True), (6, 0.0, True)])
def test_topk_matches_brute_force(device, dtype, k, margin, inc):
    x, y = logits(40, 7, seed=k, dtype=dtype, device=device)
    got = OPS.autkc_topk(x, y, k, margin, inc).cpu()
    want = R.topk_columns(x.cpu().double(), y.cpu(), k, margin, inc)
    assert torch.equal(got, want)


def test_topk_nan_ranks_first_and_noncontiguous(device):
    x, y = logits(30, 9, seed=3, device=device)
    x[0, 4] = float("nan")
    x[1, 2] = float("inf")
    x[2, 1] = -float("inf")
    xt = x.t().contiguous().t()  # same values, column-major strides
    assert not xt.is_contiguous()
    got = OPS.autkc_topk(xt, y, 4, 0.0, False).cpu()
    assert torch.equal(got, R.topk_columns(x.cpu(), y.cpu(), 4, 0.0, False))
    if y[0] != 4:
        assert got[0, 0] == 4


def test_topk_edge_sizes(device):
    x, y = logits(5, 3, device=device)
    assert OPS.autkc_topk(x, y, 0, 0.0, False).shape == (5, 0)
    assert OPS.autkc_topk(x[:0], y[:0], 2, 0.0, False).shape == (0, 2)
    full = OPS.autkc_topk(x, y, 2, 0.0, False).cpu()
    assert (full != y.cpu()[:, None]).all()


def test_topk_errors(device):
    x, y = logits(4, 5, device=device)
    with pytest.raises(ValueError, match="k must be in"):
        OPS.autkc_topk(x, y, 5, 0.0, False)
    if device == "cpu":  # on CUDA a bad label is a device-side assert (no host sync), ending the context
        with pytest.raises(ValueError, match="labels"):
            OPS.autkc_topk(x, y + 5, 2, 0.0, False)
    with pytest.raises(ValueError, match="scores must have shape"):
        OPS.autkc_topk(x.reshape(-1), y, 2, 0.0, False)
    with pytest.raises(ValueError, match="labels must hold integer"):
        OPS.autkc_topk(x, y.double(), 2, 0.0, False)
    with pytest.raises(ValueError, match="labels must have shape"):
        OPS.autkc_topk(x, y[:3], 2, 0.0, False)


# ---------------------------------------------------------------- losses
@pytest.mark.parametrize("surrogate", ["square", "exp", "logistic", "hinge"])
@pytest.mark.parametrize("terms", ["k", "xcurve"])
def test_autkc_loss_matches_reference(device, surrogate, terms):
    x, y = logits(32, 10, seed=5, ties=False, device=device)
    x.requires_grad_()
    got = A.autkc_loss(x, y, k=3, surrogate=surrogate, terms=terms)
    xr = x.detach().clone().requires_grad_()
    want = R.autkc_loss(xr, y, 3, surrogate, terms)
    torch.testing.assert_close(got, want)
    got.backward()
    want.backward()
    torch.testing.assert_close(x.grad, xr.grad)


# ---------------------------------------------------------------- the fused loss op (autkc_loss_rows)
SURROGATE_FNS = {
    "square": lambda t: (1 - t) ** 2,
    "exp": lambda t: torch.exp(-t),
    "logistic": lambda t: torch.nn.functional.softplus(-t),
    "hinge": lambda t: torch.clamp_min(1 - t, 0),
}


def composite_ce_rows(x, y, k):
    """The former unfused top-k cross entropy: z = x - x_y with the label and the k - 1 best competitors
    (the selection op) at -inf, log(1 + sum e^z) as a logsumexp with a 0 column. The row's finite maximum
    is taken out first: torch.logsumexp's gradient is e^(z - result), and at |z| ~ 1e30 the result rounds
    to the maximum (log 2 of two tied maxima is lost), which would double their gradient."""
    y = y.reshape(-1, 1)
    z = x - x.gather(1, y)
    z = z.scatter(1, torch.cat([y, OPS.autkc_topk(x.detach(), y, k - 1, 0.0, False)], 1), float("-inf"))
    z = torch.cat([z.new_zeros((z.shape[0], 1)), z], 1)
    shift = z.detach().amax(1, keepdim=True)
    shift = torch.where(shift.isfinite(), shift, 0.0)  # +inf and NaN rows as the unshifted form
    return (shift + torch.logsumexp(z - shift, dim=1, keepdim=True)).squeeze(1)


def composite_rows(x, y, k, m, surrogate):
    """The unfused per-row loss in ATen ops (softmax, the selection op, gathers), autograd through
    them: the fused op must match it in values and gradients, ties (to the smaller column) included.
    Surrogate "ce": the top-k cross entropy, m = k - 1 competitors left out."""
    if surrogate == "ce":
        return composite_ce_rows(x, y, k)
    s = x if surrogate == "hinge" else torch.softmax(x, dim=1)
    idx = OPS.autkc_topk(s.detach(), y, m, 0.0, False)
    t = s.gather(1, y.reshape(-1, 1)) - s.gather(1, idx)
    return SURROGATE_FNS[surrogate](t).sum(1) / k


def fused_and_composite(x, y, k, m, surrogate):
    """(rows, grad) of the fused op on x and of the float64 composite, the gradient of sum(w * rows)
    for fixed random row weights w (so each row's scale reaches the op's backward)."""
    w = torch.rand(x.shape[0], generator=torch.Generator().manual_seed(1), dtype=torch.float64).to(x.device)
    xf = x.detach().clone().requires_grad_()
    rows = OPS.autkc_loss_rows(xf, y, k, m, surrogate, True)[0]
    (rows.double() * w).sum().backward()
    xr = x.detach().double().clone().requires_grad_()
    want = composite_rows(xr, y, k, m, surrogate)
    (want * w).sum().backward()
    return (rows.detach(), xf.grad), (want.detach(), xr.grad)


def assert_matches(got, want, tol):
    """Equal to the rounding of the terms t = s_y - s_c: differences of probabilities in [0, 1] (an absolute
    error of one rounding of s, so tiny losses and gradients of saturated rows are absolute-accurate, in
    the fused op and the composite alike) or of raw logits for hinge (relative to the largest value)."""
    for g, w in zip(got, want):
        scale = float(w.abs().nan_to_num(0.0, 0.0, 0.0).max()) if w.numel() else 0.0
        torch.testing.assert_close(g.double(), w, rtol=tol, atol=tol * max(scale, 1.0), equal_nan=True)


# float64: rounding only; float32: the softmax in float (as torch.softmax), the terms in double
FUSED_TOL = {torch.float64: 1e-12, torch.float32: 2e-5}


@pytest.mark.parametrize("dtype", [torch.float64, torch.float32])
@pytest.mark.parametrize("surrogate", ["square", "exp", "logistic", "hinge"])
def test_fused_rows_match_composite_with_ties_nan_and_inf(device, dtype, surrogate):
    x, y = logits(48, 9, seed=21, device=device)
    x[0, 3] = float("nan")  # a NaN row: NaN loss, NaN gradient (softmax), as the composite
    x[1, 2] = float("inf")
    x[2, :] = -float("inf")
    x[2, 4] = 0.5  # one finite logit among -inf
    x[3, 1] = -float("inf")
    for k, m in ((3, 3), (3, 4), (1, 8)):
        got, want = fused_and_composite(x.to(dtype), y, k, m, surrogate)
        assert_matches(got, want, FUSED_TOL[dtype])


@pytest.mark.parametrize("dtype", [torch.float64, torch.float32])
@pytest.mark.parametrize("surrogate", ["square", "hinge", "ce"])
@pytest.mark.parametrize("C", [37, 100, 1000])
def test_fused_rows_long_rows(device, dtype, surrogate, C):
    # rows long enough for the NaN-free selection's lane screen (math.h row_topk_no_nan), ties from the
    # grid; a NaN row takes the general selection
    x, y = logits(24, C, seed=C, device=device)
    x[5, 7] = float("nan")
    for k, m in ((5, 6), (1, 1), (12, 12)):
        m = k - 1 if surrogate == "ce" else m
        got, want = fused_and_composite(x.to(dtype), y, k, m, surrogate)
        assert_matches(got, want, FUSED_TOL[dtype])


@pytest.mark.parametrize("dtype", [torch.float64, torch.float32])
@pytest.mark.parametrize("surrogate", ["square", "hinge", "ce"])
def test_fused_rows_screen_edges(device, dtype, surrogate):
    # math.h row_topk_no_nan: rows whose r tied top competitors (spread over the 16 lanes or packed into a few)
    # make around kMaxCandidates = 32 candidates (ranked, or the scan beyond), k on both sides of
    # kScreenLanes = 16 (the scan above), short rows with empty lanes, -inf competitors
    for C in (20, 100):
        rows, labels = [], []
        for r in (1, 6, 16, 31, 32, 33, 40):
            for spread in (1, 16):
                x = torch.randn(C, generator=torch.Generator().manual_seed(r + C), dtype=torch.float64) - 5
                x[torch.arange(min(r, C - 2)) * spread % C] = 2.0
                x[C - 1] = -float("inf")
                rows.append(x)
                labels.append((3 * r + spread) % (C - 1))
        x = torch.stack(rows).to(device=device, dtype=dtype)
        y = torch.tensor(labels, device=device)
        for k in (5, 16, 17):
            m = k - 1 if surrogate == "ce" else k
            got, want = fused_and_composite(x, y, k, m, surrogate)
            assert_matches(got, want, FUSED_TOL[dtype])


@pytest.mark.parametrize("dtype", [torch.float64, torch.float32])
def test_fused_ce_rows_match_composite_with_nan_and_inf(device, dtype):
    # the former composite's values and NaN/inf pattern: NaN in a kept or the label column, +-inf labels
    # and competitors, an all -inf row, a NaN among the left-out competitors (NaN ranks first)
    x, y = logits(12, 6, seed=24, device=device)
    y[:8] = torch.arange(8, device=device) % 6
    x[0, 0] = float("inf")
    x[1, 3] = float("nan")
    x[2, 3] = float("inf")
    x[3, 3] = -float("inf")
    x[4, :] = -float("inf")
    x[5, 0] = -float("inf")
    x[6, 0] = float("nan")
    x[7, 2] = float("nan")
    x[7, 3] = float("inf")
    for k in (1, 2, 3, 6):
        got, want = fused_and_composite(x.to(dtype), y, k, k - 1, "ce")
        assert_matches(got, want, FUSED_TOL[dtype])


@pytest.mark.parametrize("dtype", [torch.float64, torch.float32])
@pytest.mark.parametrize("surrogate", ["square", "ce"])
def test_fused_rows_nan_and_inf_at_every_column(device, dtype, surrogate):
    # row_passes.h: the row max and its NaN flag run in vectors over whole blocks of lanes and a scalar tail;
    # a NaN or +inf in any column (every vector lane of the body and the tail, the label's included) must
    # reach the row's result as in the composite
    C = 37
    x, y = logits(2 * C, C, seed=26, device=device)
    for j in range(C):
        x[j, j] = float("nan")
        x[C + j, j] = float("inf")
    k = 3
    got, want = fused_and_composite(x.to(dtype), y, k, k - 1 if surrogate == "ce" else k, surrogate)
    assert_matches(got, want, FUSED_TOL[dtype])


@pytest.mark.parametrize("dtype", [torch.float64, torch.float32])
@pytest.mark.parametrize("surrogate", ["square", "hinge", "ce"])
@pytest.mark.parametrize("C", [23, 100])
def test_fused_rows_label_at_every_column(device, dtype, surrogate, C):
    # math.h screen_candidates: the host appends a vector's passing columns with the label's lane cleared; the
    # label at every column (each lane of the body's vectors and the tail), scoring above every competitor (it
    # would be selected were it not cleared) or tied with the top ones
    x, y = logits(2 * C, C, seed=27, device=device)
    y = torch.arange(2 * C, device=device) % C
    rows = torch.arange(2 * C, device=device)
    x[rows, y] = torch.where(rows < C, 10.0, 2.0).to(x.dtype)
    x[C:, ::5] = 2.0  # ties with the label in the second half
    for k in (1, 5):
        m = k - 1 if surrogate == "ce" else k
        got, want = fused_and_composite(x.to(dtype), y, k, m, surrogate)
        assert_matches(got, want, FUSED_TOL[dtype])


_ISA_SCRIPT = """
import sys
import torch
import torchauc
x, y, cases = torch.load(sys.argv[1])
out = []
for k, m, surrogate in cases:
    xf = x.clone().requires_grad_()
    rows = torch.ops.torchauc.autkc_loss_rows(xf, y, k, m, surrogate, True)[0]
    rows.sum().backward()
    out += [rows.detach(), xf.grad]
torch.save(out, sys.argv[2])
"""


def test_fused_rows_isa_clones_agree(tmp_path):
    """cpu_loss.cpp: the AVX2 + FMA build of the rows (AVX2 and AVX-512 CPUs) and the baseline
    (TORCHAUC_CPU_ISA=base) agree within float rounding: FMA contraction only (the same lanes, the
    same selection)."""
    cases = [(5, 4, "ce"), (5, 6, "square"), (5, 6, "hinge"), (3, 3, "logistic")]
    for C in (100, 1000):
        x, y = logits(64, C, seed=28)
        inputs = (x.float(), y, cases)
        best = run_with_isa(_ISA_SCRIPT, "best", inputs, tmp_path)
        base = run_with_isa(_ISA_SCRIPT, "base", inputs, tmp_path)
        assert len(best) == len(base) == 2 * len(cases)
        for a, b in zip(best, base):
            torch.testing.assert_close(a, b, rtol=2e-6, atol=2e-6 * (1 + float(b.abs().max())))


def test_ce_topk_float64_brute_force_gradient(device):
    x, y = logits(20, 9, seed=25, ties=False, device=device)
    for k in (1, 3, 9):
        xa, xb = x.clone().requires_grad_(), x.clone().requires_grad_()
        got, want = A.ce_topk_loss(xa, y, k=k), R.ce_topk_loss(xb, y, k)
        torch.testing.assert_close(got, want, rtol=1e-12, atol=1e-12)
        got.backward()
        want.backward()
        torch.testing.assert_close(xa.grad, xb.grad, rtol=1e-12, atol=1e-12)


def test_fused_rows_edges(device):
    x, y = logits(6, 2, seed=22, device=device)
    rows, grad = OPS.autkc_loss_rows(x, y, 1, 1, "square", False)
    assert rows.shape == (6,) and grad.shape == (0, 2)
    torch.testing.assert_close(rows, composite_rows(x, y, 1, 1, "square"))
    got, want = fused_and_composite(x, y, 1, 0, "exp")  # no terms (C = 1 under terms="xcurve"): loss 0, grad 0
    assert_matches(got, want, FUSED_TOL[x.dtype])
    assert not got[0].any() and not got[1].any()
    rows, grad = OPS.autkc_loss_rows(x[:0], y[:0], 1, 1, "exp", True)
    assert rows.shape == (0,) and grad.shape == (0, 2)
    with pytest.raises(ValueError, match="surrogate must be one of"):
        OPS.autkc_loss_rows(x, y, 1, 1, "Sq", True)
    with pytest.raises(ValueError, match="k must be in"):
        OPS.autkc_loss_rows(x, y, 1, 2, "square", True)
    with pytest.raises(ValueError, match="labels"):
        OPS.autkc_loss_rows(x, y + 2, 1, 1, "square", True)


# The reduced op (reduction "mean" / "sum", what the losses call): the rows summed in float64 and rounded
# once, each row's float64 gradient times 1 / B rounded once. Bound: the loss within one ulp of the exact
# mean (sum) of the "none" rows plus the float64 sum's B roundings, the gradient within two ulps of the
# rows' gradient / B (before: torch's float mean, (2 + log2 B) roundings, and MeanBackward's (1 / B) * g).
@pytest.mark.parametrize("dtype", [torch.float64, torch.float32, torch.float16, torch.bfloat16])
@pytest.mark.parametrize("surrogate", ["square", "hinge", "ce"])
@pytest.mark.parametrize("B", [1, 37, 300])
def test_fused_reduction_within_one_rounding_of_the_rows(device, dtype, surrogate, B):
    x, y = logits(B, 11, seed=B, dtype=dtype, device=device)
    k, m = (3, 2) if surrogate == "ce" else (3, 4)
    rows, grad = OPS.autkc_loss_rows(x, y, k, m, surrogate, True)
    fi = torch.finfo(dtype)
    loss_tol = dict(rtol=fi.eps + B * 2**-53, atol=0)
    grad_tol = dict(rtol=2 * fi.eps, atol=fi.tiny)  # below the normal range: subnormal steps
    for reduction, divide in (("mean", B), ("sum", 1)):
        loss, g = OPS.autkc_loss_rows(x, y, k, m, surrogate, True, reduction)
        assert loss.shape == () and loss.dtype == dtype and g.shape == grad.shape
        torch.testing.assert_close(loss.double(), rows.double().sum() / divide, **loss_tol)
        torch.testing.assert_close(g.double(), grad.double() / divide, **grad_tol)
        assert OPS.autkc_loss_rows(x, y, k, m, surrogate, False, reduction)[0].equal(loss)


@pytest.mark.parametrize("surrogate", ["logistic", "ce"])
def test_fused_reduction_backward_scales_by_the_incoming_gradient(device, surrogate):
    x, y = logits(23, 8, seed=5, device=device)
    k, m = (2, 1) if surrogate == "ce" else (2, 2)
    want = OPS.autkc_loss_rows(x, y, k, m, surrogate, True, "mean")[1]
    for scale in (1.0, -2.5):
        xr = x.clone().requires_grad_()
        (scale * OPS.autkc_loss_rows(xr, y, k, m, surrogate, True, "mean")[0]).backward()
        torch.testing.assert_close(xr.grad, scale * want, rtol=0, atol=0)
    # a kept graph: the saved gradient stays intact for a second backward
    xr = x.clone().requires_grad_()
    loss = OPS.autkc_loss_rows(xr, y, k, m, surrogate, True, "sum")[0]
    loss.backward(retain_graph=True)
    first = xr.grad.clone()
    loss.backward()
    torch.testing.assert_close(xr.grad, 2 * first, rtol=0, atol=0)
    # no rows: the mean is NaN (as Tensor.mean's), the sum 0
    assert OPS.autkc_loss_rows(x[:0], y[:0], k, m, surrogate, True, "mean")[0].isnan()
    assert OPS.autkc_loss_rows(x[:0], y[:0], k, m, surrogate, True, "sum")[0] == 0
    with pytest.raises(ValueError, match="reduction must be one of"):
        OPS.autkc_loss_rows(x, y, k, m, surrogate, True, "avg")


def test_losses_are_the_float64_mean_of_the_rows_rounded_once():
    x, y = logits(2048, 100, seed=29, dtype=torch.float32)
    for loss, (k, m, sur) in ((A.ce_topk_loss(x, y, k=5), (5, 4, "ce")),
                              (A.autkc_loss(x, y, k=5, terms="xcurve"), (5, 6, "square"))):  # fmt: skip
        rows = OPS.autkc_loss_rows(x, y, k, m, sur, False)[0]
        assert loss.item() == rows.double().mean().float().item()
        torch.testing.assert_close(loss, rows.mean(), rtol=(2 + 11) * 2**-24, atol=0)  # torch's float mean


@pytest.mark.parametrize("surrogate", ["square", "hinge"])
def test_fused_gradcheck_and_kept_graph(surrogate):
    x, y = logits(6, 5, seed=23, ties=False)
    assert torch.autograd.gradcheck(lambda t: A.autkc_loss(t, y, k=2, surrogate=surrogate, terms="xcurve"),
                                    (x.clone().requires_grad_(),))  # fmt: skip
    # a kept graph: the saved gradient stays intact for a second backward
    xr = x.clone().requires_grad_()
    loss = A.autkc_loss(xr, y, k=2, surrogate=surrogate)
    loss.backward(retain_graph=True)
    first = xr.grad.clone()
    loss.backward()
    torch.testing.assert_close(xr.grad, 2 * first)


@settings(max_examples=80, deadline=None)
@given(
    B=st.integers(1, 10),
    C=st.integers(2, 40),
    k=st.integers(1, 39),
    extra=st.booleans(),
    surrogate=st.sampled_from(["square", "exp", "logistic", "hinge", "ce"]),
    seed=st.integers(0, 10_000),
    scale=st.sampled_from([1.0, 1e-30, 40.0, 1e30]),
    dtype=st.sampled_from([torch.float64, torch.float32]),
)
def test_property_fused_rows(B, C, k, extra, surrogate, seed, scale, dtype):
    # ties from the grid, saturated softmax rows (40, 1e30), all-equal rows (1e-30)
    x, y = logits(B, C, seed=seed)
    k = min(k, C - 1)
    m = min(k + int(extra), C - 1)
    if surrogate == "ce":  # k in [1, C], m = k - 1 left out
        k = min(k + int(extra), C)
        m = k - 1
    got, want = fused_and_composite((x * scale).to(dtype), y, k, m, surrogate)
    assert_matches(got, want, FUSED_TOL[dtype])


def test_autkc_terms_xcurve_is_k_plus_one_over_k():
    x, y = logits(16, 8, seed=6, ties=False)
    a = A.autkc_loss(x, y, k=2, surrogate="square", terms="k")
    b = A.autkc_loss(x, y, k=2, surrogate="square", terms="xcurve")
    c = A.autkc_loss(x, y, k=3, surrogate="square", terms="k")
    torch.testing.assert_close(b, c * 3 / 2)
    assert b > a


@pytest.mark.parametrize("k", [1, 2, 5, 7])
def test_ce_topk_matches_reference(device, k):
    x, y = logits(20, 7, seed=k, ties=False, device=device)
    x.requires_grad_()
    got = A.ce_topk_loss(x, y, k=k)
    torch.testing.assert_close(got, R.ce_topk_loss(x.detach(), y, k))
    got.backward()
    assert torch.isfinite(x.grad).all()


@pytest.mark.parametrize("loss_type", ["l1", "l2", "l3", "l4", "l5"])
@pytest.mark.parametrize("label", ["exclude", "zero"])
def test_hinge_topk_matches_reference(device, loss_type, label):
    x, y = logits(24, 6, seed=7, ties=False, device=device)
    x.requires_grad_()
    got = A.hinge_topk_loss(x, y, k=2, loss_type=loss_type, label=label)
    xr = x.detach().clone().requires_grad_()
    want = R.hinge_topk_loss(xr, y, 2, loss_type, label)
    torch.testing.assert_close(got, want)
    got.backward()
    want.backward()
    torch.testing.assert_close(x.grad, xr.grad)


@pytest.mark.parametrize(
    "fn",
    [
        lambda x, y: A.autkc_loss(x, y, k=2, surrogate="logistic"),
        lambda x, y: A.autkc_loss(x, y, k=3, surrogate="exp", terms="xcurve"),
        lambda x, y: A.ce_topk_loss(x, y, k=2),
        lambda x, y: A.hinge_topk_loss(x, y, k=2, loss_type="l3"),
        lambda x, y: A.hinge_topk_loss(x, y, k=2, loss_type="l4"),
    ],
)
def test_gradcheck(fn):
    x, y = logits(6, 5, seed=8, ties=False)
    assert torch.autograd.gradcheck(lambda t: fn(t, y), (x.requires_grad_(),))


def test_modules_and_warmup():
    x, y = logits(16, 6, seed=9, ties=False)
    m = torchauc.losses.StandardAUTKCLoss("exp", 2, epoch_to_paced=3)
    torch.testing.assert_close(m(x, y, epoch=1), torch.nn.functional.cross_entropy(x, y))
    torch.testing.assert_close(m(x, y, epoch=3), A.autkc_loss(x, y, k=2, surrogate="exp"))
    torch.testing.assert_close(torchauc.losses.CETopKLoss(2)(x, y), A.ce_topk_loss(x, y, k=2))
    torch.testing.assert_close(torchauc.losses.HingeTopKLoss(2, "l5")(x, y), R.hinge_topk_loss(x, y, 2, "l5"))
    assert "K=2" in repr(m)


def test_half_inputs_and_nan():
    x, y = logits(16, 6, seed=10, ties=False)
    for dt in (torch.float16, torch.bfloat16):
        got = A.autkc_loss(x.to(dt), y, k=2)
        assert got.dtype == dt
        torch.testing.assert_close(got.double(), A.autkc_loss(x, y, k=2), atol=2e-2, rtol=2e-2)
    x[0, 0] = float("nan")
    assert torch.isnan(A.autkc_loss(x, y, k=2, surrogate="hinge"))


def test_compile_fullgraph():
    x, y = logits(16, 6, seed=11, ties=False)
    f = torch.compile(lambda t: A.autkc_loss(t, y, k=2) + A.hinge_topk_loss(t, y, k=2, loss_type="l2"), fullgraph=True)
    torch.testing.assert_close(f(x), A.autkc_loss(x, y, k=2) + A.hinge_topk_loss(x, y, k=2, loss_type="l2"))


def test_loss_errors():
    x, y = logits(4, 5)
    with pytest.raises(ValueError, match="surrogate"):
        A.autkc_loss(x, y, k=2, surrogate="Sq")
    with pytest.raises(ValueError, match="k must be in"):
        A.autkc_loss(x, y, k=5)
    with pytest.raises(TypeError, match="k must be an int"):
        A.autkc_loss(x, y, k=2.0)
    with pytest.raises(ValueError, match="logits must have shape"):
        A.ce_topk_loss(x[0], y, k=1)
    with pytest.raises(TypeError, match="labels must hold integer"):
        A.hinge_topk_loss(x, y.double(), k=1)
    with pytest.raises(ValueError, match="loss_type"):
        A.HingeTopKLoss(2, "l6")


# ---------------------------------------------------------------- metrics
def test_metrics_match_row_loops(device):
    x, y = logits(50, 8, seed=12, device=device)
    for k in (1, 2, 5):
        torch.testing.assert_close(A.autkc(x, y, k=k).item(), R.autkc(x.cpu(), y.cpu(), k))
        torch.testing.assert_close(A.topk_accuracy(x, y, k=k).item(), R.topk_accuracy(x.cpu(), y.cpu(), k))
    many = torchauc.metrics.functional.autkc(x, y, k=[1, 2, 5])
    assert many.shape == (3,)
    torch.testing.assert_close(many[1].item(), R.autkc(x.cpu(), y.cpu(), 2))
    with pytest.raises(ValueError, match="k must be in"):
        A.autkc(x, y, k=9)


@settings(max_examples=40, deadline=None)
@given(
    B=st.integers(1, 12),
    C=st.integers(2, 9),
    k=st.integers(1, 8),
    seed=st.integers(0, 10_000),
    scale=st.sampled_from([1.0, 1e-30, 1e30]),
    inc=st.booleans(),
)
def test_property_selection_and_losses(B, C, k, seed, scale, inc):
    x, y = logits(B, C, seed=seed)
    x = x * scale
    k = min(k, C if inc else C - 1)
    assert torch.equal(OPS.autkc_topk(x, y, k, 0.0, inc), R.topk_columns(x, y, k, 0.0, inc))
    if C >= 3 and scale == 1.0:
        kk = min(k, C - 1)
        torch.testing.assert_close(A.autkc_loss(x, y, k=kk, surrogate="square"), R.autkc_loss(x, y, kk))
        torch.testing.assert_close(A.ce_topk_loss(x, y, k=kk), R.ce_topk_loss(x, y, kk))
    torch.testing.assert_close(A.autkc(x, y, k=min(k, C)).item(), R.autkc(x, y, min(k, C)))
