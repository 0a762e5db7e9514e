"""The fused float32 kernels of the multiclass / pixel AUC loss (square, linear, exp; csrc/multiclass/cpu_fused*):
values and gradients against the float64 pair loop within the stated bound, on the AVX-512, AVX2 and
baseline kernels, with ignored pixels, absent classes, NaN and non-contiguous logits."""

import pytest
import torch
from cpu_isa_common import run_with_isa
from hypothesis import given, settings
from hypothesis import strategies as st

from torchauc import functional as F
from torchauc.reference import multiclass as R

FUSED = ["square", "linear", "exp"]
# The gradient is formed in float (coefficients rounded to float): each element within a few float
# ulps of |act'(x)| (|a v| + |b|); for these surrogates with m >= 1 and sigmoid scores the two terms
# do not cancel, so that is a few ulps of the element itself. The statistics are float64 sums.
GRAD_RTOL = 1e-6
LOSS_RTOL = 1e-6
ULP = 2.0**-24


def exp_rtol(margin, score_range):
    """The exp path's stated bound (cpu_fused.h): each e^{key - M} is a float exp of a key difference in
    [-(|m| R + 1), 0] rounded to float: relative (|m| R + 8) 2^-24 per gradient element and for the
    loss, plus the float activation's rounding (a few ulps of |m v|)."""
    return (abs(margin) * score_range + 8 + 4 * abs(margin)) * ULP


def _rtol(surrogate, margin, score_range=1.0):
    """The bound of one surrogate for scores spanning score_range (1 for sigmoid / softmax scores)."""
    return exp_rtol(margin, score_range) if surrogate == "exp" else GRAD_RTOL


def _pix(b, c, h, w, seed, absent=(), ignore_frac=0.2):
    g = torch.Generator().manual_seed(seed)
    x = (torch.randn(b, c, h, w, generator=g) * 3).float()
    present = [k for k in range(c) if k not in absent]
    y = torch.tensor(present)[torch.randint(0, len(present), (b, h, w), generator=g)]
    y[torch.rand(b, h, w, generator=g) < ignore_frac] = 255
    return x, y


def _value_and_grad(fn, x, *args, **kw):
    x = x.detach().clone().requires_grad_()
    loss = fn(x, *args, **kw)
    loss.backward()
    assert x.grad is not None
    return loss.detach(), x.grad


def _assert_within_bound(ours, ref, rtol=None):
    torch.testing.assert_close(ours[0].double(), ref[0], rtol=rtol or LOSS_RTOL, atol=1e-12)
    gr = ref[1]
    atol = 1e-7 * float(gr.abs().max()) + 1e-30
    torch.testing.assert_close(ours[1].double(), gr, rtol=rtol or GRAD_RTOL, atol=atol)


def _pixel_ref(x, y, surrogate, mode, margin, normalization="present"):
    return _value_and_grad(
        R.multiclass_auc_loss_pairs,
        x.double(),
        y,
        surrogate,
        mode,
        margin,
        ignore_index=255,
        normalization=normalization,
        activation="sigmoid",
    )


@pytest.mark.parametrize("surrogate", FUSED)
@pytest.mark.parametrize("mode", ["ovo", "ova"])
@pytest.mark.parametrize("hw", [(5, 7), (16, 16), (9, 33)])  # runs shorter, equal to, longer than 16 lanes
def test_pixel_float32_within_bound(surrogate, mode, hw):
    x, y = _pix(2, 5, *hw, seed=hw[0], absent=(1,))
    ours = _value_and_grad(F.pixel_auc_loss, x, y, surrogate=surrogate, mode=mode, margin=1.2, ignore_index=255)
    assert ours[1].dtype == torch.float32
    _assert_within_bound(ours, _pixel_ref(x, y, surrogate, mode, 1.2), _rtol(surrogate, 1.2))


@pytest.mark.parametrize("surrogate", FUSED)
@pytest.mark.parametrize("c", [3, 16, 37])  # rows shorter, equal to, longer than 16 lanes
def test_rows_float32_within_bound(surrogate, c):
    g = torch.Generator().manual_seed(c)
    p = torch.softmax(torch.randn(300, c, generator=g) * 2, 1)
    y = torch.randint(0, c, (300,), generator=g)
    y[::7] = -1
    y[y == 1] = 2  # class 1 absent
    ours = _value_and_grad(F.multiclass_auc_loss, p, y, surrogate=surrogate, ignore_index=-1)
    ref = _value_and_grad(R.multiclass_auc_loss_pairs, p.double(), y, surrogate, "ovo", 1.0, ignore_index=-1)
    _assert_within_bound(ours, ref, _rtol(surrogate, 1.0))


