"""The contract of every registered torch.ops.torchauc op, driven by one table of sample inputs:
torch.library.opcheck (schema, fake impl, autograd registration, AOT dispatch) and
torch.compile(fullgraph=True) against eager, on every device. A registered op without an entry in
SAMPLES fails test_every_op_has_samples, so no family can skip its contract."""

import pytest
import torch

import torchauc

OPS = torch.ops.torchauc
SURROGATES = ("square", "exp", "hinge", "squared_hinge", "logistic", "sigmoid")
MC_SURROGATES = ("square", "exp", "hinge", "linear")


def _gen(seed):
    return torch.Generator().manual_seed(seed)


def _binary(n, device, seed=0):
    g = _gen(seed)
    s = torch.randn(n, generator=g, dtype=torch.float64)
    y = (torch.rand(n, generator=g) < 0.3).long()
    y[0], y[-1] = 1, 0
    return s.to(device), y.to(device)


def _pairwise(device):
    s, y = _binary(40, device)
    a = torch.rand(40, dtype=torch.float64, device=device)
    out = []
    for sur in SURROGATES:
        out += [
            (s.clone().requires_grad_(), y, None, None, sur, 1.0, "mean", True),
            (s, y, a.clone().requires_grad_(), a, sur, 0.5, "sum", True),
            (s, y, None, None, sur, 1.0, "mean", False),
            (s.clone().requires_grad_(), y, a, None, sur, 1.0, "mean", True, 0.5),
        ]
    return out


def _partial_auc_select(device):
    s, y = _binary(40, device, seed=1)
    return [(s, y, 0.3, 0.2, "floor"), (s.float(), y, 1.0, 0.0, "ceil"), (s, y.bool(), 0.0, 1.0, "round")]


def _columns(device, seed):
    """(40, 3) scores and labels: three independent problems, the last with no negatives."""
    g = _gen(seed)
    s = torch.randn(40, 3, generator=g, dtype=torch.float64)
    y = torch.rand(40, 3, generator=g) < 0.3
    y[0, :2], y[-1, :2], y[:, 2] = True, False, True
    return s.to(device), y.to(device)


def _partial_auc_exp_rows(device):
    s, y = _binary(40, device, seed=2)
    s2, y2 = _columns(device, seed=20)
    return [(s, y.bool(), 1.0, 0.5, "squared_hinge"), (s.float(), y, 0.3, 2.0, "hinge"), (s2, y2, 1.0, 0.5, "hinge")]


def _partial_auc_exp_cols(device):
    s, y = _binary(40, device, seed=3)
    scale = torch.rand(40, dtype=torch.float64, device=device)
    s2, y2 = _columns(device, seed=21)
    return [
        (s, y.bool(), scale, 1.0, 0.5, "hinge"),
        (s.float(), y, scale.float(), 0.3, 2.0, "squared_hinge"),
        (s2.float(), y2, torch.rand_like(s2), 1.0, 0.5, "squared_hinge"),
    ]


def _partial_auc_upauci(device):
    s, y = _binary(40, device, seed=12)
    s = torch.sigmoid(s)
    c = torch.rand(40, generator=_gen(13), dtype=torch.float64).to(device)
    p = torch.tensor([0.9, 0.1, 0.2, 0.5, 0.7, 0.3, 0.4], dtype=torch.float64, device=device)
    return [
        (s.clone().requires_grad_(), y, c.clone().requires_grad_(), p.clone().requires_grad_(), 0.3, 0.0, 0.1, True),
        (s.float().requires_grad_(), y.bool(), c.float(), p, 0.5, 0.4, 0.0, True),
        (s, y, c, p, 0.2, 0.1, 1.0, False),
    ]


def _multiclass(device):
    g = _gen(4)
    s = torch.randn(30, 4, generator=g, dtype=torch.float64).to(device)
    y = torch.randint(0, 4, (30,), generator=g).to(device)
    x = torch.randn(2, 3, 4, 4, generator=g, dtype=torch.float64).to(device)
    lab = torch.randint(0, 3, (2, 4, 4), generator=g)
    lab[0, 0, :2] = 255
    lab = lab.to(device)
    out = []
    for sur in MC_SURROGATES:
        out += [
            (s.clone().requires_grad_(), y, None, "none", sur, "ovo", 1.0, "present", True),
            (s, y, 3, "none", sur, "ova", 0.5, "xcurve", False),
            (x.clone().requires_grad_(), lab, 255, "sigmoid", sur, "ovo", 1.0, "present", True),
        ]
    return out


