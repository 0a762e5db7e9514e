"""Binary pairwise AUC loss: forward+backward, ours vs the pair-matrix baseline (what XCurve and
LibAUC do) and the best pure-PyTorch closed form, float32 scores, 10% positives. Each row carries
its floor (torchauc.bench.floors): one elementwise pass for the O(n) surrogates, the radix sort of
the scores for hinge / squared hinge, one FMA per pair for the tiled logistic / sigmoid. Also the
rank-1 weighted loss, small batches against BCE-with-logits, and n = 32768 beside a busy process."""

import atexit
import subprocess
import sys
from collections.abc import Callable
from typing import Any

import torch
import torch.nn.functional as F

import torchauc
from torchauc.reference import pairwise as R

from . import floors
from .harness import Case

CLOSED_FORM = ("square", "exp", "hinge", "squared_hinge")
PAIR_MATRIX_MAX_N = 32768  # 3.3k x 29.5k pairs: ~2-3 GB of pair matrices, as far as this machine goes
TILED_MAX_N = 100_000  # logistic/sigmoid are O(n+ n-) time by nature
SMALL_BATCHES = (64, 256, 1024)


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


def floor_of(surrogate: str, s: torch.Tensor, y: torch.Tensor):
    if surrogate in ("square", "exp"):
        return floors.elementwise(s, y)  # read scores and labels, write the score gradient
    if surrogate in CLOSED_FORM:
        return floors.radix_sort(s)  # the sort of the scores (with their index) bounds hinge
    n_pos = int(y.sum())
    return floors.fma(n_pos, y.numel() - n_pos)  # one multiply-add per pair


def _surrogate_cases(device, sizes):
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
                    floor=floor_of(surrogate, s, y),
                    pairs=None if surrogate in CLOSED_FORM else int(y.sum()) * (n - int(y.sum())),
                )
            )
    return out


def _weighted_cases(device, sizes):
    """The rank-1 weighted square loss (the relaxed TPAUC / OpenAUC form): reads scores, labels and
    both weights, writes three gradients."""
    out = []
    for n in sizes:
        s, y = batch(n, device, seed=1)
        g = torch.Generator().manual_seed(2)
        a, b = torch.rand(n, generator=g).to(device), torch.rand(n, generator=g).to(device)

        def run(fn, s=s, y=y, a=a, b=b):
            def go():
                x, wa, wb = (t.detach().requires_grad_() for t in (s, a, b))
                loss = fn(x, y, wa, wb)
                loss.backward()
                return loss.detach()

            return go

        def ours(x, y, wa, wb):
            return torchauc.functional.pairwise_auc_loss(x, y, pos_weights=wa, neg_weights=wb)

        def closed(x, y, wa, wb):
            return _weighted_square_closed_form(x, y, wa, wb)

        out.append(
            Case(
                "pairwise",
                "pairwise_auc_loss[square, rank-1 weights]",
                f"n={n}",
                run(ours),
                {"pytorch closed form": run(closed)},
                repeats=5 if n <= 1_000_000 else 3,
                note="O(n), pos_weights and neg_weights",
                floor=floors.elementwise(s, y, a, b, writes=3),
            )
        )
    return out


def _weighted_square_closed_form(x, y, a, b, m: float = 1.0):
    """sum a b (m - x + z)^2 / (A0 B0) = (A2 B0 + 2 A1 B1 + A0 B2) / (A0 B0) in float64 moments."""
    pos = y.bool()
    u, z = (m - x).double(), x.double()
    aa, bb = torch.where(pos, a, 0).double(), torch.where(pos, 0, b).double()
    A0, A1, A2 = aa.sum(), (aa * u).sum(), (aa * u * u).sum()
    B0, B1, B2 = bb.sum(), (bb * z).sum(), (bb * z * z).sum()
    return ((A2 * B0 + 2 * A1 * B1 + A0 * B2) / (A0 * B0)).to(x.dtype)


def _small_batch_cases(device):
    """Per-call overhead at training batch sizes: ours vs BCE-with-logits (target ours <= 1.3x BCE,
    i.e. ratio >= 0.77)."""
    out = []
    for n in SMALL_BATCHES:
        s, y = batch(n, device, seed=3)
        yf = y.float()

        def bce(x, _y, _sur, yf=yf):
            return F.binary_cross_entropy_with_logits(x, yf)

        for surrogate in ("square", "exp"):

            def ours_fn(x, y, sur):
                return torchauc.functional.pairwise_auc_loss(x, y, surrogate=sur)

            out.append(
                Case(
                    "pairwise",
                    f"small batch: pairwise_auc_loss[{surrogate}]",
                    f"n={n}",
                    fwd_bwd(ours_fn, s, y, surrogate),
                    {"BCE with logits": fwd_bwd(bce, s, y, surrogate)},
                    repeats=200,
                    baseline_repeats=200,
                    rtol=None,  # another loss: timing yardstick only
                    note="per-call overhead; target ratio >= 0.77 (ours <= 1.3x BCE)",
                )
            )
    return out


class _BusyCore:
    """A child process spinning on one core (what a dataloader worker does), started on demand."""

    proc: subprocess.Popen | None = None

    @classmethod
    def start(cls):
        if cls.proc is None:
            cls.proc = subprocess.Popen([sys.executable, "-c", "while True: pass"])
            atexit.register(cls.stop)

    @classmethod
    def stop(cls):
        if cls.proc is not None:
            cls.proc.kill()
            cls.proc.wait()
            cls.proc = None


def _oversubscribed_case(device):
    """n = 32768 fwd+bwd while another process keeps a core busy, against the same call on a quiet
    machine (the baseline column; target ratio >= 0.5, i.e. busy <= 2x quiet)."""
    n = 32768
    s, y = batch(n, device, seed=4)

    def ours_fn(x, y, sur):
        return torchauc.functional.pairwise_auc_loss(x, y, surrogate=sur)

    run = fwd_bwd(ours_fn, s, y, "square")

    def busy():
        _BusyCore.start()
        return run()

    def quiet():
        _BusyCore.stop()
        return run()

    return Case(
        "pairwise",
        "pairwise_auc_loss[square] beside a busy process",
        f"n={n}",
        busy,
        {"same call, quiet machine": quiet},
        repeats=50,
        baseline_repeats=50,
        note="one core kept busy by another process; target ratio >= 0.5",
    )


def cases(device: torch.device | str | None, quick: bool):
    sizes = [1000, 32768] if quick else [1000, 10_000, 32768, 100_000, 1_000_000, 10_000_000]
    if device == "cuda" and not quick:
        sizes += [100_000_000]
    out = _surrogate_cases(device, sizes)
    out += _weighted_cases(device, [32768] if quick else [100_000, 10_000_000])
    out += _small_batch_cases(device)
    if device == "cpu":
        out.append(_oversubscribed_case(device))
    return out
