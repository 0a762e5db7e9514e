"""Binary pairwise AUC loss: forward+backward, ours vs the pair-matrix baseline (what XCurve and
LibAUC do) and the best pure-PyTorch closed form, float32 scores, 10% positives."""

from collections.abc import Callable
from typing import Any

import torch

import torchauc
from torchauc.reference import pairwise as R

from .harness import Case

CLOSED_FORM = ("square", "exp", "hinge", "squared_hinge")
PAIR_MATRIX_MAX_N = 32768  # 3.3k x 29.5k pairs: ~2-3 GB of pair matrices, as far as this machine goes
TILED_MAX_N = 100_000  # logistic/sigmoid are O(n+ n-) time by nature


def batch(n, device: torch.device | str | None, seed: int = 0) -> tuple[torch.Tensor, torch.Tensor]:
    g = torch.Generator().manual_seed(seed)
    s = torch.randn(n, generator=g).to(device)
    y = (torch.rand(n, generator=g) < 0.1).to(device)
    return s, y


def fwd_bwd(fn: Callable[..., Any], s, y: torch.Tensor, surrogate):
    def run():
        x = s.detach().requires_grad_()
        loss = fn(x, y, surrogate)
        loss.backward()
        return loss.detach()

    return run


def cases(device: torch.device | str | None, quick: bool):
    sizes = [1000, 32768] if quick else [1000, 10_000, 32768, 100_000, 1_000_000, 10_000_000]
    if device == "cuda" and not quick:
        sizes += [100_000_000]
    out = []
    for surrogate in ("square", "exp", "hinge", "squared_hinge", "logistic", "sigmoid"):
        margin = 1.0 if surrogate != "exp" else 0.5

        def ours_fn(x, y, sur, m=margin):
            return torchauc.functional.pairwise_auc_loss(x, y, surrogate=sur, margin=m)

        def pair_fn(x, y, sur, m=margin):
            return R.pairwise_auc_loss(x, y, sur, m)

        def closed_fn(x, y, sur, m=margin):
            return R.pairwise_auc_loss_closed_form(x, y, sur, m)

        for n in sizes:
            if surrogate not in CLOSED_FORM and n > TILED_MAX_N:
                continue
            s, y = batch(n, device)
            base = {"pair matrix": fwd_bwd(pair_fn, s, y, surrogate) if n <= PAIR_MATRIX_MAX_N else None}
            if surrogate in CLOSED_FORM:
                base["pytorch closed form"] = fwd_bwd(closed_fn, s, y, surrogate)
            note = (
                "O(n)"
                if surrogate in ("square", "exp")
                else ("O(n log n)" if surrogate in CLOSED_FORM else "tiled O(n+ n-), O(n) memory")
            )
            if device == "cuda" and n >= 10_000_000:
                # device yardsticks for the bandwidth / sort targets (not value-checked)
                base["device copy of scores"] = lambda s=s: s.clone()
                base["device sort of scores"] = lambda s=s: torch.sort(s)[0]
            reps = 5 if n <= 1_000_000 else 3
            out.append(
                Case(
                    "pairwise",
                    f"pairwise_auc_loss[{surrogate}]",
                    f"n={n}",
                    fwd_bwd(ours_fn, s, y, surrogate),
                    base,
                    repeats=reps,
                    note=note,
                    rtol=1e-4 if device == "cpu" or n < 10_000_000 else None,
                )
            )
    return out