def _auroc_binary_stats(device):
    s, y = _binary(64, device, seed=5)
    w = torch.rand(64, dtype=torch.float64, device=device)
    return [(s, y, w), (torch.stack([s, -s], 1), torch.stack([y, y], 1), None)]


def _auroc_multiclass_stats(device):
    g = _gen(6)
    S = torch.randn(64, 4, generator=g, dtype=torch.float64).to(device)
    Y = torch.randint(0, 4, (64,), generator=g).to(device)
    return [(S, Y, None, -100), (S.float(), Y, torch.rand(64, dtype=torch.float64, device=device), 2)]


def _auroc_partial_stats(device):
    s, y = _binary(64, device, seed=7)
    return [(s, y, 0.5, 0.2), (s.float(), y, 1.0, 0.0)]


def _auroc_partial_area(device):
    s, y = _binary(64, device, seed=8)
    return [(s, y, torch.rand(64, dtype=torch.float64, device=device), 0.5), (s, y, None, 0.3)]


def _labels_with_objects(device):
    lab = torch.zeros(2, 12, 14, dtype=torch.long)
    lab[0, 2:6, 3:9] = 3
    lab[1, 7:11, 1:5] = 4
    lab[1, 0, :3] = 255
    return lab.to(device)


def _memory_bank_class_bbox(device):
    lab = _labels_with_objects(device)
    return [(lab, 5, 255), (lab.to(torch.uint8), 5, -1)]


def _memory_bank_gather(device):
    lab = _labels_with_objects(device)
    images = torch.randn(2, 3, 12, 14, generator=_gen(9)).to(device)
    req = torch.tensor([[0, 3, 1, 2, 5, 7, 0], [1, 4, 6, 0, 5, 6, 35]], device=device)
    return [(images, lab, req, torch.zeros(70, 3, device=device), torch.zeros(70, dtype=torch.bool, device=device))]


def _memory_bank_paste(device):
    lab = _labels_with_objects(device)
    images = torch.randn(2, 3, 12, 14, generator=_gen(10)).to(device)
    pool_img = torch.randn(12, 3, generator=_gen(11)).to(device)
    pool_mask = torch.ones(12, dtype=torch.bool, device=device)
    req = torch.tensor([[1, 4, 2, 2, 3, 4, 3, 4, 0, 0, 3, 4, 0]], device=device)
    return [(images, lab, pool_img, pool_mask, req)]


def _cml_triplet(device):
    g = _gen(12)
    u = torch.randn(6, 3, 4, generator=g, dtype=torch.float64).to(device)
    p = torch.randn(6, 4, generator=g, dtype=torch.float64).to(device)
    n = torch.randn(6, 5, 4, generator=g, dtype=torch.float64).to(device)
    items = torch.randn(7, 4, generator=g, dtype=torch.float64).to(device)
    ui, pi = torch.tensor([0, 5, 5, 2], device=device), torch.tensor([6, 0, 1, 1], device=device)
    ni = torch.randint(0, 7, (4, 3), generator=g).to(device)
    return [
        (
            u.clone().requires_grad_(),
            p.clone().requires_grad_(),
            n.clone().requires_grad_(),
            None,
            None,
            None,
            3.0,
            "sum",
        ),
        (u.float(), p.float(), n[:, 0].float(), None, None, None, 1.0, "mean"),
        (u.clone().requires_grad_(), items.clone().requires_grad_(), items, ui, pi, ni, 4.0, "sum"),
    ]


def _cml_triplet_backward(device):
    out = []
    for u, p, n, ui, pi, ni, m, red in _cml_triplet(device):
        u, p, n = u.detach(), p.detach(), n.detach()
        argmin = OPS.cml_triplet_loss(u, p, n, ui, pi, ni, m, red)[1]
        out.append((torch.tensor(1.5, dtype=u.dtype, device=device), u, p, n, ui, pi, ni, argmin, red))
    return out


