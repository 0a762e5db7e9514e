"""torchauc.compat.xcurve against the installed XCurve 1.1.0 (its .cuda() calls neutralised on CPU):
equal values and gradients where XCurve is right, XCurve's value behind the documented option where
it is wrong, and the open-set loss and metrics, on random batches with ties and one-class batches."""

import importlib
import os
import sys
import types

import numpy as np
import pytest
import torch

from torchauc import autkc as A
from torchauc.compat import xcurve as X

XCurve = pytest.importorskip("XCurve")


@pytest.fixture
def xc(monkeypatch):
    """XCurve's modules, runnable on CPU: .cuda() is the identity, device='cuda' becomes the CPU."""
    real_zeros = torch.zeros

    def zeros(*a, **k):
        if k.get("device") == "cuda":
            k["device"] = "cpu"
        return real_zeros(*a, **k)

    monkeypatch.setattr(torch.Tensor, "cuda", lambda self, *a, **k: self)
    monkeypatch.setattr(torch.nn.Module, "cuda", lambda self, *a, **k: self)
    monkeypatch.setattr(torch, "zeros", zeros)
    # XCurve.AUPRC's package __init__ needs torchvision and yaml files: load its losses directly
    pkg = types.ModuleType("XCurve.AUPRC")
    pkg.__path__ = [os.path.join(os.path.dirname(XCurve.__file__), "AUPRC")]
    monkeypatch.setitem(sys.modules, "XCurve.AUPRC", pkg)
    return types.SimpleNamespace(
        auroc=importlib.import_module("XCurve.AUROC.losses"),
        partial=importlib.import_module("XCurve.AUROC.losses.PartialAUROC"),
        autkc=importlib.import_module("XCurve.AUTKC.losses"),
        openauc=importlib.import_module("XCurve.OpenAUC.losses"),
        metrics=importlib.import_module("XCurve.Metrics"),
        auprc=importlib.import_module("XCurve.AUPRC.losses"),
    )


def probs(n, seed=0, classes=2):
    """float32 probabilities (XCurve's AUROC losses mix in float32 constants) with ties."""
    g = torch.Generator().manual_seed(seed)
    if classes == 2:
        p = torch.randint(0, 9, (n,), generator=g).double() / 8  # ties
        y = torch.randint(0, 2, (n,), generator=g)
        y[:2] = torch.tensor([0, 1])
        return p.float(), y
    p = torch.softmax(torch.randn(n, classes, generator=g), 1)
    y = torch.arange(n) % classes
    return p, y[torch.randperm(n, generator=g)]


def logits(B, C, seed=0):
    g = torch.Generator().manual_seed(seed)
    return torch.randn(B, C, generator=g, dtype=torch.float64), torch.randint(0, C, (B,), generator=g)


def same(ours, theirs, atol=1e-6):
    torch.testing.assert_close(torch.as_tensor(ours).double().reshape(()), torch.as_tensor(theirs).double().reshape(()),
                               rtol=1e-5, atol=atol)  # fmt: skip


# ---------------------------------------------------------------- AUROC losses
@pytest.mark.parametrize("name", ["SquareAUCLoss", "ExpAUCLoss"])
@pytest.mark.parametrize("gamma", [1, 0.5])
def test_binary_square_exp(xc, name, gamma):
    p, y = probs(64, seed=1)
    same(getattr(X, name)(2, gamma)(p.view(-1, 1), y), getattr(xc.auroc, name)(2, gamma)(p.view(-1, 1), y))


@pytest.mark.parametrize("name", ["SquareAUCLoss", "ExpAUCLoss"])
@pytest.mark.parametrize("transform", ["ovo", "ova"])
def test_multiclass_square_exp(xc, name, transform):
    p, y = probs(60, seed=2, classes=4)
    ours = getattr(X, name)(4, 1, transform, normalization="xcurve")(p, y)
    same(ours, getattr(xc.auroc, name)(4, 1, transform)(p, y))
    # every class present: the normalisations agree, except XCurve's ova sums over the C classes
    same(getattr(X, name)(4, 1, transform)(p, y) * (4 if transform == "ova" else 1), ours)


