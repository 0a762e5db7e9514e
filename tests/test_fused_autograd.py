"""The C++ autograd of the fused loss ops adauc_loss, partial_auc_upauci, sod_si_loss, aucm_loss
(csrc/core/fused_autograd.h) and of cml_triplet_loss / cml_gather_dots (csrc/cml/autograd.cpp):
backward hands out the op's own gradients scaled by the incoming one, in place or not at all, never
touching a buffer someone else holds; only the inputs that require grad get one; a call made without
gradients cannot be differentiated; create_graph keeps the incoming gradient's dependence, and a
second derivative through any fused op's gradient is an error naming the op."""

import pytest
import torch

from torchauc.sod import frames

OPS = torch.ops.torchauc


def _gen(seed):
    return torch.Generator().manual_seed(seed)


def _binary(n, seed):
    g = _gen(seed)
    s = torch.rand(n, generator=g, dtype=torch.float64)
    y = (torch.rand(n, generator=g) < 0.3).long()
    y[0], y[-1] = 1, 0
    return s, y


def _scalar(v):
    return torch.tensor(v, dtype=torch.float64)


def _sod_batch():
    """Masks (2, 9, 11) with three objects and their frames (torchauc.sod.frames)."""
    masks = torch.zeros(2, 9, 11, dtype=torch.float64)
    masks[0, 1:4, 2:6] = 1
    masks[0, 6:8, 7:10] = 1
    masks[1, 2:7, 3:5] = 1
    fr = frames(masks, min_area=1)
    return masks, fr.boxes, fr.counts


def _fused_cases():
    """(name, op, args, positions of the differentiable tensor arguments, output index of each one's gradient)."""
    s, y = _binary(60, 0)
    adauc = (s, y, _scalar(0.3), _scalar(0.6), _scalar(-0.2), None, 1.0, "canonical", True)
    c = torch.rand(60, generator=_gen(1), dtype=torch.float64)
    p = torch.tensor([0.9, 0.1, 0.2, 0.5, 0.7, 0.3, 0.4], dtype=torch.float64)
    upauci = (s, y, c, p, 0.4, 0.2, 0.3, True)
    target, boxes, counts = _sod_batch()
    pred = torch.rand(2, 1, 9, 11, generator=_gen(2), dtype=torch.float64)
    sod = (pred, target, boxes, counts, 3, True)
    sc = torch.rand(40, 3, generator=_gen(3), dtype=torch.float64)
    yc = torch.rand(40, 3, generator=_gen(4)) < 0.4
    yc[0], yc[1] = True, False
    abc = [torch.rand(3, generator=_gen(5 + k), dtype=torch.float64) for k in range(3)]
    aucm = (sc, yc, *abc, None, None, None, 1.0, "v2", True)
    return [
        ("adauc_loss", OPS.adauc_loss, adauc, (0, 2, 3, 4)),
        ("partial_auc_upauci", OPS.partial_auc_upauci, upauci, (0, 2, 3)),
        ("sod_si_loss", OPS.sod_si_loss, sod, (0,)),
        ("aucm_loss", OPS.aucm_loss, aucm, (0, 2, 3, 4)),
    ]


FUSED = _fused_cases()
IDS = [case[0] for case in FUSED]


def _leaves(args, positions):
    return tuple(a.clone().requires_grad_() if k in positions else a for k, a in enumerate(args))


@pytest.mark.parametrize(("name", "op", "args", "diff"), FUSED, ids=IDS)
def test_gradients_are_the_ops_own_scaled_by_the_incoming_one(name, op, args, diff):
    want = op(*args)
    for scale in (1.0, -2.5):
        leaves = _leaves(args, diff)
        (scale * op(*leaves)[0]).backward()
        for k, pos in enumerate(diff):
            torch.testing.assert_close(leaves[pos].grad, scale * want[k + 1], rtol=0, atol=0)


@pytest.mark.parametrize(("name", "op", "args", "diff"), FUSED, ids=IDS)
def test_raw_op_outputs_kept_by_the_caller_are_not_scaled_in_place(name, op, args, diff):
    leaves = _leaves(args, diff)
    out = op(*leaves)
    kept = [g.clone() for g in out[1:]]
    (3.0 * out[0]).backward()
    torch.testing.assert_close(list(out[1:]), kept, rtol=0, atol=0)
    for k, pos in enumerate(diff):
        torch.testing.assert_close(leaves[pos].grad, 3.0 * kept[k], rtol=0, atol=0)


@pytest.mark.parametrize(("name", "op", "args", "diff"), FUSED, ids=IDS)
def test_only_the_inputs_that_require_grad_get_one(name, op, args, diff):
    for pos in diff:
        leaves = _leaves(args, (pos,))
        op(*leaves)[0].backward()
        assert all(a.grad is None for k, a in enumerate(leaves) if k != pos and isinstance(a, torch.Tensor))
        assert leaves[pos].grad is not None