def _cml_sample_negatives(device):
    indptr = torch.tensor([0, 3, 3, 7], device=device)
    indices = torch.tensor([0, 4, 5, 1, 2, 3, 9], device=device)
    return [(indptr, indices, torch.tensor([0, 2, 1, 0], device=device), 10, 6, 1234)]


def _cml_rank_counts(device):
    g = _gen(13)
    S = (torch.randint(-3, 4, (3, 9), generator=g).double() / 2).to(device)
    Q = torch.tensor([[-0.5, 0.5, float("inf")], [0.0, 1.0, 1.0], [float("inf")] * 3], dtype=torch.float64)
    QI = torch.tensor([[4, 2, 12], [7, 3, 5], [12, 12, 12]])
    tp, ti = torch.tensor([0, 2, 5, 5]), torch.tensor([2, 4, 3, 5, 7])
    rp, ri = torch.tensor([0, 1, 1, 3]), torch.tensor([6, 0, 8])
    Q, QI, tp, ti, rp, ri = (t.to(device) for t in (Q, QI, tp, ti, rp, ri))
    return [(S, 0, Q, QI, tp, ti, rp, ri), (S[:, 3:].float(), 3, Q.float(), QI, tp, ti, None, None)]


def _cml_dots_inputs(device):
    g = _gen(14)
    U = torch.randn(4, 5, generator=g, dtype=torch.float64).to(device)
    V = torch.randn(6, 5, generator=g, dtype=torch.float64).to(device)
    ptr, idx = torch.tensor([0, 2, 2, 5, 6], device=device), torch.tensor([1, 4, 0, 1, 5, 4], device=device)
    return U, V, ptr, idx


def _cml_gather_dots(device):
    U, V, ptr, idx = _cml_dots_inputs(device)
    return [(U.clone().requires_grad_(), V.clone().requires_grad_(), ptr, idx), (U.float(), V.float(), ptr, idx)]


def _cml_gather_dots_backward(device):
    U, V, ptr, idx = _cml_dots_inputs(device)
    w = torch.randn(6, generator=_gen(15), dtype=torch.float64).to(device)
    return [(w, U, V, ptr, idx), (w.float(), U.float(), V.float(), ptr, idx)]


def _sod_frames_batch(device):
    m = torch.zeros(2, 9, 11)
    m[0, 1:4, 2:6] = 1
    m[0, 6:8, 7:10] = 1
    m[1, 0, 0] = 1
    boxes = torch.tensor([[[2, 1, 6, 4], [7, 6, 10, 8]], [[0, 0, 1, 1], [0, 0, 0, 0]]], device=device)
    return m.to(device), boxes, torch.tensor([2, 1], device=device)


def _sod_frames(device):
    m, _, _ = _sod_frames_batch(device)
    return [(m, 0.5, 2, 4), ((m * 255).to(torch.uint8), 127.5, 0, 8)]


def _sod_si_loss(device):
    m, boxes, counts = _sod_frames_batch(device)
    p = torch.rand(2, 2, 9, 11, generator=_gen(12), dtype=torch.float64).to(device)
    return [
        (p.clone().requires_grad_(), m.double(), boxes, counts, 3, True),
        (p[:, :1].float(), m, boxes, torch.tensor([0, 1], device=device), 1, False),
        (p, m.double(), boxes, counts, 2, True),
    ]


def _sod_frame_stats(device):
    m, boxes, counts = _sod_frames_batch(device)
    p = torch.rand(2, 9, 11, generator=_gen(13)).to(device)
    thr = torch.linspace(0, 1, 10, device=device)
    return [(p, p * 0.5, m, boxes, counts, thr, False), (p.double(), p.double(), m, boxes, counts, thr, True)]


def _adauc_loss(device):
    s, y = _binary(40, device, seed=12)
    s = torch.sigmoid(s)

    def var(v, grad=False):
        return torch.tensor(v, dtype=torch.float64, device=device, requires_grad=grad)

    return [
        (s.clone().requires_grad_(), y, var(0.2, True), var(0.3, True), var(-0.1, True), None, 1.0, "canonical", True),
        (s.float(), y.bool(), var(0.2).float(), var(0.1).float(), var(0.5).float(), 0.25, 0.5, "xcurve", False),
        (s.view(-1, 1), y, var(0.0, True), var(0.0), var(1.0, True), 1.0, 1.0, "canonical", True),
    ]