@pytest.mark.parametrize("transform", ["ovo", "ova"])
def test_hinge_xcurve_value_behind_option(xc, transform):
    p, y = probs(60, seed=3, classes=4)
    same(X.HingeAUCLoss(4, 1, transform, normalization="xcurve")(p, y), xc.auroc.HingeAUCLoss(4, 1, transform)(p, y))
    pb, yb = probs(64, seed=4)
    theirs = xc.auroc.HingeAUCLoss(2, 1)(pb.view(-1, 1), yb)
    same(X.HingeAUCLoss(2, 1, normalization="xcurve")(pb, yb), theirs)
    pos = yb == 1
    correct = 1 - pb[pos].mean() + pb[~pos].mean()  # gamma - (mean s+ - mean s-)
    same(X.HingeAUCLoss(2, 1)(pb, yb), correct)
    assert abs(float(correct) - float(theirs)) > 1e-3


@pytest.mark.parametrize("transform", ["ovo", "ova"])
@pytest.mark.parametrize("classes", [3, 10])
def test_hinge_xcurve_gradient_and_absent_class(xc, transform, classes):
    # the closed form (one product with the count table W[y]) has XCurve's gradient, and its NaN
    # when a class is absent
    p, y = probs(90, seed=6, classes=classes)
    ours, theirs = p.clone().requires_grad_(), p.clone().requires_grad_()
    X.HingeAUCLoss(classes, 0.7, transform, normalization="xcurve")(ours, y).backward()
    xc.auroc.HingeAUCLoss(classes, 0.7, transform)(theirs, y).backward()
    torch.testing.assert_close(ours.grad, theirs.grad, rtol=1e-5, atol=1e-9)
    y = torch.where(y == 1, torch.zeros_like(y), y)  # class 1 absent
    assert torch.isnan(xc.auroc.HingeAUCLoss(classes, 0.7, transform)(p, y))
    assert torch.isnan(X.HingeAUCLoss(classes, 0.7, transform, normalization="xcurve")(p, y))


def test_one_class_batch_and_absent_class(xc):
    p, y = probs(30, seed=5, classes=3)
    y = torch.where(y == 2, torch.zeros_like(y), y)  # class 2 absent
    assert torch.isnan(xc.auroc.SquareAUCLoss(3)(p, y))
    assert torch.isfinite(X.SquareAUCLoss(3)(p, y))
    pb = torch.rand(10, dtype=torch.float64)
    assert torch.isfinite(X.SquareAUCLoss(2)(pb, torch.zeros(10, dtype=torch.long)))


@pytest.mark.parametrize("auc_type", ["OP", "TP"])
@pytest.mark.parametrize("scheme", ["Poly", "Exp"])
@pytest.mark.parametrize("reduction", ["mean", "sum"])
def test_relaxed_pauc(xc, monkeypatch, auc_type, scheme, reduction):
    with pytest.raises(NameError):  # XCurve 1.1.0's constructor refers to an undefined PAUCLoss
        xc.partial.RelaxedPAUCLoss()
    monkeypatch.setattr(xc.partial, "PAUCLoss", xc.partial.RelaxedPAUCLoss, raising=False)
    p, y = probs(50, seed=6)
    p = p.clamp(0.01, 0.99).requires_grad_()
    kw = dict(gamma=2.0, weight_scheme=scheme, reduction=reduction, AUC_type=auc_type)
    theirs = xc.partial.RelaxedPAUCLoss(**kw)(p, y.double())
    ours = X.RelaxedPAUCLoss(**kw, margin=None)(p, y)
    same(ours, theirs)
    (g1,) = torch.autograd.grad(ours, p)
    (g2,) = torch.autograd.grad(theirs, p)
    torch.testing.assert_close(g1, g2)
    assert not torch.allclose(X.RelaxedPAUCLoss(**kw)(p, y), ours)  # default: the paper's margin 1


