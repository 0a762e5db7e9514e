"""The op's `scale` argument (scale * loss and every gradient, inside the op) and the callers that use
it: XCurve's binary SquareAUCLoss is 0.5 * pairwise_auc_loss as one op and one autograd node, equal
bit for bit to the separate multiply it replaces; AUCLoss and the XCurve binary losses check their
options once, at construction, with the same values and errors."""

import math

import pytest
import torch

from torchauc import functional as F
from torchauc._core import distributed as D
from torchauc.compat import xcurve as X
from torchauc.pairwise import AUCLoss
from torchauc.reference import pairwise as R

SURROGATES = ["square", "exp", "hinge", "squared_hinge", "logistic", "sigmoid"]
OP = torch.ops.torchauc.pairwise_auc_loss


def batch(n, dtype=torch.float64, seed=0, shape=None):
    g = torch.Generator().manual_seed(seed)
    s = torch.randn(n, generator=g, dtype=torch.float64).to(dtype)
    y = torch.rand(n, generator=g) < 0.4
    y[:2] = torch.tensor([True, False])
    w = torch.rand(n, generator=g, dtype=torch.float64).to(dtype) + 0.1
    return (s if shape is None else s.reshape(shape)), y, w


def op_outputs(s, y, a, b, surrogate, reduction, scale):
    x = s.clone().requires_grad_()
    wa = a.clone().requires_grad_() if a is not None else None
    wb = b.clone().requires_grad_() if b is not None else None
    loss = OP(x, y, wa, wb, surrogate, 0.7, reduction, True, scale)[0]
    loss.backward()
    return [loss.detach(), x.grad] + [w.grad for w in (wa, wb) if w is not None]


@pytest.mark.parametrize("surrogate", SURROGATES)
@pytest.mark.parametrize("weighted", [False, True])
@pytest.mark.parametrize("reduction", ["mean", "sum"])
def test_scale_multiplies_loss_and_gradients_against_float64_brute_force(surrogate, weighted, reduction):
    s, y, w = batch(60, seed=1)
    a, b = (w, w.flip(0)) if weighted else (None, None)
    got = op_outputs(s, y, a, b, surrogate, reduction, -0.3)
    x = s.clone().requires_grad_()
    wa = a.clone().requires_grad_() if weighted else None
    wb = b.clone().requires_grad_() if weighted else None
    ref = -0.3 * R.pairwise_auc_loss(x, y, surrogate, 0.7, wa, wb, reduction)  # the pair matrix
    ref.backward()
    want = [ref.detach(), x.grad] + ([wa.grad, wb.grad] if weighted else [])
    for g_, w_ in zip(got, want, strict=True):
        torch.testing.assert_close(g_, w_, rtol=1e-10, atol=1e-12)


@pytest.mark.parametrize("surrogate", SURROGATES)
@pytest.mark.parametrize("dtype", [torch.float32, torch.float64, torch.float16, torch.bfloat16])
@pytest.mark.parametrize("weighted", [False, True])
def test_power_of_two_scale_is_the_multiply_it_replaces(surrogate, dtype, weighted):
    s, y, w = batch(300, dtype, seed=2, shape=(300, 1))
    a = w if weighted else None
    got = op_outputs(s, y, a, None, surrogate, "mean", 0.5)
    x = s.clone().requires_grad_()
    wa = a.clone().requires_grad_() if weighted else None
    (0.5 * OP(x, y, wa, None, surrogate, 0.7, "mean", True)[0]).backward()
    want = [0.5 * OP(s, y, a, None, surrogate, 0.7, "mean", False)[0], x.grad] + ([wa.grad] if weighted else [])
    # halving is exact except for float16 subnormals (< 6.1e-5: tiny gradients of samples near the
    # opposite side's mean), which the multiply rounded twice: one subnormal step apart there
    atol = 0.0 if dtype != torch.float16 else 2.0**-24
    for g_, w_ in zip(got, want, strict=True):
        assert g_.dtype == w_.dtype and g_.shape == w_.shape
        torch.testing.assert_close(g_, w_, rtol=0, atol=atol)


def test_scale_with_nan_scores_and_one_class_batches():
    s, y, _ = batch(20, seed=3)
    s[4] = float("nan")
    loss, grad = op_outputs(s, y, None, None, "square", "mean", 0.5)
    assert loss.isnan() and grad.isnan().all()
    loss, grad = op_outputs(s.nan_to_num(), torch.ones(20, dtype=torch.bool), None, None, "exp", "mean", 0.5)
    assert loss.item() == 0.0 and (grad == 0).all()