def _aucm_moments(device):
    s, y = _columns(device, seed=14)
    return [(s, y), (s.float(), y.long()), (s[:1], y[:1].double())]


def _aucm_loss(device):
    s, y = _columns(device, seed=15)
    s = torch.sigmoid(s)
    g = _gen(16)

    def var(grad=False, dtype=torch.float64):
        return torch.rand(3, generator=g, dtype=dtype).to(device).requires_grad_(grad)

    m = OPS.aucm_moments(s, y)
    return [
        (s.clone().requires_grad_(), y, var(True), var(True), var(True), None, None, None, 1.0, "v1", True),
        (s.float(), y.long(), *(var(dtype=torch.float32) for _ in range(3)), var(), var(), None, 0.5, "v1", False),
        (s.clone().requires_grad_(), y.double(), var(), var(True), var(True), None, var(), m, 1.0, "v2", True),
    ]


def _adauc_pgd_step(device):
    g = _gen(13)
    x = torch.rand(4, 3, 5, generator=g, dtype=torch.float64).to(device)
    d = (torch.rand(4, 3, 5, generator=g, dtype=torch.float64).to(device) - 0.5) * 0.1
    grad = torch.randn(4, 3, 5, generator=g, dtype=torch.float64).to(device)
    return [(x, d, grad, 0.03, 0.01, "linf", 0.0, 1.0), (x.float(), d.float(), grad.float(), 0.5, 0.2, "l2", 0.0, 1.0)]


def _sam_lists(device, seed, n=3):
    """n parallel lists of parameter-like tensors (float64, one non-contiguous, one empty)."""
    g = _gen(seed)
    shapes = [(3, 4), (5,), (0,), (2, 3, 2)]
    return [[torch.randn(s, generator=g, dtype=torch.float64).to(device) for s in shapes] for _ in range(n)]


def _sam_perturb(device):
    p, d, out = _sam_lists(device, 14)
    d_strided = [torch.randn(4, 3, generator=_gen(15), dtype=torch.float64).to(device).t(), *d[1:]]
    norm = torch.tensor(2.5, dtype=torch.float64, device=device)
    return [
        (p, d, out, [0.05, 0.1, 0.05, 0.05], 1e-12, None),
        (p, d_strided, out, [0.2] * 4, 0.0, norm),
        ([t.float() for t in p], [t.float() for t in d], [t.float() for t in out], [0.05] * 4, 1e-16, None),
    ]


def _sam_sgd_step(device):
    p, g, buf = _sam_lists(device, 16)
    return [
        (p, g, buf, False, 0.1, 0.9, 0.1, 1e-3, True, False),
        (p, g, buf, True, 0.1, 0.9, 0.0, 0.0, False, True),
        ([t.float() for t in p], [t.float() for t in g], [], False, 0.05, 0.0, 0.0, 1e-2, False, False),
    ]


def _autkc_topk(device):
    g = _gen(12)
    s = torch.randint(-3, 4, (20, 7), generator=g).double().to(device) / 2  # many ties
    y = torch.randint(0, 7, (20,), generator=g).to(device)
    return [(s, y, 3, 0.0, False), (s.float(), y.int(), 7, 1.0, True), (s, y, 0, 0.0, False)]


def _autkc_loss_rows(device):
    g = _gen(15)
    s = torch.randint(-3, 4, (20, 7), generator=g).double().to(device) / 2  # many ties
    y = torch.randint(0, 7, (20,), generator=g).to(device)
    return [(s.clone().requires_grad_(), y, 3, 4, "square", True), (s.float().requires_grad_(), y, 2, 2, "hinge", True),
            (s, y, 1, 6, "logistic", False), (s.clone().requires_grad_(), y, 3, 2, "ce", True),
            (s.clone().requires_grad_(), y, 3, 2, "ce", True, "mean"), (s, y, 2, 3, "square", False, "mean"),
            (s.float().requires_grad_(), y, 2, 3, "exp", True, "sum")]  # fmt: skip


