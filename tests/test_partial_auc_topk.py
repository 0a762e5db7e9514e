"""Hard top-k partial AUC loss (partial_auc_loss / PartialAUCLoss) against the pair matrix."""

import pytest
import torch
from partial_auc_common import batch, value_and_grad

from torchauc import functional as F
from torchauc import losses
from torchauc.reference import partial_auc as R


# ------------------------------------------------------------------ hard top-k loss
@pytest.mark.parametrize("surrogate", ["square", "exp", "hinge", "squared_hinge", "logistic", "sigmoid"])
@pytest.mark.parametrize("max_fpr,min_tpr", [(0.3, 0.0), (0.3, 0.4), (1.0, 0.0), (0.02, 0.0)])
@pytest.mark.parametrize("ties", [False, True])
def test_partial_auc_loss_matches_pair_matrix(device, surrogate, max_fpr, min_tpr, ties):
    s, y = batch(90, ties=ties, device=device)
    ours = value_and_grad(F.partial_auc_loss, s, y, max_fpr=max_fpr, min_tpr=min_tpr, surrogate=surrogate, margin=0.8)
    ref = value_and_grad(R.partial_auc_loss, s.cpu(), y.cpu(), max_fpr, min_tpr, surrogate, 0.8)
    torch.testing.assert_close(ours[0].cpu(), ref[0], rtol=1e-9, atol=1e-12)
    torch.testing.assert_close(ours[1].cpu(), ref[1], rtol=1e-9, atol=1e-12)


def test_partial_auc_loss_edge_counts(device):
    s, y = batch(40, device=device)
    # k = 0 (floor(0.01 * n-)): loss 0, zero gradient; one-class batch likewise
    for kw in (dict(max_fpr=0.01), dict(max_fpr=0.5, min_tpr=1.0)):
        v, g = value_and_grad(F.partial_auc_loss, s, y, **kw)
        assert float(v) == 0.0 and float(g.abs().sum()) == 0.0
    v, g = value_and_grad(F.partial_auc_loss, s, torch.ones_like(y), max_fpr=0.5)
    assert float(v) == 0.0 and float(g.abs().sum()) == 0.0
    # k = n: the full AUC loss
    full = F.pairwise_auc_loss(s, y, surrogate="square", margin=1.0)
    torch.testing.assert_close(F.partial_auc_loss(s, y, max_fpr=1.0), full)
    # k = 1 negative: only the hardest negative gets a gradient
    _, g = value_and_grad(F.partial_auc_loss, s, y, max_fpr=1.0 / int((y == 0).sum()) + 1e-12)
    assert int(((g != 0) & (y == 0)).sum()) == 1


def test_partial_auc_loss_gradcheck_and_dtypes():
    s, y = batch(30)
    s = s.requires_grad_()
    assert torch.autograd.gradcheck(
        lambda t: F.partial_auc_loss(t, y, max_fpr=0.4, min_tpr=0.3, surrogate="squared_hinge"), (s,)
    )
    for dt in (torch.float32, torch.float16, torch.bfloat16):
        v = F.partial_auc_loss(s.detach().to(dt), y, max_fpr=0.4)
        assert v.dtype == dt and torch.isfinite(v)
    m = losses.PartialAUCLoss(0.3, min_tpr=0.2, surrogate="hinge")
    torch.testing.assert_close(
        m(s.detach(), y), F.partial_auc_loss(s.detach(), y, max_fpr=0.3, min_tpr=0.2, surrogate="hinge")
    )


def test_hard_topk_large_n_runs():
    s = torch.randn(200_000)
    y = (torch.rand(200_000) < 0.1).long()
    v = F.partial_auc_loss(s.requires_grad_(), y, max_fpr=0.05, min_tpr=0.2, surrogate="squared_hinge")
    v.backward()
    assert torch.isfinite(v) and torch.isfinite(s.grad).all()


def test_partial_auc_loss_compacted_matches_weighted():
    # the CPU path compacts the selection; the CUDA path weights by the 0/1 mask: same numbers
    s, y = batch(500, ties=True)
    for surrogate in ("square", "squared_hinge", "logistic"):
        for reduction in ("mean", "sum"):
            mask = F.partial_auc_select(s, y, max_fpr=0.2, min_tpr=0.3)
            w = mask.double()
            want = value_and_grad(
                F.pairwise_auc_loss,
                s,
                y,
                surrogate=surrogate,
                margin=1.0,
                pos_weights=w,
                neg_weights=w,
                reduction=reduction,
            )
            ours = value_and_grad(
                F.partial_auc_loss,
                s,
                y,
                max_fpr=0.2,
                min_tpr=0.3,
                surrogate=surrogate,
                margin=1.0,
                rounding="floor",
                reduction=reduction,
            )
            torch.testing.assert_close(ours[0], want[0], rtol=1e-12, atol=1e-12)
            torch.testing.assert_close(ours[1], want[1], rtol=1e-12, atol=1e-12)
            assert float(ours[1][~mask].abs().sum()) == 0.0