@pytest.mark.parametrize(("name", "op", "args", "diff"), FUSED, ids=IDS)
def test_retain_graph_gives_the_same_gradients_twice(name, op, args, diff):
    leaves = _leaves(args, diff)
    loss = op(*leaves)[0]
    first = torch.autograd.grad(loss, [leaves[k] for k in diff], retain_graph=True)
    second = torch.autograd.grad(loss, [leaves[k] for k in diff])
    torch.testing.assert_close(second, first, rtol=0, atol=0)


@pytest.mark.parametrize(("name", "op", "args", "diff"), FUSED, ids=IDS)
def test_backward_through_a_call_without_gradients_is_an_error(name, op, args, diff):
    leaves = _leaves(args[:-1] + (False,), diff[:1])
    with pytest.raises(RuntimeError, match=f"torchauc.{name} was called with compute_grad=False"):
        op(*leaves)[0].backward()


@pytest.mark.parametrize(("name", "op", "args", "diff"), FUSED, ids=IDS)
def test_create_graph_keeps_the_dependence_on_the_incoming_gradient(name, op, args, diff):
    leaves = _leaves(args, diff[:1])
    scale = torch.tensor(2.0, dtype=torch.float64, requires_grad=True)
    (g,) = torch.autograd.grad(scale * op(*leaves)[0], leaves[diff[0]], create_graph=True)
    (d_scale,) = torch.autograd.grad(g.sum(), scale)  # g = scale * grad: d sum(g) / d scale = sum(grad)
    want = op(*args)[1]
    torch.testing.assert_close(g.detach(), 2.0 * want)
    torch.testing.assert_close(d_scale, want.sum())


def _first_order_only_cases():
    """(name, loss of a leaf, leaf): every op whose C++ autograd scales saved gradients."""
    import torchauc.autkc as autkc
    import torchauc.functional as F

    s, y = _binary(50, 8)
    mc = torch.rand(30, 4, generator=_gen(9), dtype=torch.float64)
    mc_y = torch.arange(30) % 4
    rows = torch.randn(12, 9, generator=_gen(10), dtype=torch.float64)
    rows_y = torch.arange(12) % 9
    cases = [
        ("pairwise_auc_loss", lambda x: F.pairwise_auc_loss(x, y), s),
        ("multiclass_auc_loss", lambda x: F.multiclass_auc_loss(x, mc_y), mc),
        ("autkc_loss_rows", lambda x: autkc.autkc_loss(x, rows_y, k=3), rows),
    ]
    for name, op, args, diff in FUSED:
        cases.append((name, lambda x, op=op, args=args, k=diff[0]: op(*args[:k], x, *args[k + 1 :])[0], args[diff[0]]))
    return cases


FIRST_ORDER = _first_order_only_cases()


@pytest.mark.parametrize(("name", "loss", "x"), FIRST_ORDER, ids=[c[0] for c in FIRST_ORDER])
def test_a_second_derivative_is_an_error_not_a_silent_zero(name, loss, x):
    # create_graph=True: the gradient is right and still depends on the incoming gradient, but a
    # backward through it raises (before: a gradient penalty silently added nothing to x.grad). As with
    # torch's once_differentiable, torch.autograd.grad towards x finds x unused (None with allow_unused).
    x = x.clone().requires_grad_()
    (g,) = torch.autograd.grad(loss(x), x, create_graph=True)
    torch.testing.assert_close(g.detach(), torch.autograd.grad(loss(x), x)[0], rtol=0, atol=0)
    with pytest.raises(RuntimeError, match="not have been used in the graph"):
        torch.autograd.grad((g * g).sum(), x)
    with pytest.raises(RuntimeError, match=f"torchauc.{name} is not twice differentiable"):
        (loss(x) + (g * g).sum()).backward()  # a gradient penalty, as a user writes it


def test_float32_loss_scales_the_float64_upauci_params_gradient():
    s, y = _binary(30, 6)
    c, p = torch.rand(30, generator=_gen(7)), FUSED[1][2][3]
    args = (s.float(), y, c, p.clone().requires_grad_(), 0.5, 0.0, 0.1, True)
    loss = OPS.partial_auc_upauci(*args)[0]
    assert loss.dtype == torch.float32
    (0.5 * loss).backward()
    want = OPS.partial_auc_upauci(*args)[3]
    assert args[3].grad.dtype == torch.float64
    torch.testing.assert_close(args[3].grad, 0.5 * want, rtol=0, atol=0)


