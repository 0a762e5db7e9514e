"""Issue 12: a dataset index repeated in one batch (a sampler drawing with replacement, DualSampler's
oversampled positives). LibAUC writes its per-sample state with ``state[index] = new``: the CPU stores
the entries in batch order, so a repeated index keeps its last entry's value, which LibAUC's later reads
of ``state[index]`` see; CUDA leaves the order of writes to one address undefined. Every indexed state
write of the library must give that in-order result whatever the device's write order: emulated here
by storing every indexed write last to first (put_, index_copy_, index_put_, x[idx] = v), in the forms
taken on CPU tensors and in CUDA's (forced on CPU tensors), against LibAUC run on the CPU in order."""

import contextlib

import pytest
import torch
from hypothesis import given
from hypothesis import strategies as st

from torchauc._core import devices
from torchauc._core.state_writes import LastWritten, last_occurrence
from torchauc.compat import libauc as C
from torchauc.compat import libauc_ap as A

L = pytest.importorskip("libauc.losses")

_T = torch.Tensor
_PUT, _INDEX_COPY, _INDEX_PUT, _SETITEM = _T.put_, _T.index_copy_, _T.index_put_, _T.__setitem__


def _put(self, index, source, accumulate=False):
    return _PUT(self, index.reshape(-1).flip(0), source.reshape(-1).flip(0), accumulate)


def _index_copy(self, dim, index, source):
    return _INDEX_COPY(self, dim, index.flip(0), source.flip(dim))


def _flippable(index, value):
    return (
        isinstance(index, torch.Tensor)
        and index.dim() == 1
        and index.dtype == torch.long
        and isinstance(value, torch.Tensor)
        and value.dim() >= 1
        and value.shape[0] == index.numel()
    )


def _index_put(self, indices, values, accumulate=False):
    if len(indices) == 1 and _flippable(indices[0], values):
        indices, values = (indices[0].flip(0),), values.flip(0)
    return _INDEX_PUT(self, indices, values, accumulate)


def _setitem(self, key, value):
    first = key[0] if isinstance(key, tuple) else key
    if _flippable(first, value):
        key = (first.flip(0), *key[1:]) if isinstance(key, tuple) else first.flip(0)
        value = value.flip(0)
    return _SETITEM(self, key, value)


@contextlib.contextmanager
def reversed_writes():
    """Every indexed write of a tensor stores its entries last to first: a device on which the first
    write to a repeated address lands last (CUDA's order is undefined)."""
    patched = {"put_": _put, "index_copy_": _index_copy, "index_put_": _index_put, "__setitem__": _setitem}
    try:
        for name, fn in patched.items():
            setattr(_T, name, fn)
        yield
    finally:
        for name, fn in zip(patched, (_PUT, _INDEX_COPY, _INDEX_PUT, _SETITEM)):
            setattr(_T, name, fn)


@pytest.fixture(params=["host", "device"])
def form(request, monkeypatch):
    """The batch form of the LibAUC pAUC losses: compacted with host sizes (CPU tensors) or dense with
    the sizes on the device (CUDA's, forced here on CPU tensors)."""
    if request.param == "device":
        monkeypatch.setattr(devices, "host_reads_free", lambda t: False)
    return request.param


def test_reversed_writes_reverse_a_plain_write():
    # the emulation bites: without last-value writes, a repeated index keeps its first value
    i, v = torch.tensor([1, 2, 1]), torch.tensor([5.0, 6.0, 7.0])
    with reversed_writes():
        assert torch.zeros(3).put_(i, v).tolist() == [0, 5, 6]
        x = torch.zeros(3)
        x[i] = v
        assert x.tolist() == [0, 5, 6]
        assert torch.zeros(3).index_copy_(0, i, v).tolist() == [0, 5, 6]
    assert torch.zeros(3).put_(i, v).tolist() == [0, 7, 6]