@pytest.mark.parametrize("auc_type", ["OP", "TP"])
def test_ins_relaxed_pauc(xc, auc_type):
    p, y = probs(50, seed=7)
    theirs = xc.partial.InsRelaxedPAUCLoss(gamma=2, AUC_type=auc_type, reg_a=0.1, reg_b=0.2)
    ours = X.InsRelaxedPAUCLoss(gamma=2, AUC_type=auc_type, reg_a=0.1, reg_b=0.2)
    g = torch.Generator().manual_seed(0)
    with torch.no_grad():
        ours.a.copy_(torch.rand(10, generator=g, dtype=torch.float64))
        ours.b.copy_(torch.rand(8, generator=g, dtype=torch.float64))
        theirs.a.copy_(ours.a)
        theirs.b.copy_(ours.b)
    same(ours(p, y), theirs(p, y))


@pytest.mark.parametrize("alpha", [1, 0.6])
def test_unbiased_pauc(xc, alpha):
    p, y = probs(50, seed=8)
    same(X.UnbiasedPAUCLoss(alpha, 0.3, "cpu")(p, y), xc.partial.UnbiasedPAUCLoss(alpha, 0.3, "cpu")(p, y), atol=1e-6)


# ---------------------------------------------------------------- AUTKC
@pytest.mark.parametrize("surrogate", ["Sq", "Exp", "Logit", "Hinge"])
@pytest.mark.parametrize("K", [1, 3])
def test_autkc_xcurve_terms(xc, surrogate, K):
    x, y = logits(40, 10, seed=9)
    x1, x2 = x.clone().requires_grad_(), x.clone().requires_grad_()
    theirs = xc.autkc.StandardAUTKCLoss(surrogate, K, 0)(x1, y, epoch=1)
    ours = X.StandardAUTKCLoss(surrogate, K, 0, terms="xcurve")(x2, y, epoch=1)
    same(ours, theirs)
    theirs.backward()
    ours.backward()
    torch.testing.assert_close(x2.grad, x1.grad)
    fixed = X.StandardAUTKCLoss(surrogate, K, 0)(x, y, epoch=1)
    same(fixed, A.autkc_loss(x, y, k=K, surrogate={"Sq": "square", "Exp": "exp", "Logit": "logistic",
                                                    "Hinge": "hinge"}[surrogate]))  # fmt: skip
    same(X.StandardAUTKCLoss(surrogate, K, 5)(x, y, epoch=1), xc.autkc.StandardAUTKCLoss(surrogate, K, 5)(x, y, 1))


@pytest.mark.parametrize("k", [1, 2, 4])
def test_ce_and_base_hinge(xc, k):
    x, y = logits(30, 8, seed=10)
    x[0, y[0]] = x.max() + 1  # XCurve scores the label with the batch max: keep that max untied
    x1, x2 = x.clone().requires_grad_(), x.clone().requires_grad_()
    theirs, ours = xc.autkc.CETopKLoss(k)(x1, y), X.CETopKLoss(k)(x2, y)
    same(ours, theirs)
    theirs.backward()
    ours.backward()
    torch.testing.assert_close(x2.grad, x1.grad)
    same(X.BaseHingeLoss()(x, y), xc.autkc.BaseHingeLoss()(x, y))


@pytest.mark.parametrize("loss_type", ["l1", "l2", "l3", "l4", "l5"])
@pytest.mark.parametrize("k", [1, 3])
def test_hinge_topk(xc, loss_type, k):
    x, y = logits(30, 8, seed=11)
    label = "zero" if loss_type in ("l1", "l4") else "exclude"
    x1, x2 = x.clone().requires_grad_(), x.clone().requires_grad_()
    theirs = xc.autkc.HingeTopKLoss(k, loss_type)(x1, y)
    ours = X.HingeTopKLoss(k, loss_type, label=label, xcurve_broadcast=True)(x2, y)
    same(ours, theirs)
    theirs.backward()
    ours.backward()
    torch.testing.assert_close(x2.grad, x1.grad)
    # the default pairs each row with its own label (XCurve averages over all B x B row pairs)
    same(
        X.HingeTopKLoss(k, loss_type, label=label)(x, y), A.hinge_topk_loss(x, y, k=k, loss_type=loss_type, label=label)
    )