@pytest.mark.parametrize("scale", [float("nan"), float("inf")])
def test_non_finite_scale_is_an_error_naming_it(scale):
    s, y, _ = batch(10)
    with pytest.raises(ValueError, match="scale must be finite"):
        OP(s, y, None, None, "square", 1.0, "mean", False, scale)


def test_gradcheck_with_scale():
    s, y, w = batch(12, seed=4)
    x, wa = s.clone().requires_grad_(), w.clone().requires_grad_()
    for sur in ("square", "exp", "hinge"):
        assert torch.autograd.gradcheck(
            lambda x, wa, sur=sur: OP(x, y, wa, None, sur, 0.7, "mean", True, 0.3)[0], (x, wa)
        )


# ---------------------------------------------------------------- callers
@pytest.mark.parametrize("dtype", [torch.float32, torch.float64, torch.float16])
@pytest.mark.parametrize("shape", [(64,), (64, 1)])
@pytest.mark.parametrize("gamma", [1.0, 0.3])
def test_xcurve_binary_square_is_half_the_pairwise_loss_bitwise(dtype, shape, gamma):
    s, y, _ = batch(64, dtype, seed=5, shape=shape)
    x1, x2 = s.clone().requires_grad_(), s.clone().requires_grad_()
    ours = X.SquareAUCLoss(2, gamma)(x1, y)
    before = 0.5 * F.pairwise_auc_loss(x2, y, surrogate="square", margin=gamma)  # the former formula
    ours.backward()
    before.backward()
    torch.testing.assert_close(ours, before, rtol=0, atol=0)
    torch.testing.assert_close(x1.grad, x2.grad, rtol=0, atol=0)


@pytest.mark.parametrize("name", ["SquareAUCLoss", "ExpAUCLoss"])
def test_xcurve_binary_loss_is_one_autograd_node(name):
    x = torch.rand(32, 1, requires_grad=True)
    loss = getattr(X, name)(2)(x, torch.arange(32) % 2)
    (next_fn, _), *_ = loss.grad_fn.next_functions
    assert type(next_fn).__name__ == "AccumulateGrad"  # the op's node feeds the leaf directly


def test_modules_check_options_once_with_the_functional_errors():
    with pytest.raises(ValueError, match="surrogate must be one of"):
        AUCLoss("nope")
    with pytest.raises(ValueError, match="margin must be finite"):
        AUCLoss(margin=float("inf"))
    with pytest.raises(ValueError, match="gamma must be finite"):
        X.SquareAUCLoss(2, float("nan"))
    with pytest.raises(TypeError, match="scores must be a torch.Tensor"):
        X.SquareAUCLoss(2)([0.1, 0.2], torch.tensor([0, 1]))
    with pytest.raises(TypeError, match="labels must be a torch.Tensor"):
        AUCLoss()(torch.rand(2), [0, 1])
    with pytest.raises(TypeError, match="pos_weights must be a torch.Tensor"):
        AUCLoss()(torch.rand(2), torch.tensor([0, 1]), pos_weights=[1.0, 1.0])


def test_options_changed_after_construction_are_checked_on_the_distributed_path(monkeypatch):
    # the moment path of a process group computes without the C++ op (which checks the options itself)
    monkeypatch.setattr(D, "check_group", lambda group: group)
    s, y = torch.rand(6), torch.tensor([0, 1, 0, 1, 1, 0])
    for attr, value, match in [("reduction", "avg", "reduction must be one of"), ("margin", math.nan, "margin")]:
        m = AUCLoss(process_group=object())
        setattr(m, attr, value)
        with pytest.raises(ValueError, match=match):
            m(s, y)


@pytest.mark.parametrize("surrogate", ["square", "exp", "logistic"])
def test_aucloss_module_equals_the_functional(surrogate):
    s, y, w = batch(50, torch.float32, seed=6)
    x1, x2 = s.clone().requires_grad_(), s.clone().requires_grad_()
    m = AUCLoss(surrogate, margin=0.4, reduction="sum")
    m(x1, y, neg_weights=w).backward()
    F.pairwise_auc_loss(x2, y, surrogate=surrogate, margin=0.4, reduction="sum", neg_weights=w).backward()
    torch.testing.assert_close(x1.grad, x2.grad, rtol=0, atol=0)


def test_compiled_xcurve_binary_square_matches_eager():
    s, y, _ = batch(40, torch.float32, seed=7, shape=(40, 1))
    loss_fn = X.SquareAUCLoss(2)
    compiled = torch.compile(loss_fn, fullgraph=True, backend="aot_eager")
    x1, x2 = s.clone().requires_grad_(), s.clone().requires_grad_()
    compiled(x1, y).backward()
    loss_fn(x2, y).backward()
    torch.testing.assert_close(x1.grad, x2.grad, rtol=0, atol=0)