@given(st.lists(st.integers(0, 6), max_size=40))
def test_last_occurrence_is_the_last_equal_entry(values):
    index = torch.tensor(values, dtype=torch.long)
    want = [max(k for k, w in enumerate(values) if w == v) for v in values]
    assert last_occurrence(index).tolist() == want


@given(st.lists(st.integers(0, 9), min_size=1, max_size=40), st.integers(0, 2**31 - 1))
def test_last_written_put_is_the_in_order_write(at, seed):
    at = torch.tensor(at, dtype=torch.long)
    v = torch.rand(at.numel(), generator=torch.Generator().manual_seed(seed), dtype=torch.float64)
    want = torch.full((10,), -1.0, dtype=torch.float64)
    for k in range(at.numel()):  # the sequential write
        want[int(at[k])] = v[k]
    written = LastWritten(at)
    with reversed_writes():
        got = written.put(torch.full((10,), -1.0, dtype=torch.float64), v)
    assert torch.equal(got, want)
    assert torch.equal(written.of(v), want[at])  # what a read of state[at] gives back


def _repeated_index(g, n, data_len):
    """A batch's dataset indices with many repeats (drawn with replacement)."""
    return torch.randint(0, data_len, (n,), generator=g)


PAUC_CASES = [
    ("pAUC_CVaR_Loss", dict(pos_len=10, beta=0.3, eta=0.5)),
    ("pAUC_DRO_Loss", dict(Lambda=0.7, gamma=0.6)),
    ("tpAUC_KL_Loss", dict(tau=0.8, Lambda=0.6, gammas=(0.5, 0.7))),
]


def _step_both(ref, ours, s, y, idx):
    """One step of the anchor (writes in order) and of ours (writes reversed): losses, score gradients."""
    s1, s2 = s.clone().requires_grad_(), s.clone().requires_grad_()
    l1 = ref(s1, y, idx)
    with reversed_writes():
        l2 = ours(s2, y, idx)
    (g1,) = torch.autograd.grad(l1, s1)
    (g2,) = torch.autograd.grad(l2, s2)
    return l1, l2, g1, g2


@pytest.mark.parametrize("name,kw", PAUC_CASES)
@pytest.mark.parametrize("full_index", [True, False])
def test_libauc_pauc_repeated_indices_vs_libauc(name, kw, full_index, form):
    n, data_len = 60, 25
    ref = getattr(L, name)(data_len=data_len, device="cpu", **kw)
    ours = getattr(C, name)(data_len=data_len, device="cpu", **kw)
    g = torch.Generator().manual_seed(4)
    for _ in range(4):
        s = torch.rand(n, generator=g)
        y = (torch.rand(n, generator=g) < 0.4).long()
        idx = _repeated_index(g, n, data_len)
        if not full_index:
            idx = idx[y == 1]
        l1, l2, g1, g2 = _step_both(ref, ours, s, y, idx)
        torch.testing.assert_close(l2, l1, rtol=2e-6, atol=1e-7)
        torch.testing.assert_close(g2, g1, rtol=1e-5, atol=1e-7)
        torch.testing.assert_close(ours.u_pos, ref.u_pos, rtol=2e-6, atol=1e-6)
    if name == "tpAUC_KL_Loss":
        torch.testing.assert_close(ours.w, ref.w.float(), rtol=2e-6, atol=1e-7)