@pytest.mark.parametrize("loss_type", ["l1", "l3", "l5"])
@pytest.mark.parametrize("dtype", [torch.float32, torch.float64])
def test_hinge_topk_broadcast_value_by_sort_with_ties(xc, loss_type, dtype):
    # XCurve's value (every row's terms against every row's label score) is computed by a sort and
    # prefix sums; scores on a grid of quarters make many terms tie exactly with label scores
    g = torch.Generator().manual_seed(5)
    x = (torch.randint(-8, 9, (200, 12), generator=g).double() / 4).to(dtype)
    y = torch.randint(0, 12, (200,), generator=g)
    label = "zero" if loss_type == "l1" else "exclude"
    x1, x2 = x.clone().requires_grad_(), x.clone().requires_grad_()
    theirs = xc.autkc.HingeTopKLoss(4, loss_type)(x1, y)
    ours = X.HingeTopKLoss(4, loss_type, label=label, xcurve_broadcast=True)(x2, y)
    assert ours.dtype == dtype
    same(ours, theirs)
    theirs.backward()
    ours.backward()
    torch.testing.assert_close(x2.grad, x1.grad)
    x[3, y[3]] = float("nan")  # a NaN label score: NaN, as XCurve
    assert torch.isnan(xc.autkc.HingeTopKLoss(4, loss_type)(x, y))
    assert torch.isnan(X.HingeTopKLoss(4, loss_type, label=label, xcurve_broadcast=True)(x, y))


@pytest.mark.parametrize("loss_type", ["l1", "l2", "l3", "l4", "l5"])
def test_hinge_topk_broadcast_is_a_defect(xc, loss_type):
    # row 0 is classified with a wide margin, row 1 is not: XCurve also pairs row 0's competitors
    # with row 1's label score and the reverse
    x = torch.tensor([[9.0, 0.0, 0.0, 0.0], [0.0, 0.5, 0.0, 3.0]], dtype=torch.float64)
    y = torch.tensor([0, 1])
    label = "zero" if loss_type in ("l1", "l4") else "exclude"
    theirs = xc.autkc.HingeTopKLoss(1, loss_type)(x, y)
    per_row = X.HingeTopKLoss(1, loss_type, label=label)(x, y)
    same(X.HingeTopKLoss(1, loss_type, label=label, xcurve_broadcast=True)(x, y), theirs)
    c, x_y = A.hinge_topk_terms(x, y, k=1, loss_type=loss_type, label=label)
    same(per_row, torch.clamp_min(c - x_y, 0).mean())
    assert abs(float(per_row) - float(theirs)) > 0.1
    with pytest.raises(ValueError, match="loss_type"):
        X.HingeTopKLoss(1)


def test_hinge_topk_label_zero_is_a_defect(xc):
    # all competitors negative: XCurve's l1 picks the label's 0 as the "k-th competitor"
    x = -torch.rand(4, 5, dtype=torch.float64) - 1
    y = torch.tensor([0, 1, 2, 3])
    x[torch.arange(4), y] = -0.5
    theirs = xc.autkc.HingeTopKLoss(1, "l1")(x, y)
    same(X.HingeTopKLoss(1, "l1", label="zero", xcurve_broadcast=True)(x, y), theirs)
    same(X.HingeTopKLoss(1, "l1")(x, y), torch.clamp_min(1 + x.scatter(1, y[:, None], -9).max(1)[0] + 0.5, 0).mean())
    assert float(theirs) == pytest.approx(1.5)


# ---------------------------------------------------------------- OpenAUC
class Post(torch.nn.Module):
    def __init__(self):
        super().__init__()
        self.lin = torch.nn.Linear(6, 5).double()

    def forward(self, m):
        return self.lin(m)


