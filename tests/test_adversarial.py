"""torchauc.adversarial.pgd and its fused step (torch.ops.torchauc.adauc_pgd_step): equal to the plain
PyTorch loop (torchauc.reference.adauc.pgd) step for step with the same generator, model mode and
parameter gradients left alone, per-sample restarts, and the step op against its formula."""

import math

import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from torchauc.adversarial import pgd
from torchauc.losses import AdAUCLoss
from torchauc.reference import adauc as R

STEP = torch.ops.torchauc.adauc_pgd_step


def small_cnn(seed=0):
    torch.manual_seed(seed)
    return torch.nn.Sequential(
        torch.nn.Conv2d(3, 4, 3, padding=1), torch.nn.BatchNorm2d(4), torch.nn.ReLU(), torch.nn.Flatten(),
        torch.nn.Linear(4 * 6 * 6, 1),
    )  # fmt: skip


def images(n=8, seed=0, dtype=torch.float32):
    g = torch.Generator().manual_seed(seed)
    x = torch.rand(n, 3, 6, 6, generator=g, dtype=dtype)
    y = (torch.rand(n, generator=g) < 0.4).long()
    return x, y


@pytest.mark.parametrize("norm", ["linf", "l2"])
@pytest.mark.parametrize("restarts", [1, 3])
@pytest.mark.parametrize("per_sample", [True, False])
@pytest.mark.parametrize("target", ["probability", "logit"])
def test_equals_plain_loop(norm, restarts, per_sample, target):
    model = small_cnn()
    x, y = images()
    crit = AdAUCLoss(imratio=0.4)
    loss_fn = crit.per_sample if per_sample else crit
    eps, step = (8 / 255, 2 / 255) if norm == "linf" else (0.5, 0.2)
    kw = dict(eps=eps, step=step, steps=5, restarts=restarts, norm=norm, target=target)
    ours = pgd(model, x, y, loss_fn, generator=torch.Generator().manual_seed(7), **kw)
    ref = R.pgd(model, x, y, loss_fn, generator=torch.Generator().manual_seed(7), **kw)
    tol = dict(rtol=0, atol=0) if norm == "linf" else dict(rtol=1e-5, atol=1e-6)
    torch.testing.assert_close(ours, ref, **tol)
    flat = ours.flatten(1)
    bound = flat.abs().amax(1) if norm == "linf" else flat.norm(dim=1)
    assert (bound <= eps * (1 + 1e-5)).all()
    assert ((x + ours) >= 0).all() and ((x + ours) <= 1).all()


def test_mode_restored_and_parameter_gradients_untouched():
    model = small_cnn()
    x, y = images()
    model.train()
    stats = model[1].running_mean.clone()
    pgd(model, x, y, AdAUCLoss().per_sample, steps=2)
    assert model.training and all(p.grad is None for p in model.parameters())
    torch.testing.assert_close(model[1].running_mean, stats)  # attacked in eval mode
    model.eval()
    pgd(model, x, y, AdAUCLoss(), steps=1, eval_mode=False)
    assert not model.training

    def boom(out, y):
        raise RuntimeError("boom")

    model.train()
    with pytest.raises(RuntimeError, match="boom"):
        pgd(model, x, y, boom, steps=1)
    assert model.training


def test_negative_loss_still_attacks():
    # XCurve's PGDAdversary starts the best loss at 0 and returns delta = 0 when the loss is negative
    model = small_cnn()
    x, y = images()
    crit = AdAUCLoss(alpha=5.0)
    assert crit.per_sample(torch.sigmoid(model(x)).view(-1), y).max() < 0
    delta = pgd(model, x, y, crit.per_sample, steps=3, restarts=2)
    assert delta.abs().amax() > 0