@pytest.mark.parametrize(
    "mode,kw", [("1w", dict(Lambda=0.8)), ("2w", dict(tau=0.9)), ("SOPA", dict(beta=0.3, pos_len=10))]
)
def test_multilabel_pauc_repeated_indices_vs_libauc(mode, kw, form):
    N, B, Cn = 30, 40, 3
    g = torch.Generator().manual_seed(13)
    ref = L.MultiLabelpAUCLoss(mode=mode, num_labels=Cn, device="cpu", data_len=N, **kw)
    ours = C.MultiLabelpAUCLoss(mode=mode, num_labels=Cn, device="cpu", data_len=N, semantics="libauc", **kw)
    for _ in range(3):
        s = torch.rand(B, Cn, generator=g)
        y = (torch.rand(B, Cn, generator=g) < 0.4).float()
        y[0], y[1] = 1, 0
        idx = _repeated_index(g, B, N)
        l1, l2, g1, g2 = _step_both(ref, ours, s, y, idx)
        torch.testing.assert_close(l2, l1, rtol=2e-6, atol=1e-7)
        torch.testing.assert_close(g2, g1, rtol=1e-5, atol=1e-7)
    state = ours.u_pos if mode == "SOPA" else torch.exp(ours.log_u_pos).float()
    torch.testing.assert_close(state, ref.u_pos_all, rtol=2e-6, atol=1e-6)


@pytest.fixture(params=["composed-host", "composed-device", "fused"])
def ap_path(request, monkeypatch):
    """The AP losses' paths: the sort + scan with the anchors compacted (host form, CPU tensors') or masked
    in place (device form: CUDA's, forced here), writing with index_copy_ / put_; the CPU op ap_loss_step
    (writes in order; CPU only, so host form only)."""
    monkeypatch.setattr(A._APBase, "_fused", lambda self, h, y: request.param == "fused")
    if request.param == "composed-device":
        monkeypatch.setattr(devices, "host_reads_free", lambda t: False)
    return request.param


@pytest.mark.parametrize(
    "labels,per_positive", [(0, False), (0, True), (3, False)], ids=["APLoss", "APLoss-per_positive", "mAPLoss"]
)
def test_ap_repeated_indices_vs_libauc(labels, per_positive, ap_path):
    N, B = 40, 50
    g = torch.Generator().manual_seed(9)
    if labels:
        ref, ours = L.mAPLoss(N, labels, gamma=0.7, device="cpu"), C.mAPLoss(N, labels, gamma=0.7, device="cpu")
    else:
        ref, ours = L.APLoss(N, gamma=0.7, device="cpu"), C.APLoss(N, gamma=0.7, device="cpu")
    for _ in range(3):
        s = torch.rand(B, max(labels, 1), generator=g)
        y = (torch.rand(B, max(labels, 1), generator=g) < 0.4).float()
        y[0], y[1] = 1, 0
        idx = _repeated_index(g, B, N)
        if per_positive:
            idx = idx[y[:, 0] == 1]
        l1, l2, g1, g2 = _step_both(ref, ours, s, y, idx)
        torch.testing.assert_close(l2, l1, rtol=1e-4, atol=2e-8)
        torch.testing.assert_close(g2, g1, rtol=1e-5, atol=1e-8)
        torch.testing.assert_close(ours.u_all, ref.u_all, rtol=1e-6, atol=1e-7)
        torch.testing.assert_close(ours.u_pos, ref.u_pos, rtol=1e-6, atol=1e-7)


@pytest.mark.parametrize("labels", [0, 3], ids=["APLoss", "mAPLoss"])
def test_ap_eval_value_is_the_training_value_with_repeated_indices(labels, ap_path):
    # eval() leaves the state alone but gives the value the training step gives, repeated indices included
    N, B, Cn = 40, 50, max(labels, 1)
    g = torch.Generator().manual_seed(10)
    loss = C.mAPLoss(N, labels, gamma=0.7, device="cpu") if labels else C.APLoss(N, gamma=0.7, device="cpu")
    s = torch.rand(B, Cn, generator=g)
    y = (torch.rand(B, Cn, generator=g) < 0.4).float()
    y[0], y[1] = 1, 0
    loss(s, y, torch.arange(B) % N)  # a state to read
    idx = _repeated_index(g, B, N)
    before = loss.u_all.clone(), loss.u_pos.clone()
    loss.eval()
    value = loss(s, y, idx)
    assert torch.equal(loss.u_all, before[0]) and torch.equal(loss.u_pos, before[1])
    loss.train()
    torch.testing.assert_close(value, loss(s, y, idx), rtol=1e-6, atol=0)