def _auroc_average_precision(device):
    s, y = _binary(64, device, seed=13)
    s2 = torch.randn(64, 3, generator=_gen(14), dtype=torch.float64).to(device)
    y2 = (torch.rand(64, 3, generator=_gen(15)) < 0.4).to(device)
    return [(s, y, None), (s.float(), y, torch.rand(64, dtype=torch.float64, device=device)), (s2, y2, None)]


def _grouped_pair_sums(device):
    g = _gen(16)
    q, x = torch.randn(9, generator=g, dtype=torch.float64), torch.randn(12, generator=g, dtype=torch.float64)
    grp = torch.tensor([0, 0, 1, 2, 2, 2, 0, 1, 2])
    off = torch.tensor([0, 5, 5, 12])  # group 1 has no items
    w = torch.rand(4, 12, generator=g, dtype=torch.float64)
    args = [
        (q, grp, x, off, w[:2], "logistic", 0.0, 1.5, 1.0),
        (q.float(), grp, x.float(), off, w.float(), "logistic", 0.0, -2.0, -1.0),
        (q, grp, x, off, w[:1], "squared_hinge", 1.0, 0.0, 1.0),
        (q, grp, x, off, w[:3], "barrier_hinge", 0.5, 2.0, -1.0),
    ]
    return [tuple(a.to(device) if isinstance(a, torch.Tensor) else a for a in t) for t in args]


def _ap_loss_step(device):
    """CPU only: on CUDA the AP losses compose grouped_pair_sums (the op has no CUDA kernel)."""
    if torch.device(device).type != "cpu":
        return []
    g = _gen(17)
    s = torch.randn(10, 3, generator=g, dtype=torch.float64)
    y = (torch.rand(10, 3, generator=g) < 0.4).float()
    y[0] = 1
    idx = torch.randperm(20, generator=g)[:10]
    u = torch.rand(2, 3 * 20, generator=g) + 0.5
    counted = torch.tensor([1, 0, 1])
    y1 = torch.zeros(10, 1)
    y1[[0, 4, 7]] = 1  # three positives: an index per positive
    return [
        (s, y, idx, None, u[0].clone(), u[1].clone(), 20, "squared_hinge", 1.0, 1.0, 0.9, None, True, True),
        (s.float(), y, idx, counted, u[0].clone(), u[1].clone(), 20, "logistic", 2.0, 2.0, 0.5, 1.5, True, True),
        (s[:, :1], y1, idx[:3], None, u[0, :20].double(), u[1, :20].double(), 20, "barrier_hinge", 0.5, 2.0,
         0.9, None, False, False),
    ]  # fmt: skip


SAMPLES = {
    "ap_loss_step": _ap_loss_step,
    "pairwise_auc_loss": _pairwise,
    "grouped_pair_sums": _grouped_pair_sums,
    "partial_auc_select": _partial_auc_select,
    "partial_auc_exp_rows": _partial_auc_exp_rows,
    "partial_auc_exp_cols": _partial_auc_exp_cols,
    "partial_auc_upauci": _partial_auc_upauci,
    "multiclass_auc_loss": _multiclass,
    "auroc_binary_stats": _auroc_binary_stats,
    "auroc_multiclass_stats": _auroc_multiclass_stats,
    "auroc_partial_stats": _auroc_partial_stats,
    "auroc_partial_area": _auroc_partial_area,
    "memory_bank_class_bbox": _memory_bank_class_bbox,
    "memory_bank_gather": _memory_bank_gather,
    "memory_bank_paste": _memory_bank_paste,
    "cml_triplet_loss": _cml_triplet,
    "cml_triplet_backward": _cml_triplet_backward,
    "cml_sample_negatives": _cml_sample_negatives,
    "cml_rank_counts": _cml_rank_counts,
    "cml_gather_dots": _cml_gather_dots,
    "cml_gather_dots_backward": _cml_gather_dots_backward,
    "sod_frames": _sod_frames,
    "sod_si_loss": _sod_si_loss,
    "sod_frame_stats": _sod_frame_stats,
    "adauc_loss": _adauc_loss,
    "adauc_pgd_step": _adauc_pgd_step,
    "aucm_moments": _aucm_moments,
    "aucm_loss": _aucm_loss,
    "sam_perturb": _sam_perturb,
    "sam_sgd_step": _sam_sgd_step,
    "autkc_topk": _autkc_topk,
    "autkc_loss_rows": _autkc_loss_rows,
    "auroc_average_precision": _auroc_average_precision,
}
MUTATES = {
    "ap_loss_step": (4, 5),
    "memory_bank_gather": (3, 4),
    "memory_bank_paste": (0, 1),
    "sam_perturb": (2,),
    "sam_sgd_step": (0, 2),
}  # argument positions written in place


