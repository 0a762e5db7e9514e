"""The CUDA forms of the Python layer's data checks and counts (issue 16: no host sync in a loss on
CUDA), run on CPU tensors with ``devices.host_reads_free`` forced False: the same values and gradients
as the CPU form, and bad data a device-side assert (a RuntimeError with the CPU form's message) where
the CPU form raises its ValueError. tests/cudasim/test_host_syncs.py checks that these forms read
nothing on the host."""

import pytest
import torch

from torchauc import losses as L
from torchauc._core import devices
from torchauc.compat import xcurve as xc


def _gmop(g, bad):
    B, C, K = 30, 7, 3
    logits = torch.randn(B, C, generator=g, requires_grad=True)
    dets = [torch.randn(B, C - len(range(k, C, K)), generator=g, requires_grad=True) for k in range(K)]
    y = torch.randint(0, C, (B,), generator=g)
    if bad:
        y[4] = C
    loss = L.GMoPLoss(K)
    return lambda: loss(logits, dets, y, torch.randn(B, C, generator=g)), [logits, *dets]


def _auprc(g, bad):
    feats = torch.nn.functional.normalize(torch.randn(12, 5, generator=g), dim=1).requires_grad_()
    ids = torch.tensor([3, 0, 7]).repeat_interleave(4)
    if bad:
        ids[5] = 1  # identity 0's block holds another identity
    loss = L.ListStableAUPRCLoss(num_sample_per_id=4, cnt_per_id=torch.arange(1, 9))
    return lambda: loss(feats, ids), [feats]


def _upauci(g, bad):
    s = torch.rand(40, generator=g, requires_grad=True)
    y = (torch.rand(40, generator=g) < 0.4).long()
    ids = torch.randperm(60, generator=g)[:40]
    if bad:
        ids[3] = 60
    loss = L.UPAUCILoss(60, 0.3, 0.2)
    return lambda: loss(s, y, ids), [s, *loss.parameters()]


def _xcurve_linear(classes_present):
    def make(g, bad):
        p = torch.rand(50, 5, generator=g, dtype=torch.float64, requires_grad=True)
        y = torch.randint(0, classes_present, (50,), generator=g)  # an absent class: NaN as XCurve
        loss = xc.HingeAUCLoss(5, 0.7, "ova" if classes_present < 5 else "ovo", normalization="xcurve")
        return lambda: loss(p, y), [p]

    return make


CASES = {
    "GMoPLoss": (_gmop, "labels must be class ids in"),
    "ListStableAUPRCLoss": (_auprc, "targets must be nc distinct identities"),
    "UPAUCILoss": (_upauci, r"ids must be in \[0, num_samples = 60\)"),
    "xcurve-HingeAUCLoss-linear-counts": (_xcurve_linear(5), None),
    "xcurve-HingeAUCLoss-linear-counts-absent_class": (_xcurve_linear(4), None),
}


def _run(make, bad=False):
    call, leaves = make(torch.Generator().manual_seed(0), bad)
    value = call()
    value.backward()
    return value.detach(), [t.grad for t in leaves]


@pytest.mark.parametrize("name", sorted(CASES))
def test_device_form_equals_the_host_form(name, monkeypatch):
    make, _ = CASES[name]
    value, grads = _run(make)
    monkeypatch.setattr(devices, "host_reads_free", lambda t: False)
    value_d, grads_d = _run(make)
    torch.testing.assert_close(value_d, value, rtol=0, atol=0, equal_nan=True)
    for g, gd in zip(grads, grads_d, strict=True):
        assert g is not None
        torch.testing.assert_close(gd, g, rtol=0, atol=0, equal_nan=True)


@pytest.mark.parametrize("name", sorted(n for n, (_, match) in CASES.items() if match))
def test_bad_data_is_a_device_side_check_off_the_host(name, monkeypatch):
    make, match = CASES[name]
    with pytest.raises(ValueError, match=match):
        _run(make, bad=True)
    monkeypatch.setattr(devices, "host_reads_free", lambda t: False)
    with pytest.raises(RuntimeError, match=match + r".*\(device-side check\)"):
        _run(make, bad=True)


def _compositional_phases(monkeypatch, on_host):
    """Losses of CompositionalAUCLoss (k=2) over steps with the counter written from outside between
    them (a user's write, a loaded state_dict, eval mode, a k override)."""
    if not on_host:
        monkeypatch.setattr(devices, "host_reads_free", lambda t: False)
    g = torch.Generator().manual_seed(3)
    s = torch.rand(30, generator=g, dtype=torch.float64)
    y = (torch.rand(30, generator=g) < 0.3).long()
    loss = L.CompositionalAUCLoss(k=2, device="cpu")
    out = []

    def step(**kw):
        x = s.clone().requires_grad_()
        value = loss(x, y, **kw)
        value.backward()
        out.append((value.detach(), x.grad, loss.is_auc_step()))

    for _ in range(3):
        step()
    loss.step.fill_(1)
    step()
    loss.load_state_dict({**loss.state_dict(), "step": torch.tensor(6)})
    step()
    loss.eval()
    step()
    step()
    loss.train()
    step(k=1)
    step()
    return out, int(loss.step)


def test_compositional_phase_counter_off_the_host_equals_the_buffer(monkeypatch):
    host, host_step = _compositional_phases(monkeypatch, on_host=True)
    device, device_step = _compositional_phases(monkeypatch, on_host=False)
    assert device_step == host_step == 9
    assert [auc for *_, auc in device] == [auc for *_, auc in host]
    assert len({auc for *_, auc in host}) == 2  # both phases taken
    for (v, gr, _), (vd, grd, _) in zip(host, device, strict=True):
        torch.testing.assert_close(vd, v, rtol=0, atol=0)
        torch.testing.assert_close(grd, gr, rtol=0, atol=0)
