"""Partial AUC family: ours vs XCurve's relaxed TPAUC and LibAUC's SOPA/SOPA-s/SOTA-s (pair matrices),
and the hard top-k loss at n = 1e7 (ours only). Forward + backward, values checked."""

import torch

import torchauc
from torchauc.compat import libauc as C
from torchauc.reference import partial_auc as R

from . import floors
from .harness import Case


def _data(n, pos_frac, seed=0, device="cpu"):
    g = torch.Generator().manual_seed(seed)
    s = torch.rand(n, generator=g).to(device)
    y = (torch.rand(n, generator=g) < pos_frac).long().to(device)
    return s, y


def _fb(fn, s):
    def run():
        t = s.detach().clone().requires_grad_()
        v = fn(t)
        v.backward()
        return v.detach()

    return run


def _xcurve_relaxed():
    """XCurve 1.1.0's RelaxedPAUCLoss raises NameError on construction; bind its BaseAUCLoss.forward
    (the pair-matrix code) to RelaxedPAUCLoss.re_weight, which is exactly the class as written."""
    from XCurve.AUROC.losses.PartialAUROC import BaseAUCLoss, RelaxedPAUCLoss

    x = BaseAUCLoss(gamma=1.0, weight_scheme="Poly")
    x.AUC_type = "TP"
    x.re_weight = RelaxedPAUCLoss.re_weight.__get__(x)
    return x


def _libauc_pair(name, n, device, **kw):
    import libauc.losses as L

    def make(mod):
        return getattr(mod, name)(data_len=n, device=device, **kw)

    return make(L), make(C)


def cases(device: torch.device | str | None, quick: bool):
    out = []
    # relaxed TPAUC vs XCurve
    n = 4096 if quick else 32768
    s, y = _data(n, 0.2, device=device)
    ours = torchauc.losses.RelaxedTPAUCLoss("poly", gamma=1.0, margin=None, auc_type="TP")
    x = _xcurve_relaxed()
    out.append(
        Case(
            "partial_auc",
            "RelaxedTPAUCLoss (TP, poly)",
            f"n={n}",
            _fb(lambda t, y=y: ours(t, y), s),
            {"XCurve RelaxedPAUCLoss (bound BaseAUCLoss)": _fb(lambda t, y=y: x(t, y), s)},
            repeats=5,
            note="XCurve class raises NameError; its BaseAUCLoss code bound to re_weight",
            floor=floors.elementwise(s, y),
        )
    )
    # LibAUC pAUC losses (pair matrices: ~10 GB at n = 65536; repeats=1)
    n = 4096 if quick else 65536
    s, y = _data(n, 0.1, seed=1, device=device)
    idx = torch.arange(n, device=device)
    for name, kw in (("pAUC_CVaR_Loss", dict(pos_len=int(y.sum()))), ("pAUC_DRO_Loss", {}), ("tpAUC_KL_Loss", {})):
        ref, mine = _libauc_pair(name, n, device, **kw)
        out.append(
            Case(
                "partial_auc",
                f"{name} (LibAUC drop-in)",
                f"n={n}",
                _fb(lambda t, m=mine, y=y, idx=idx: m(t, y, idx), s),
                {f"libauc {name}": _fb(lambda t, r=ref, y=y, idx=idx: r(t, y, idx), s)},
                repeats=3,
                baseline_repeats=3 if quick else 1,
                rtol=1e-3,
                note="state advances per call on both sides; first-call values compared",
                floor=floors.elementwise(s, y, idx),
            )
        )
    # hard top-k loss at n = 1e7 (ours only), and the selection kernel alone
    n = 100_000 if quick else 10_000_000
    s, y = _data(n, 0.1, seed=2, device=device)
    out.append(
        Case(
            "partial_auc",
            "partial_auc_loss (top-k, squared_hinge, FPR<=0.1, TPR>=0.5)",
            f"n={n}",
            _fb(
                lambda t, y=y: torchauc.functional.partial_auc_loss(
                    t, y, max_fpr=0.1, min_tpr=0.5, surrogate="squared_hinge"
                ),
                s,
            ),
            {},
            repeats=3,
            floor=floors.radix_sort(s),
        )
    )
    out.append(
        Case(
            "partial_auc",
            "partial_auc_select",
            f"n={n}",
            lambda s=s, y=y: torchauc.functional.partial_auc_select(s, y, max_fpr=0.1, min_tpr=0.5).sum(),
            {},
            repeats=3,
            floor=floors.radix_sort(s),
        )
    )
    if quick:
        n = 2000
        s, y = _data(n, 0.3, seed=3, device=device)
        out.append(
            Case(
                "partial_auc",
                "partial_auc_loss vs pair-matrix reference",
                f"n={n}",
                _fb(
                    lambda t, y=y: torchauc.functional.partial_auc_loss(
                        t, y, max_fpr=0.3, min_tpr=0.0, surrogate="square"
                    ),
                    s,
                ),
                {"reference (pair matrix)": _fb(lambda t, y=y: R.partial_auc_loss(t, y, 0.3), s)},
                floor=floors.radix_sort(s),
            )
        )
    return out