@settings(max_examples=30, deadline=None)
@given(
    b=st.integers(1, 2),
    c=st.integers(2, 6),
    h=st.integers(1, 9),
    w=st.integers(1, 21),
    seed=st.integers(0, 10_000),
    surrogate=st.sampled_from(FUSED),
    mode=st.sampled_from(["ovo", "ova"]),
    normalization=st.sampled_from(["present", "xcurve"]),
    ties=st.booleans(),
)
def test_property_pixel_float32(b, c, h, w, seed, surrogate, mode, normalization, ties):
    x, y = _pix(b, c, h, w, seed, absent=(0,) if seed % 3 == 0 else ())
    if ties:
        x = torch.round(x)
    kw = dict(surrogate=surrogate, mode=mode, margin=1.0, normalization=normalization, ignore_index=255)
    ours = _value_and_grad(F.pixel_auc_loss, x, y, **kw)
    _assert_within_bound(ours, _pixel_ref(x, y, surrogate, mode, 1.0, normalization), _rtol(surrogate, 1.0))


@settings(max_examples=30, deadline=None)
@given(
    n=st.integers(1, 70),
    c=st.integers(2, 17),
    seed=st.integers(0, 10_000),
    surrogate=st.sampled_from(FUSED),
    mode=st.sampled_from(["ovo", "ova"]),
    sigmoid=st.booleans(),
    ignore_frac=st.sampled_from([0.0, 0.3]),
)
def test_property_rows_float32(n, c, seed, surrogate, mode, sigmoid, ignore_frac):
    # (N, C) rows of C < 16 go 16 rows at a time through the plane's lanes (cpu_fused_kernels.h
    # small_rows_*): row counts below, at and past a block, ignored rows, C up to past 16; (B, C, 1, 1)
    # pixels are (N, C) rows with the sigmoid fused in
    g = torch.Generator().manual_seed(seed)
    x = torch.randn(n, c, generator=g) * 2
    y = torch.randint(0, c, (n,), generator=g)
    y[torch.rand(n, generator=g) < ignore_frac] = 255
    kw = dict(surrogate=surrogate, mode=mode, margin=1.0, ignore_index=255)
    if sigmoid:
        ours = _value_and_grad(F.pixel_auc_loss, x[:, :, None, None], y[:, None, None], **kw)
        ours = (ours[0], ours[1].reshape(n, c))
        ref = _value_and_grad(
            R.multiclass_auc_loss_pairs, x.double(), y, surrogate, mode, 1.0, ignore_index=255, activation="sigmoid"
        )
        rng = 1.0
    else:
        ours = _value_and_grad(F.multiclass_auc_loss, x, y, **kw)
        ref = _value_and_grad(R.multiclass_auc_loss_pairs, x.double(), y, surrogate, mode, 1.0, ignore_index=255)
        rng = float(x.max() - x.min())
    _assert_within_bound(ours, ref, _rtol(surrogate, 1.0, rng))


@pytest.mark.parametrize("margin", [1.0, 2.5, -0.7])
@pytest.mark.parametrize("mode", ["ovo", "ova"])
def test_exp_unbounded_scores_within_bound(margin, mode):
    # raw scores (no activation) spanning ~20: the key differences reach |m| R, the bound grows with them
    g = torch.Generator().manual_seed(7)
    x = torch.randn(300, 37, generator=g) * 4
    y = torch.randint(0, 37, (300,), generator=g)
    y[y == 5] = 6  # class 5 absent
    kw = dict(surrogate="exp", mode=mode, margin=margin)
    ours = _value_and_grad(F.multiclass_auc_loss, x, y, **kw)
    ref = _value_and_grad(R.multiclass_auc_loss_pairs, x.double(), y, "exp", mode, margin)
    _assert_within_bound(ours, ref, exp_rtol(margin, float(x.max() - x.min())))


@pytest.mark.parametrize("layout", ["rows", "pixels"])
def test_exp_rising_scores_raise_every_cell(layout):
    # scores rising along the samples: the running maxima are raised again and again (the rare path)
    g = torch.Generator().manual_seed(8)
    n, c = 400, 5
    x = torch.arange(n, dtype=torch.float32)[:, None] * 0.05 + torch.rand(n, c, generator=g) * 0.3
    y = torch.randint(0, c, (n,), generator=g)
    ref = _value_and_grad(R.multiclass_auc_loss_pairs, x.double(), y, "exp", "ovo", 1.0)
    rtol = exp_rtol(1.0, float(x.max() - x.min()))
    if layout == "rows":
        _assert_within_bound(_value_and_grad(F.multiclass_auc_loss, x, y, surrogate="exp"), ref, rtol)
        return
    xp, yp = x.T.reshape(1, c, 20, 20), y.reshape(1, 20, 20)  # (B, C, H, W) with the same samples in order
    ours = _value_and_grad(F.pixel_auc_loss, xp, yp, surrogate="exp", activation="none")
    _assert_within_bound((ours[0], ours[1].reshape(c, n).T), ref, rtol)


