"""Per-call cost of the binary O(n) losses at small n (issues 12 and 16): XCurve's binary
SquareAUCLoss(2) / ExpAUCLoss(2) drop-ins at n = 128 and 2048 and ``pairwise_auc_loss`` square / exp
at n = 64, 256, 1024, each next to ``x.sum()`` forward+backward (the autograd floor) and
``binary_cross_entropy_with_logits`` forward+backward on the same leaf, and XCurve 1.1.0 in the same
process. Breakdown rows split a call: the raw op forward+backward, forward only (autograd on) and
under ``no_grad`` (the kernel asked for its gradient). Prints one JSON object of medians (us).

Same-hold comparison of two builds: run it alternately with each build's interpreter, e.g.
    for i in 1 2 3; do /work/main/.venv/bin/python benchmarks/percall_smallcall.py; .venv/bin/python ...; done
"""

import json
import sys

import torch
from _percall import fwd_bwd, per_call_us

import torchauc
from torchauc.compat import xcurve as X
from torchauc.pairwise import pairwise_auc_loss

F = torch.nn.functional


def binary(n, shape, seed=0):
    g = torch.Generator().manual_seed(seed)
    s = torch.rand(n, generator=g)
    y = (torch.rand(n, generator=g) < 0.3).long()
    y[0], y[-1] = 1, 0
    return s.reshape(shape).clone().requires_grad_(), y


def floors(x, y):
    yf = y.reshape(x.shape).float()
    return {
        "x.sum": fwd_bwd(lambda: x.sum(), x),
        "bce": fwd_bwd(lambda: F.binary_cross_entropy_with_logits(x, yf), x),
    }


def op_rows(x, y, surrogate, prefix):
    op = torch.ops.torchauc.pairwise_auc_loss

    def no_grad():
        with torch.no_grad():
            op(x, y, None, None, surrogate, 1.0, "mean", True)

    return {
        f"{prefix} op fwd+bwd": fwd_bwd(lambda: op(x, y, None, None, surrogate, 1.0, "mean", True)[0], x),
        f"{prefix} op fwd": lambda: op(x, y, None, None, surrogate, 1.0, "mean", True),
        f"{prefix} op no_grad": no_grad,
    }


def xcurve_cases(n, xc):
    x, y = binary(n, (n, 1))
    out = floors(x, y)
    for name in ("SquareAUCLoss", "ExpAUCLoss"):
        ours, theirs = getattr(X, name)(2), getattr(xc, name)(2)
        out[f"{name}(2)"] = fwd_bwd(lambda ours=ours: ours(x, y), x)
        out[f"{name}(2) fwd"] = lambda ours=ours: ours(x, y)
        out[f"XCurve {name}(2)"] = fwd_bwd(lambda theirs=theirs: theirs(x, y), x)
        out.update(op_rows(x, y, "square" if name == "SquareAUCLoss" else "exp", name))
    return out


def pairwise_cases(n):
    x, y = binary(n, (n,))
    out = floors(x, y)
    for sur in ("square", "exp"):
        out[f"pairwise {sur}"] = fwd_bwd(lambda sur=sur: pairwise_auc_loss(x, y, surrogate=sur), x)
    return out


def main():
    torch.set_num_threads(2)
    torch.Tensor.cuda = lambda self, *a, **k: self  # XCurve hard-codes .cuda(); nothing else here calls it
    import importlib

    xc = importlib.import_module("XCurve.AUROC.losses")

    results = {"torchauc": torchauc.__file__}
    for n in (128, 2048):
        for name, fn in xcurve_cases(n, xc).items():
            results[f"{name} n={n}"] = per_call_us(fn)
    for n in (64, 256, 1024):
        for name, fn in pairwise_cases(n).items():
            results[f"{name} n={n}"] = per_call_us(fn)
    json.dump(results, sys.stdout)
    print()


if __name__ == "__main__":
    main()