def test_restarts_keep_the_best_per_sample():
    model = small_cnn()
    x, y = images(16, seed=3)
    crit = AdAUCLoss(imratio=0.4)
    gen = torch.Generator().manual_seed(0)
    best = pgd(model, x, y, crit.per_sample, steps=2, restarts=4, generator=gen)
    gen = torch.Generator().manual_seed(0)
    singles = [pgd(model, x, y, crit.per_sample, steps=2, restarts=1, generator=gen) for _ in range(4)]
    model.eval()
    with torch.no_grad():
        losses = torch.stack([crit.per_sample(torch.sigmoid(model(x + d)).view(-1), y) for d in singles])
        got = crit.per_sample(torch.sigmoid(model(x + best)).view(-1), y)
    torch.testing.assert_close(got, losses.max(0).values)


def formula(x, d, g, eps, step, norm, lo, hi):
    x, d, g = x.double(), d.double(), g.double()
    if norm == "linf":
        d = torch.clamp(d + step * torch.sign(g), -eps, eps)
    else:
        rows = x.shape[0]
        gn = g.reshape(rows, -1).norm(dim=1).view(-1, *([1] * (x.dim() - 1)))
        d = (d + g / (gn + 1e-10) * step).reshape(rows, -1).renorm(2, 0, eps).view_as(d)
    return torch.clamp(d, lo - x, hi - x)


@settings(max_examples=40, deadline=None)
@given(
    shape=st.sampled_from([(1,), (5,), (3, 7), (2, 3, 4, 5), (4, 0)]),
    norm=st.sampled_from(["linf", "l2"]),
    dtype=st.sampled_from([torch.float64, torch.float32, torch.float16, torch.bfloat16]),
    eps=st.sampled_from([0.0, 0.03, 1.0]),
    clamp=st.sampled_from([(0.0, 1.0), (-math.inf, math.inf), (0.2, 0.8)]),
    zero_grad=st.booleans(),
    strided=st.booleans(),
    seed=st.integers(0, 1000),
)
def test_step_op_matches_formula(shape, norm, dtype, eps, clamp, zero_grad, strided, seed):
    g0 = torch.Generator().manual_seed(seed)
    x = torch.rand(shape, generator=g0, dtype=torch.float64)
    d = (torch.rand(shape, generator=g0, dtype=torch.float64) - 0.5) * 0.1
    g = torch.zeros(shape, dtype=torch.float64) if zero_grad else torch.randn(shape, generator=g0, dtype=torch.float64)
    if strided and len(shape) >= 2:
        x, d, g = (t.transpose(0, -1).contiguous().transpose(0, -1) for t in (x, d, g))
    x, d, g = (t.to(dtype) for t in (x, d, g))
    got = STEP(x, d, g, eps, 0.01, norm, *clamp)
    assert got.shape == x.shape and got.dtype == dtype
    want = formula(x, d, g, eps, 0.01, norm, *clamp)
    tol = {torch.float64: 1e-12, torch.float32: 1e-6, torch.float16: 2e-3, torch.bfloat16: 1e-2}[dtype]
    torch.testing.assert_close(got.double(), want, rtol=tol, atol=tol)


def test_bad_arguments():
    x, y = images()
    model = small_cnn()
    with pytest.raises(ValueError, match="norm"):
        pgd(model, x, y, AdAUCLoss(), norm="l1")
    with pytest.raises(ValueError, match="target"):
        pgd(model, x, y, AdAUCLoss(), target="margin")
    with pytest.raises(ValueError, match="restarts"):
        pgd(model, x, y, AdAUCLoss(), restarts=0)
    with pytest.raises(ValueError, match="clamp"):
        pgd(model, x, y, AdAUCLoss(), clamp=(1.0, 0.0))
    with pytest.raises(ValueError, match="delta must have the inputs' shape"):
        STEP(x, x[:2], x, 0.1, 0.1, "linf", 0.0, 1.0)
    with pytest.raises(RuntimeError, match="grad must have the inputs' dtype"):
        STEP(x, x, x.double(), 0.1, 0.1, "linf", 0.0, 1.0)
    with pytest.raises(ValueError, match="eps"):
        STEP(x, x, x, -1.0, 0.1, "linf", 0.0, 1.0)