def test_every_op_has_samples():
    assert set(torchauc.op_names()) == set(SAMPLES), "every registered op needs sample inputs in SAMPLES"


def _fresh(args):
    """Copies of the tensor arguments (mutating ops and autograd leaves must not share state)."""

    def copy(a):
        if isinstance(a, list) and any(isinstance(t, torch.Tensor) for t in a):
            return [copy(t) for t in a]
        if not isinstance(a, torch.Tensor):
            return a
        return a.detach().clone().requires_grad_(a.requires_grad)

    return tuple(copy(a) for a in args)


@pytest.mark.parametrize("name", sorted(SAMPLES))
def test_opcheck(name, device):
    for args in SAMPLES[name](device):
        torch.library.opcheck(getattr(OPS, name).default, _fresh(args))


@pytest.mark.parametrize("name", sorted(SAMPLES))
def test_compile_fullgraph_matches_eager(name, device):
    op = getattr(OPS, name).default
    for args in SAMPLES[name](device):
        torch._dynamo.reset()  # each sample has other constants: a fresh compile, not a recompile
        compiled = torch.compile(lambda *a: op(*a), fullgraph=True, backend="aot_eager")
        eager_args, compiled_args = _fresh(args), _fresh(args)
        with torch.no_grad():
            want, got = op(*eager_args), compiled(*compiled_args)
        want = [eager_args[i] for i in MUTATES[name]] if name in MUTATES else want
        got = [compiled_args[i] for i in MUTATES[name]] if name in MUTATES else got
        torch.testing.assert_close(got, want, rtol=0, atol=0, equal_nan=True)


def _leaves(args):
    flat = [t for a in args for t in (a if isinstance(a, list) else [a])]
    return [t for t in flat if isinstance(t, torch.Tensor) and t.requires_grad]


def _weighted_sum(outs):
    """A scalar that reaches every differentiable output with distinct weights (a plain sum would
    hide a gradient that is wrong by a per-output constant)."""
    outs = outs if isinstance(outs, (tuple, list)) else [outs]
    diff = [o for o in outs if isinstance(o, torch.Tensor) and o.requires_grad]
    return sum((o * (k + 1.5)).sum() for k, o in enumerate(diff)) if diff else None


DIFFERENTIABLE = [n for n in sorted(SAMPLES) if n not in MUTATES and any(_leaves(a) for a in SAMPLES[n]("cpu"))]


@pytest.mark.parametrize("name", DIFFERENTIABLE)
def test_compile_fullgraph_backward_matches_eager(name, device):
    """The compiled graph's backward (register_autograd / the C++ autograd kernels under AOTAutograd)
    gives eager's gradients."""
    op = getattr(OPS, name).default
    traced = 0
    for args in SAMPLES[name](device):
        if not _leaves(args):
            continue
        torch._dynamo.reset()
        compiled = torch.compile(lambda *a: _weighted_sum(op(*a)), fullgraph=True, backend="aot_eager")
        eager_args, compiled_args = _fresh(args), _fresh(args)
        want_loss, got_loss = _weighted_sum(op(*eager_args)), compiled(*compiled_args)
        if want_loss is None:
            continue
        want = torch.autograd.grad(want_loss, _leaves(eager_args), allow_unused=True)
        got = torch.autograd.grad(got_loss, _leaves(compiled_args), allow_unused=True)
        torch.testing.assert_close(got_loss, want_loss, equal_nan=True)
        torch.testing.assert_close(got, want, equal_nan=True)
        traced += 1
    assert traced > 0, f"{name}: no sample reached a differentiable output"