@pytest.mark.parametrize("B", [16, 17])
def test_open_auc_loss(xc, B):
    torch.manual_seed(0)
    post = Post()
    manifolds = torch.randn(B, 6, dtype=torch.float64, requires_grad=True)
    labels = torch.randint(0, 5, (B,))
    logits_ = post(manifolds)
    logits_ = logits_ + 3 * torch.nn.functional.one_hot(labels, 5)  # most real samples are hits
    close = xc.openauc.Softmax(temp=1.0, label_smoothing=0.1)
    np.random.seed(3)
    _, theirs = xc.openauc.StandardOpenAUCLoss(close, 2.0, 0.5)(logits_, labels, post, manifolds)
    np.random.seed(3)
    h = B // 2
    perm, lam = torch.as_tensor(np.random.permutation(np.arange(h))), np.random.beta(2.0, 2.0)
    ours_close = X.Softmax(temp=1.0, label_smoothing=0.1)
    same(ours_close(logits_, labels)[1], close(logits_, labels)[1])
    drop = X.StandardOpenAUCLoss(ours_close, 2.0, 0.5, odd_batch="drop")
    _, ours = drop(logits_, labels, post, manifolds, perm=perm, lam=lam)
    same(ours, theirs)
    _, mixed = X.StandardOpenAUCLoss(ours_close, 2.0, 0.5)(logits_, labels, post, manifolds, perm=perm, lam=lam)
    if B % 2:  # XCurve silently drops the AUC term on an odd batch; ours keeps it
        assert float(mixed) > float(theirs)
    else:
        same(mixed, theirs)
    g = torch.Generator().manual_seed(5)
    a = X.StandardOpenAUCLoss(ours_close, 2.0, 0.5, generator=g)(logits_, labels, post, manifolds)[1]
    g.manual_seed(5)
    b = X.StandardOpenAUCLoss(ours_close, 2.0, 0.5, generator=g)(logits_, labels, post, manifolds)[1]
    same(a, b)
    a.backward()
    assert manifolds.grad is not None and torch.isfinite(manifolds.grad).all()


def test_open_auc_loss_without_close_loss_is_cross_entropy():
    torch.manual_seed(1)
    post = Post()
    manifolds = torch.randn(16, 6, dtype=torch.float64)
    labels = torch.randint(0, 5, (16,))
    logits_ = post(manifolds)
    perm, lam = torch.randperm(8), 0.3
    ce = X.StandardOpenAUCLoss(lambda z, y: (z, torch.nn.functional.cross_entropy(z, y)), 2.0, 0.5)
    _, want = ce(logits_, labels, post, manifolds, perm=perm, lam=lam)
    _, got = X.StandardOpenAUCLoss(None, 2.0, 0.5)(logits_, labels, post, manifolds, perm=perm, lam=lam)
    same(got, want)


# ---------------------------------------------------------------- metrics
def test_topk_metrics(xc):
    x, y = logits(200, 10, seed=12)  # continuous scores: no ties, so torch.topk's tie order is moot
    for ours, theirs in zip(X.TopkAcc(x, y, (1, 3, 5)), xc.metrics.TopkAcc(x, y, (1, 3, 5))):
        same(ours, theirs)
    for ours, theirs in zip(X.AUTKC(x, y, (1, 3, 5)), xc.metrics.AUTKC(x, y, (1, 3, 5))):
        same(ours, theirs)
    xt = (x * 2).round() / 2  # ties: both count a tie with the label as a miss
    for ours, theirs in zip(X.AUTKC(xt, y, (1, 3)), xc.metrics.AUTKC(xt, y, (1, 3))):
        same(ours, theirs)


