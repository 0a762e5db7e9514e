"""LibAUC drop-ins (torchauc.compat.libauc) vs libauc 2.0.1, same process: each loss forward +
backward at LibAUC's tutorial batch (AUC-M: 128, AP: 64) and at 16x that batch, and the AP loss at
n = 2^20 (64 positives: LibAUC's n+ x n pair matrix is 2 GB there), squared hinge (sort + scan)
and logistic (the tiled grouped_pair_sums kernel). The callables return the
gradient's L1 norm (the AP losses' value is ~0 by construction), so the check compares gradients."""

import torch

from torchauc.compat import libauc as C

from .harness import Case


def _data(n, c, pos, seed, device):
    g = torch.Generator().manual_seed(seed)
    s = torch.rand(n, c, generator=g)
    y = (torch.rand(n, c, generator=g) < pos).float()
    y[0] = 1
    return s.to(device), y.to(device)


def _grad_norm(loss_fn, s, *args, **kw):
    def run():
        t = s.detach().clone().requires_grad_()
        loss_fn(t, *args, **kw).sum().backward()
        return t.grad.abs().sum()

    return run


def _aucm_pair(cls, device, **kw):
    import libauc.losses as L

    ref, ours = getattr(L, cls)(device=device, **kw), getattr(C, cls)(device=device, **kw)
    with torch.no_grad():
        for m in (ref, ours):
            m.a.fill_(0.3)
            m.b.fill_(0.2)
            m.alpha.fill_(0.5)
    return ref, ours


def cases(device: torch.device | str | None, quick: bool):
    import libauc.losses as L

    out = []
    sizes = (128,) if quick else (128, 2048)
    for B in sizes:
        s, y = _data(B, 1, 0.3, 0, device)
        for version in ("v1", "v2"):
            ref, ours = _aucm_pair("AUCMLoss", device, version=version)
            out.append(
                Case(
                    "libauc",
                    f"AUCMLoss {version}",
                    f"B={B}",
                    _grad_norm(ours, s, y),
                    {"libauc AUCMLoss": _grad_norm(ref, s, y)},
                    repeats=20,
                    rtol=None if version == "v2" else 1e-4,  # v2: LibAUC's #74 changes the gradient
                )
            )
        s10, y10 = _data(B, 10, 0.3, 1, device)
        ref, ours = _aucm_pair("MultiLabelAUCMLoss", device, num_labels=10, version="v2")
        out.append(
            Case(
                "libauc",
                "MultiLabelAUCMLoss v2 (10 labels)",
                f"B={B}",
                _grad_norm(ours, s10, y10),
                {"libauc MultiLabelAUCMLoss (loop over labels)": _grad_norm(ref, s10, y10)},
                repeats=20,
            )
        )
        idx = torch.arange(B, device=device)
        for mode, kw in (("1w", {}), ("SOPA", dict(pos_len=B))):  # LibAUC's CVaR loss requires pos_len
            ref = L.MultiLabelpAUCLoss(mode=mode, num_labels=10, device=device, data_len=B, **kw)
            ours = C.MultiLabelpAUCLoss(mode=mode, num_labels=10, device=device, data_len=B, **kw)
            out.append(
                Case(
                    "libauc",
                    f"MultiLabelpAUCLoss {mode} (10 labels)",
                    f"B={B}",
                    _grad_norm(ours, s10, y10, idx),
                    {"libauc MultiLabelpAUCLoss (loop over labels)": _grad_norm(ref, s10, y10, idx)},
                    repeats=20,
                    rtol=1e-3,
                    note="state advances per call on both sides; first-call gradients compared",
                )
            )
    for B in (64,) if quick else (64, 1024):
        s, y = _data(B, 1, 0.5, 2, device)
        idx = torch.arange(B, device=device)
        out.append(
            Case(
                "libauc",
                "APLoss (squared_hinge)",
                f"B={B}",
                _grad_norm(C.APLoss(B, device=device), s, y, idx),
                {"libauc APLoss": _grad_norm(L.APLoss(B, device=device), s, y, idx)},
                repeats=20,
                rtol=1e-3,
                note="state advances per call on both sides; first-call gradients compared",
            )
        )
        for surr, margin in (("logistic", 1.0), ("barrier_hinge", (1.0, 2.0))):
            kw = dict(margin=margin, surr_loss=surr, device=device)
            out.append(
                Case(
                    "libauc",
                    f"APLoss ({surr})",
                    f"B={B}",
                    _grad_norm(C.APLoss(B, **kw), s, y, idx),
                    {"libauc APLoss": _grad_norm(L.APLoss(B, **kw), s, y, idx)},
                    repeats=20,
                    rtol=1e-3,
                    note="state advances per call on both sides; first-call gradients compared",
                )
            )
        s10, y10 = _data(B, 10, 0.3, 3, device)
        out.append(
            Case(
                "libauc",
                "mAPLoss (10 labels)",
                f"B={B}",
                _grad_norm(C.mAPLoss(B, 10, device=device), s10, y10, idx),
                {"libauc mAPLoss (loop over labels)": _grad_norm(L.mAPLoss(B, 10, device=device), s10, y10, idx)},
                repeats=20,
                rtol=1e-3,
            )
        )
    n = 4096 if quick else 2**20
    g = torch.Generator().manual_seed(4)
    s = torch.rand(n, 1, generator=g).to(device)
    y = torch.zeros(n, 1)
    y[torch.randperm(n, generator=g)[:64]] = 1
    y = y.to(device)
    idx = torch.arange(n, device=device)
    out.append(
        Case(
            "libauc",
            "APLoss (squared_hinge, 64 positives)",
            f"n={n}",
            _grad_norm(C.APLoss(n, device=device), s, y, idx),
            {"libauc APLoss (64 x n pair matrix)": _grad_norm(L.APLoss(n, device=device), s, y, idx)},
            repeats=3,
            baseline_repeats=3 if quick else 1,
            rtol=1e-3,
        )
    )
    kw = dict(surr_loss="logistic", device=device)
    out.append(
        Case(
            "libauc",
            "APLoss (logistic, 64 positives; tiled kernel)",
            f"n={n}",
            _grad_norm(C.APLoss(n, **kw), s, y, idx),
            {"libauc APLoss (64 x n pair matrix)": _grad_norm(L.APLoss(n, **kw), s, y, idx)},
            repeats=3,
            baseline_repeats=3 if quick else 1,
            rtol=1e-3,
        )
    )
    return out
