"""AdAUC: the loss forward+backward (ours vs XCurve's AdvAUROCLoss, .cuda() neutralised on CPU, and
the pure-PyTorch formula), and a PGD-10 attack on a small CNN (ours, one fused step op per step, vs
the plain PyTorch loop)."""

from collections.abc import Callable
from typing import Any

import torch

from torchauc.adversarial import pgd
from torchauc.losses import AdAUCLoss
from torchauc.reference import adauc as R

from .harness import Case


def _xcurve_loss(device):
    try:
        from XCurve.AUROC.losses.AdversarialAUROC import AdvAUROCLoss
    except ImportError:
        return None
    real = torch.Tensor.cuda
    torch.Tensor.cuda = lambda self, *a, **k: self.to(device)  # XCurve hard-codes .cuda()
    try:
        return AdvAUROCLoss(imratio=0.1)
    finally:
        torch.Tensor.cuda = real


def fwd_bwd(fn: Callable[..., Any], s, y: torch.Tensor):
    def run():
        x = s.detach().requires_grad_()
        loss = fn(x, y)
        loss.backward()
        return loss.detach()

    return run


def small_cnn(device: torch.device | str | None):
    torch.manual_seed(0)
    return torch.nn.Sequential(
        torch.nn.Conv2d(3, 16, 3, padding=1), torch.nn.ReLU(), torch.nn.MaxPool2d(2),
        torch.nn.Conv2d(16, 32, 3, padding=1), torch.nn.ReLU(), torch.nn.AdaptiveAvgPool2d(1), torch.nn.Flatten(),
        torch.nn.Linear(32, 1),
    ).to(device)  # fmt: skip


def cases(device: torch.device | str | None, quick: bool):
    out = []
    ours = AdAUCLoss(imratio=0.1, form="xcurve").to(device)
    xcurve = _xcurve_loss(device)
    for n in [1000, 100_000] if quick else [1000, 100_000, 1_000_000, 10_000_000]:
        g = torch.Generator().manual_seed(0)
        s = torch.rand(n, generator=g).to(device)
        y = (torch.rand(n, generator=g) < 0.1).long().to(device)
        base = {"pytorch formula": fwd_bwd(lambda x, t: R.adauc_loss(x, t, ours.a, ours.b, ours.alpha, 0.1, 1.0,
                                                                    "xcurve"), s, y)}  # fmt: skip
        if xcurve is not None:
            base["xcurve AdvAUROCLoss"] = fwd_bwd(xcurve, s, y)
        reps = 25 if n <= 100_000 else 5  # sub-millisecond calls: 3 samples are mostly scheduler noise
        out.append(Case("adauc", "adauc_loss", f"n={n}", fwd_bwd(ours, s, y), base, repeats=reps, baseline_repeats=reps,
                        note="O(n), fused backward"))  # fmt: skip

    model = small_cnn(device)
    crit = AdAUCLoss(imratio=0.1)
    for n in [32] if quick else [32, 128]:
        g = torch.Generator().manual_seed(1)
        x = torch.rand(n, 3, 32, 32, generator=g).to(device)
        y = (torch.rand(n, generator=g) < 0.1).long().to(device)
        steps = 3 if quick else 10

        def attack(fn, x=x, y=y, steps=steps):
            return lambda: fn(model, x, y, crit.per_sample, eps=8 / 255, step=2 / 255, steps=steps,
                              generator=torch.Generator(device=device).manual_seed(0))  # fmt: skip

        out.append(
            Case(
                "adauc",
                f"pgd-{steps} (linf)",
                f"batch={n}x3x32x32",
                attack(pgd),
                {"plain pytorch loop": attack(R.pgd)},
                repeats=3,
                note="small CNN; same random start",
                rtol=1e-6,
            )  # fmt: skip
        )
    return out