def test_open_auroc(xc):
    g = torch.Generator().manual_seed(13)
    known = torch.randint(0, 10, (300,), generator=g).double() / 10
    unknown = torch.randint(0, 10, (200,), generator=g).double() / 10 + 0.2
    pred = torch.randint(0, 4, (300,), generator=g)
    lab = torch.randint(0, 4, (300,), generator=g)
    theirs = xc.metrics.OpenAUC(known.numpy(), unknown.numpy(), pred.numpy(), lab.numpy())
    same(X.OpenAUC(known, unknown, pred, lab), theirs)
    closed = torch.nn.functional.one_hot(pred, 4).double()
    from torchauc.metrics.functional import open_auroc
    from torchauc.reference.auroc import open_auroc_pairs

    scores = torch.cat([known, unknown])
    is_known = torch.cat([torch.ones(300), torch.zeros(200)])
    labels = torch.cat([lab, torch.full((200,), -1)])
    got = open_auroc(torch.cat([closed, torch.zeros(200, 4)]), scores, labels, is_known)
    same(got, theirs)
    same(got, open_auroc_pairs(scores, is_known, torch.cat([pred == lab, torch.zeros(200, dtype=torch.bool)])))
    with pytest.raises(ValueError, match="undefined"):
        open_auroc(closed, known, lab, torch.ones(300))


# ---------------------------------------------------------------- AUPRC
def l2(x):
    return x / x.norm(dim=1, keepdim=True)


@pytest.mark.parametrize("ns,nc", [(4, 5), (3, 4)])
def test_list_stable_auprc(xc, ns, nc):
    g = torch.Generator().manual_seed(14)
    cnt = [5, 9, 3, 7, 4, 6, 8]
    ids = torch.randperm(len(cnt), generator=g)[:nc]
    targets = ids.repeat_interleave(ns)
    theirs = xc.auprc.ListStableAUPRC(num_sample_per_id=ns)
    theirs.update_cnt_per_id(cnt)
    ours = X.ListStableAUPRC(num_sample_per_id=ns)
    ours.update_cnt_per_id(cnt)
    for _ in range(3):  # the quantile EMA evolves over the steps
        f = l2(torch.randn(nc * ns, 8, generator=g)).requires_grad_()
        f2 = f.detach().clone().requires_grad_()
        t, o = theirs(f, targets), ours(f2, targets)
        same(o, t, atol=1e-5)
        t.backward()
        o.backward()
        torch.testing.assert_close(f2.grad, f.grad, rtol=1e-4, atol=1e-6)
        torch.testing.assert_close(ours.v, theirs.criterion[0]["loss_fn"].v, rtol=1e-5, atol=1e-6)
    assert ours.param_groups() == []
    sd = ours.state_dict()
    fresh = X.ListStableAUPRC(num_sample_per_id=ns)
    fresh.load_state_dict(sd)
    torch.testing.assert_close(fresh.v, ours.v)


# ---------------------------------------------------------------- AdAUC under XCurve's names
@pytest.mark.parametrize("name", ["AdvAUROCLoss", "RegAdvAUROCLoss"])
@pytest.mark.parametrize("imratio", [0.2, None])
def test_adv_auroc_losses(xc, name, imratio):
    theirs_mod = importlib.import_module("XCurve.AUROC.losses.AdversarialAUROC")
    p, y = probs(50, seed=11)
    s = p.reshape(-1, 1).requires_grad_()
    theirs = getattr(theirs_mod, name)(imratio=imratio, a=0.3, b=0.1, alpha=0.4)
    xcurve_form = getattr(X, name)(imratio=imratio, a=0.3, b=0.1, alpha=0.4, form="xcurve")
    lt, lo = theirs(s, y), xcurve_form(s, y)
    same(lo, lt)
    gt = torch.autograd.grad(lt, (s, theirs.a, theirs.b, theirs.alpha))
    go = torch.autograd.grad(lo, (s, xcurve_form.a, xcurve_form.b, xcurve_form.alpha))
    for x, z in zip(go, gt):
        torch.testing.assert_close(x.double(), z.double().reshape(x.shape), rtol=1e-5, atol=1e-6)
    # default: the canonical p(1-p) alpha^2, not XCurve's p alpha^2 (differs whenever alpha != 0)
    canonical = getattr(X, name)(imratio=imratio, a=0.3, b=0.1, alpha=0.4)(s, y)
    assert not torch.isclose(canonical.double(), lt.detach().double())
