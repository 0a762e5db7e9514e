"""UPAUCI (the fused partial_auc_upauci op) vs the plain PyTorch formula, and the GMoP AUC term
(rank-1 weighted square pairwise op) vs the official pair matrix. Forward + backward, values checked."""

import torch

import torchauc
from torchauc.reference import openworld as RO
from torchauc.reference import partial_auc as R

from .harness import Case


def _upauci_case(n, device, min_tpr):
    g = torch.Generator().manual_seed(0)
    s = torch.rand(n, generator=g).to(device)
    y = (torch.rand(n, generator=g) < 0.2).long().to(device)
    c = torch.rand(n, generator=g).to(device)
    p = torch.tensor([0.9, 0.1, 0.2, 0.3, 0.8, 0.1, 0.2], dtype=torch.float64, device=device)

    def ours():
        t, w, q = (x.detach().clone().requires_grad_() for x in (s, c, p))
        v = torchauc.functional.upauci_loss(t, y, w, q, max_fpr=0.3, min_tpr=min_tpr, omega=0.5)
        v.backward()
        return v.detach()

    def plain():  # the direct formula with autograd (float32 scores, like ours)
        t, w, q = (x.detach().clone().requires_grad_() for x in (s, c, p))
        v = R.upauci_objective(t, y, w, *q, 0.3, min_tpr, 0.5)
        v.backward()
        return v.detach()

    way = "TPAUC" if min_tpr else "OPAUC"
    return Case("upauci", f"UPAUCI loss ({way}) fwd+bwd", f"n={n}", ours, {"plain PyTorch formula": plain}, rtol=1e-4)


def _gmop_case(B, device):
    g = torch.Generator().manual_seed(1)
    r = torch.rand(B, generator=g).to(device)
    is_id = (torch.rand(B, generator=g) < 2 / 3).to(device)
    w = torch.rand(B, generator=g).to(device)
    v = torch.rand(B, generator=g).to(device)
    n_pairs = int(is_id.sum()) * int((~is_id).sum())

    def ours():
        t, a = r.detach().clone().requires_grad_(), w.detach().clone().requires_grad_()
        loss = torchauc.functional.pairwise_auc_loss(
            t, is_id, surrogate="square", margin=1.0, pos_weights=a, neg_weights=v, reduction="sum"
        )
        loss = loss / n_pairs
        loss.backward()
        return loss.detach()

    def official():
        t, a = r.detach().clone().requires_grad_(), w.detach().clone().requires_grad_()
        loss = RO.gmop_auc_pairs(t, is_id, a, v)
        loss.backward()
        return loss.detach()

    return Case("upauci", "GMoP AUC term (one detector) fwd+bwd", f"B={B}", ours, {"official pair matrix": official})


def cases(device: torch.device | str | None, quick: bool):
    n = 100_000 if quick else 1_000_000
    out = [_upauci_case(n, device, 0.0), _upauci_case(n, device, 0.4)]
    for B in (32, 4096):
        out.append(_gmop_case(B, device))
    return out
