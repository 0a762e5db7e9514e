"""Open world: the GMoP loss against the official pair-matrix formula, and the OpenworldAUC / Opt-a /
Opt-g metrics against the triple-indicator brute force."""

import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from torchauc import losses, metrics
from torchauc.auroc import functional as F
from torchauc.openworld import gmop_loss
from torchauc.reference import auroc as RA
from torchauc.reference import openworld as R


def _gmop_batch(B, C, K, seed=0, dtype=torch.float64):
    g = torch.Generator().manual_seed(seed)
    logits = torch.randn(B, C, generator=g, dtype=dtype) * 2
    dets = [torch.randn(B, C - len(range(k, C, K)), generator=g, dtype=dtype) * 2 for k in range(K)]
    labels = torch.randint(0, C, (B,), generator=g)
    clip = torch.randn(B, C, generator=g, dtype=dtype)
    return logits, dets, labels, clip


def _value_and_grads(fn, logits, dets, labels, clip, **kw):
    xs = [t.detach().clone().requires_grad_() for t in [logits, *dets, clip]]
    v = fn(xs[0], xs[1:-1], labels, xs[-1], **kw)
    v.backward()
    return v.detach(), [x.grad for x in xs]


@pytest.mark.parametrize("B,C,K", [(32, 10, 3), (17, 7, 2), (40, 12, 4), (9, 3, 3)])
@pytest.mark.parametrize("alpha,lam", [(0.5, 1.0), (1.0, 2.5)])
def test_gmop_equals_official_pair_matrix(B, C, K, alpha, lam):
    batch = _gmop_batch(B, C, K, seed=B + C + K)
    v, g = _value_and_grads(gmop_loss, *batch, alpha=alpha, lam=lam)
    v_ref, g_ref = _value_and_grads(R.gmop_loss, *batch, alpha=alpha, lam=lam)
    torch.testing.assert_close(v, v_ref)
    for a, b in zip(g[:-1], g_ref[:-1]):
        torch.testing.assert_close(a, b)
    assert g[-1] is None and g_ref[-1] is None  # zero-shot CLIP takes no gradient


def test_gmop_module_float32_and_ties():
    logits, dets, labels, clip = _gmop_batch(64, 9, 3, seed=5, dtype=torch.float32)
    dets[1] = torch.zeros_like(dets[1])  # every score of detector 1 ties
    loss = losses.GMoPLoss(3, alpha=1.0, lam=1.0)
    v, g = _value_and_grads(loss, logits, dets, labels, clip)
    v_ref, g_ref = _value_and_grads(R.gmop_loss, logits.double(), [d.double() for d in dets], labels, clip.double(),
                                    alpha=1.0, lam=1.0)  # fmt: skip
    torch.testing.assert_close(v.double(), v_ref, rtol=1e-5, atol=1e-6)
    for a, b in zip(g[:-1], g_ref[:-1]):
        torch.testing.assert_close(a.double(), b, rtol=1e-4, atol=1e-6)


def test_gmop_detector_without_held_out_samples_contributes_zero():
    logits, dets, _, clip = _gmop_batch(8, 6, 3, seed=1)
    labels = torch.tensor([1, 2, 4, 5, 1, 2, 4, 5])  # no class with j % 3 == 0: detector 0 has no OOD
    v = gmop_loss(logits, dets, labels, clip)
    assert torch.isfinite(v)
    ref = R.gmop_loss(logits, dets, labels, clip)  # the official mean over an empty pair matrix is NaN
    assert torch.isnan(ref)


def test_gmop_errors_name_the_argument():
    logits, dets, labels, clip = _gmop_batch(8, 6, 3)
    with pytest.raises(ValueError, match=r"detector_logits\[1\]"):
        gmop_loss(logits, [dets[0], dets[1][:, :2], dets[2]], labels, clip)
    with pytest.raises(ValueError, match="labels"):
        gmop_loss(logits, dets, labels + 6, clip)
    with pytest.raises(ValueError, match="clip_logits"):
        gmop_loss(logits, dets, labels, clip[:, :3])
    with pytest.raises(TypeError, match="detector_logits"):
        gmop_loss(logits, torch.stack(dets), labels, clip)
    with pytest.raises(ValueError, match="num_detectors"):
        losses.GMoPLoss(3)(logits, dets[:2], labels, clip)


# ------------------------------------------------------------------ metrics
def _brute(s, b, c):
    return (
        RA.openworld_auroc_pairs(s, b, c),
        RA.openworld_opt_pairs(s, b, c, "a"),
        RA.openworld_opt_pairs(s, b, c, "g"),
    )


@settings(max_examples=60, deadline=None)
@given(n=st.integers(2, 80), seed=st.integers(0, 2**16), grid=st.sampled_from([0, 3, 1]), inf=st.booleans())
def test_opt_metrics_equal_triple_indicator_brute_force(n, seed, grid, inf):
    g = torch.Generator().manual_seed(seed)
    s = torch.rand(n, generator=g, dtype=torch.float64)
    if grid:
        s = torch.round(s * grid) / grid  # many ties (grid 1: two values)
    if inf:
        s[0], s[-1] = float("inf"), float("-inf")
    b = torch.rand(n, generator=g) < 0.5
    b[0], b[1] = True, False
    c = torch.rand(n, generator=g) < 0.6
    got = F.openworld_aurocs(s, b, c)
    for x, y in zip(got, _brute(s, b, c)):
        torch.testing.assert_close(x, y)
    torch.testing.assert_close(got[0], F.openworld_auroc(s, b, c))
    torch.testing.assert_close(F.openworld_opt_a(s.float(), b.long(), c.int()), got[1])
    torch.testing.assert_close(F.openworld_opt_g(s, b, c), got[2])


def test_opt_metrics_undefined_and_errors():
    s = torch.rand(6, dtype=torch.float64)
    with pytest.raises(ValueError, match="undefined"):
        F.openworld_opt_a(s, torch.ones(6, dtype=torch.bool), torch.ones(6))
    out = F.openworld_aurocs(s, torch.zeros(6), torch.ones(6), on_undefined="nan")
    assert all(torch.isnan(x) for x in out)
    with pytest.raises(ValueError, match="correct"):
        F.openworld_opt_g(s, torch.ones(6), torch.full((6,), 2))
    with pytest.raises(ValueError, match="is_base"):
        F.openworld_opt_g(s, torch.ones(5), torch.ones(6))
    s[2] = float("nan")
    with pytest.raises(ValueError, match="scores"):
        F.openworld_opt_a(s, torch.tensor([1, 0, 1, 0, 1, 0]), torch.ones(6))


def test_stateful_compute_all():
    m = metrics.OpenworldAUROC()
    g = torch.Generator().manual_seed(3)
    parts = []
    for _ in range(3):
        s, b, c = torch.rand(30, generator=g), torch.rand(30, generator=g) < 0.5, torch.rand(30, generator=g) < 0.7
        m.update(s, b, c)
        parts.append((s, b, c))
    s, b, c = (torch.cat(x) for x in zip(*parts))
    got = m.compute_all()
    for x, y in zip(got, _brute(s, b, c)):
        torch.testing.assert_close(x, y)
    torch.testing.assert_close(m.compute(), got[0])
