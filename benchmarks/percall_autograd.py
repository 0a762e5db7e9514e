"""Per-call cost of fwd+bwd at small batches for the fused losses whose autograd moved to C++ (issue 16):
adauc, upauci, sod, cml, against binary_cross_entropy_with_logits fwd+bwd of the same n (the per-call
yardstick), and the XCurve AdvAUROCLoss drop-in against XCurve. Prints one JSON object of medians (us).

Same-hold comparison of two builds: run it alternately with each build's interpreter, e.g.
    for i in 1 2 3; do /work/main/.venv/bin/python benchmarks/percall_autograd.py; .venv/bin/python ...; done
"""

import json
import sys

import torch
from _percall import fwd_bwd, per_call_us

import torchauc
from torchauc.adauc import adauc_loss
from torchauc.cml.losses import triplet_loss
from torchauc.partial_auc import upauci_loss
from torchauc.sod import frames, si_loss

F = torch.nn.functional


def binary(n, seed=0):
    g = torch.Generator().manual_seed(seed)
    s = torch.rand(n, generator=g)
    y = (torch.rand(n, generator=g) < 0.3).long()
    y[0], y[-1] = 1, 0
    return s, y


def cases(n):
    s, y = binary(n)
    x = s.clone().requires_grad_()
    out = {"bce": fwd_bwd(lambda: F.binary_cross_entropy_with_logits(x, y.float()), x)}
    a, b, al = (torch.tensor(v, requires_grad=True) for v in (0.3, 0.6, -0.2))
    out["adauc"] = fwd_bwd(lambda: adauc_loss(x, y, a, b, al, imratio=0.3), x, a, b, al)
    c = torch.rand(n, generator=torch.Generator().manual_seed(1)).requires_grad_()
    p = torch.tensor([0.9, 0.1, 0.2, 0.5, 0.7, 0.3, 0.4], dtype=torch.float64, requires_grad=True)
    out["upauci"] = fwd_bwd(lambda: upauci_loss(x, y, c, p, max_fpr=0.3, min_tpr=0.2), x, c, p)
    side = int(round(n**0.5))  # one (side x side) image: n pixels
    masks = torch.zeros(1, side, side)
    masks[0, 1 : side // 3, 1 : side // 2] = 1
    masks[0, side // 2 : side - 1, side // 2 : side - 2] = 1
    fr = frames(masks, min_area=1)
    pred = torch.rand(1, 1, side, side, generator=torch.Generator().manual_seed(2)).requires_grad_()
    out["sod"] = fwd_bwd(lambda: si_loss(pred, masks, fr), pred)
    g = torch.Generator().manual_seed(3)
    users, pos, neg = (torch.randn(*shape, generator=g).requires_grad_() for shape in [(n, 2, 16), (n, 16), (n, 4, 16)])
    out["cml triplet"] = fwd_bwd(lambda: triplet_loss(users, pos, neg, margin=1.0), users, pos, neg)
    ut, it = torch.randn(n // 8, 16, generator=g).requires_grad_(), torch.randn(512, 16, generator=g).requires_grad_()
    indptr = torch.arange(0, n + 1, 8)  # 8 items per user, nnz = n
    indices = torch.randint(0, 512, (n,), generator=g)
    out["cml gather_dots"] = fwd_bwd(lambda: torch.ops.torchauc.cml_gather_dots(ut, it, indptr, indices).sum(), ut, it)
    return out


def xcurve_cases(n):
    from torchauc.compat.xcurve import AdvAUROCLoss as Ours

    real = torch.Tensor.cuda
    torch.Tensor.cuda = lambda self, *a, **k: self  # XCurve hard-codes .cuda()
    try:
        from XCurve.AUROC.losses.AdversarialAUROC import AdvAUROCLoss

        theirs = AdvAUROCLoss(imratio=0.1)
    finally:
        torch.Tensor.cuda = real
    g = torch.Generator().manual_seed(0)
    s = torch.rand(n, 1, generator=g)
    y = (torch.rand(n, 1, generator=g) < 0.1).long()
    x = s.clone().requires_grad_()
    ours = Ours(imratio=0.1)
    return {"AdvAUROCLoss": fwd_bwd(lambda: ours(x, y), x), "XCurve AdvAUROCLoss": fwd_bwd(lambda: theirs(x, y), x)}


def main():
    torch.set_num_threads(2)
    results = {"torchauc": torchauc.__file__}
    for n in (64, 256, 1024):
        for name, fn in cases(n).items():
            results[f"{name} n={n}"] = per_call_us(fn)
    for n in (1000, 100_000):
        for name, fn in xcurve_cases(n).items():
            results[f"{name} n={n}"] = per_call_us(fn)
    json.dump(results, sys.stdout)
    print()


if __name__ == "__main__":
    main()