@pytest.mark.parametrize("surrogate", FUSED)
def test_nan_logit_propagates_unless_ignored(surrogate):
    x, y = _pix(1, 3, 6, 6, seed=1)
    y[0, 0, 0], y[0, 1, 1] = 255, 2
    base = F.pixel_auc_loss(x, y, surrogate=surrogate, ignore_index=255)
    ignored = x.clone()
    ignored[0, :, 0, 0] = float("nan")
    torch.testing.assert_close(F.pixel_auc_loss(ignored, y, surrogate=surrogate, ignore_index=255), base)
    kept = x.clone()
    kept[0, 2, 1, 1] = float("nan")
    assert torch.isnan(F.pixel_auc_loss(kept, y, surrogate=surrogate, ignore_index=255))


@pytest.mark.parametrize("surrogate", FUSED)
def test_channels_last_float32(surrogate):
    x, y = _pix(2, 5, 7, 9, seed=2)
    base = _value_and_grad(F.pixel_auc_loss, x, y, surrogate=surrogate, ignore_index=255)
    cl = _value_and_grad(
        F.pixel_auc_loss, x.contiguous(memory_format=torch.channels_last), y, surrogate=surrogate, ignore_index=255
    )
    assert torch.equal(base[0], cl[0]) and torch.equal(base[1], cl[1])


@pytest.mark.parametrize("surrogate", FUSED)
def test_thread_count_does_not_change_bits(surrogate):
    x, y = _pix(3, 7, 40, 40, seed=3)
    s = torch.softmax(torch.randn(5000, 33), 1)
    t = torch.randint(0, 33, (5000,))
    s10 = torch.softmax(torch.randn(30000, 10), 1)  # C < 16 rows in two sample chunks (3e5 elements)
    t10 = torch.randint(0, 10, (30000,))
    old = torch.get_num_threads()
    try:
        out = []
        for n in (1, 2):
            torch.set_num_threads(n)
            out.append(_value_and_grad(F.pixel_auc_loss, x, y, surrogate=surrogate, ignore_index=255))
            out.append(_value_and_grad(F.multiclass_auc_loss, s, t, surrogate=surrogate))
            out.append(_value_and_grad(F.multiclass_auc_loss, s10, t10, surrogate=surrogate))
    finally:
        torch.set_num_threads(old)
    for a, b in zip(out[:3], out[3:]):
        assert torch.equal(a[0], b[0]) and torch.equal(a[1], b[1])


_ISA_SCRIPT = """
import sys, torch
from torchauc import functional as F
x = torch.load(sys.argv[1]); out = []
for sur in ("square", "linear", "exp"):
    for logits, labels, fn, kw in ((x["x"], x["y"], F.pixel_auc_loss, dict(ignore_index=255)),
                                   (x["p"], x["t"], F.multiclass_auc_loss, {}),
                                   (x["p5"], x["t5"], F.multiclass_auc_loss, {})):
        v = logits.clone().requires_grad_()
        loss = fn(v, labels, surrogate=sur, **kw)
        loss.backward()
        out += [loss.detach(), v.grad]
torch.save(out, sys.argv[2])
"""


def test_avx2_and_baseline_kernels_agree(tmp_path):
    # the same sums in the same lane order; only FMA contraction may differ (float rounding)
    x, y = _pix(2, 6, 11, 13, seed=5, absent=(2,))
    p = torch.softmax(torch.randn(77, 21), 1)
    t = torch.randint(0, 21, (77,))
    p5 = torch.softmax(torch.randn(45, 5), 1)  # C < 16: rows through the plane's lanes
    t5 = torch.randint(0, 5, (45,))
    inputs = dict(x=x, y=y, p=p, t=t, p5=p5, t5=t5)
    best = run_with_isa(_ISA_SCRIPT, "best", inputs, tmp_path)
    for isa in ("avx2", "base"):
        for a, b in zip(run_with_isa(_ISA_SCRIPT, isa, inputs, tmp_path), best):
            torch.testing.assert_close(a, b, rtol=GRAD_RTOL, atol=1e-7 * float(b.abs().max()))
