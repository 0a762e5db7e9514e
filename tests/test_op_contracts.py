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
        ]
    return out


def _partial_auc_select(device):
    s, y = _binary(40, device, seed=1)
    return [(s, y, 0.3, 0.2, "floor"), (s.float(), y, 1.0, 0.0, "ceil"), (s, y.bool(), 0.0, 1.0, "round")]


def _partial_auc_exp_rows(device):
    s, y = _binary(40, device, seed=2)
    return [(s, y.bool(), 1.0, 0.5, "squared_hinge"), (s.float(), y, 0.3, 2.0, "hinge")]


def _partial_auc_exp_cols(device):
    s, y = _binary(40, device, seed=3)
    scale = torch.rand(40, dtype=torch.float64, device=device)
    return [(s, y.bool(), scale, 1.0, 0.5, "hinge"), (s.float(), y, scale.float(), 0.3, 2.0, "squared_hinge")]


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


def _autkc_topk(device):
    g = _gen(12)
    s = torch.randint(-3, 4, (20, 7), generator=g).double().to(device) / 2  # many ties
    y = torch.randint(0, 7, (20,), generator=g).to(device)
    return [(s, y, 3, 0.0, False), (s.float(), y.int(), 7, 1.0, True), (s, y, 0, 0.0, False)]


def _auroc_average_precision(device):
    s, y = _binary(64, device, seed=13)
    s2 = torch.randn(64, 3, generator=_gen(14), dtype=torch.float64).to(device)
    y2 = (torch.rand(64, 3, generator=_gen(15)) < 0.4).to(device)
    return [(s, y, None), (s.float(), y, torch.rand(64, dtype=torch.float64, device=device)), (s2, y2, None)]


SAMPLES = {
    "pairwise_auc_loss": _pairwise,
    "partial_auc_select": _partial_auc_select,
    "partial_auc_exp_rows": _partial_auc_exp_rows,
    "partial_auc_exp_cols": _partial_auc_exp_cols,
    "multiclass_auc_loss": _multiclass,
    "auroc_binary_stats": _auroc_binary_stats,
    "auroc_multiclass_stats": _auroc_multiclass_stats,
    "auroc_partial_stats": _auroc_partial_stats,
    "auroc_partial_area": _auroc_partial_area,
    "memory_bank_class_bbox": _memory_bank_class_bbox,
    "memory_bank_gather": _memory_bank_gather,
    "memory_bank_paste": _memory_bank_paste,
    "autkc_topk": _autkc_topk,
    "auroc_average_precision": _auroc_average_precision,
}
MUTATES = {"memory_bank_gather": (3, 4), "memory_bank_paste": (0, 1)}  # argument positions written in place


def test_every_op_has_samples():
    assert set(torchauc.op_names()) == set(SAMPLES), "every registered op needs sample inputs in SAMPLES"


def _fresh(args):
    """Copies of the tensor arguments (mutating ops and autograd leaves must not share state)."""

    def copy(a):
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
