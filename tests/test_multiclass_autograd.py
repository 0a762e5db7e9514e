"""The C++ autograd of multiclass_auc_loss (csrc/multiclass/autograd.cpp): backward scales the fused
gradient in place or not at all, never touching a buffer someone else holds; a call made without
gradients cannot be differentiated; create_graph keeps the incoming gradient's dependence."""

import pytest
import torch

from torchauc import functional as F

OP = torch.ops.torchauc.multiclass_auc_loss


def batch(n=300, c=5, seed=0):
    g = torch.Generator().manual_seed(seed)
    return torch.randn(n, c, generator=g, dtype=torch.float64), torch.randint(0, c, (n,), generator=g)


@pytest.mark.parametrize("surrogate", ["square", "exp", "hinge", "linear"])
def test_raw_op_outputs_kept_by_the_caller_are_not_scaled_in_place(surrogate):
    s, y = batch()
    x = s.clone().requires_grad_()
    loss, grad = OP(x, y, None, "none", surrogate, "ovo", 1.0, "present", True)
    kept = grad.clone()
    (3.0 * loss).backward()
    torch.testing.assert_close(grad, kept, rtol=0, atol=0)
    torch.testing.assert_close(x.grad, 3.0 * kept)


def test_backward_through_a_call_without_gradients_is_an_error():
    s, y = batch()
    loss = OP(s.requires_grad_(), y, None, "none", "square", "ovo", 1.0, "present", False)[0]
    with pytest.raises(RuntimeError, match="compute_grad=False"):
        loss.backward()


def test_labels_and_non_tensor_arguments_get_no_gradient():
    s, y = batch(seed=1)
    x = s.clone().requires_grad_()
    (g,) = torch.autograd.grad(F.multiclass_auc_loss(x, y, surrogate="exp"), x)
    want = OP(s, y, None, "none", "exp", "ovo", 1.0, "present", True)[1]
    torch.testing.assert_close(g, want, rtol=0, atol=0)


def test_create_graph_keeps_the_dependence_on_the_incoming_gradient():
    s, y = batch(seed=2)
    x = s.clone().requires_grad_()
    scale = torch.tensor(2.0, dtype=torch.float64, requires_grad=True)
    (g,) = torch.autograd.grad(scale * F.multiclass_auc_loss(x, y), x, create_graph=True)
    (d_scale,) = torch.autograd.grad(g.sum(), scale)  # g = scale * grad: d sum(g) / d scale = sum(grad)
    (g1,) = torch.autograd.grad(F.multiclass_auc_loss(x, y), x)
    torch.testing.assert_close(g.detach(), 2.0 * g1)
    torch.testing.assert_close(d_scale, g1.sum())