def _triplet_indexed():
    g = _gen(8)
    users = torch.randn(4, 2, 3, generator=g, dtype=torch.float64)
    items = torch.randn(5, 3, generator=g, dtype=torch.float64)
    ui, pi = torch.tensor([0, 3, 3, 1]), torch.tensor([4, 0, 2, 2])
    ni = torch.tensor([[1, 2], [3, 4], [0, 0], [2, 1]])
    return users, items, ui, pi, ni


@pytest.mark.parametrize("reduction", ["sum", "mean"])
def test_cml_triplet_backward_is_the_backward_op(reduction):
    users, items, ui, pi, ni = _triplet_indexed()
    u, v = users.clone().requires_grad_(), items.clone().requires_grad_()
    loss, argmin = OPS.cml_triplet_loss(u, v, v, ui, pi, ni, 4.0, reduction)
    assert not argmin.requires_grad
    (0.5 * loss).backward()
    gu, gp, gn = OPS.cml_triplet_backward(torch.tensor(0.5, dtype=torch.float64), users, items, items, ui, pi, ni,
                                          argmin, reduction)  # fmt: skip
    torch.testing.assert_close(u.grad, gu, rtol=0, atol=0)
    torch.testing.assert_close(v.grad, gp + gn, rtol=0, atol=0)


def test_cml_triplet_only_the_inputs_that_require_grad_get_one():
    g = _gen(9)
    users, pos, neg = (
        torch.randn(*shape, generator=g, dtype=torch.float64) for shape in [(6, 2, 3), (6, 3), (6, 4, 3)]
    )
    p = pos.clone().requires_grad_()
    OPS.cml_triplet_loss(users, p, neg, None, None, None, 3.0, "sum")[0].backward()
    assert p.grad is not None and users.grad is None and neg.grad is None


def test_cml_gather_dots_backward_is_the_backward_op():
    g = _gen(10)
    users, items = (
        torch.randn(3, 4, generator=g, dtype=torch.float64),
        torch.randn(6, 4, generator=g, dtype=torch.float64),
    )
    indptr, indices = torch.tensor([0, 2, 2, 5]), torch.tensor([1, 5, 0, 1, 3])
    w = torch.randn(5, generator=g, dtype=torch.float64)
    u = users.clone().requires_grad_()
    (OPS.cml_gather_dots(u, items, indptr, indices) * w).sum().backward()
    gu, _ = OPS.cml_gather_dots_backward(w, users, items, indptr, indices)
    torch.testing.assert_close(u.grad, gu, rtol=0, atol=0)


def _dots_csr():
    g = _gen(11)
    users = torch.randn(3, 4, generator=g, dtype=torch.float64, requires_grad=True)
    items = torch.randn(6, 4, generator=g, dtype=torch.float64, requires_grad=True)
    return users, items, torch.tensor([0, 2, 2, 5]), torch.tensor([1, 5, 0, 1, 1])  # a repeated item


def test_cml_gather_dots_is_differentiable_twice():
    # create_graph=True: its gradient is bilinear and differentiable in turn (before, the second
    # gradient was silently zero or reported unused): gradgradcheck against finite differences, and
    # second derivatives equal to those of the float64 brute force users[row] . items[indices]
    users, items, indptr, indices = _dots_csr()
    assert torch.autograd.gradgradcheck(lambda u, v: OPS.cml_gather_dots(u, v, indptr, indices), (users, items))
    row = torch.repeat_interleave(torch.arange(3), indptr.diff())

    def second(dots):
        d = dots(users, items)
        first = torch.autograd.grad((d * d).sum() + d.sum(), (users, items), create_graph=True)
        return torch.autograd.grad(sum((f * f).sum() for f in first), (users, items))

    want = second(lambda u, v: (u[row] * v[indices]).sum(1))
    got = second(lambda u, v: OPS.cml_gather_dots(u, v, indptr, indices))
    for a, b in zip(got, want):
        torch.testing.assert_close(a, b, rtol=1e-12, atol=1e-12)


def test_cml_triplet_gradient_cannot_be_differentiated_again():
    # create_graph=True gives the first derivatives; differentiating them again is an error naming the
    # op (before: "appears to not have been used in the graph", or silent zeros with allow_unused)
    users, items, ui, pi, ni = _triplet_indexed()
    u, v = users.clone().requires_grad_(), items.clone().requires_grad_()
    loss = OPS.cml_triplet_loss(u, v, v, ui, pi, ni, 4.0, "mean")[0]
    gu, gv = torch.autograd.grad(loss, (u, v), create_graph=True)
    want = torch.autograd.grad(OPS.cml_triplet_loss(u, v, v, ui, pi, ni, 4.0, "mean")[0], (u, v))
    torch.testing.assert_close((gu.detach(), gv.detach()), want, rtol=0, atol=0)
    with pytest.raises(RuntimeError, match="torchauc.cml_triplet_loss is not twice differentiable"):
        torch.autograd.grad((gu * gu).sum(), u)
