"""Pure-PyTorch references of the pairwise family: test oracles (float64) and benchmark baselines.

Two kinds per op: the literal pair-matrix definition (what XCurve/LibAUC do), and, where one exists,
the best pure-PyTorch closed form (O(n) moments or sort + prefix sums), so benchmarks compare against
the strongest baseline a user could write by hand."""

import torch
import torch.nn.functional as TF


def _flat(x):
    return x.reshape(-1)


def pair_surrogate(surrogate, margin: float, t) -> torch.Tensor:
    """l(m, t) on a tensor of pair differences t = s_pos - s_neg."""
    m = margin
    if surrogate == "square":
        return (m - t) ** 2
    if surrogate == "exp":
        return torch.exp(-m * t)
    if surrogate == "hinge":
        return torch.relu(m - t)
    if surrogate == "squared_hinge":
        return torch.relu(m - t) ** 2
    if surrogate == "logistic":
        return TF.softplus(-m * t)
    if surrogate == "sigmoid":
        return torch.sigmoid(-m * t)
    raise ValueError(f"unknown surrogate {surrogate!r}")


def pairwise_auc_loss(
    scores: torch.Tensor,
    labels: torch.Tensor,
    surrogate: str = "square",
    margin: float = 1.0,
    pos_weights=None,
    neg_weights=None,
    reduction: str = "mean",
) -> torch.Tensor:
    """Pair-matrix definition: builds the n+ x n- matrix of l(m, s_i - s_j) (O(n+ n-) memory)."""
    s, y = _flat(scores), _flat(labels).bool()
    x, z = s[y], s[~y]
    a = _flat(pos_weights)[y] if pos_weights is not None else torch.ones_like(x)
    b = _flat(neg_weights)[~y] if neg_weights is not None else torch.ones_like(z)
    if x.numel() == 0 or z.numel() == 0:
        return (s * 0).sum()
    w = a[:, None] * b[None, :]
    total = (w * pair_surrogate(surrogate, margin, x[:, None] - z[None, :])).sum()
    if reduction == "sum":
        return total
    return total / w.sum()


def pairwise_auc_loss_closed_form(
    scores: torch.Tensor, labels: torch.Tensor, surrogate: str = "square", margin: float = 1.0, reduction: str = "mean"
) -> torch.Tensor:
    """Best hand-written pure-PyTorch form (unweighted): O(n) moments for square/exp, sort + cumsum +
    searchsorted for hinge/squared_hinge. Other surrogates have no closed form."""
    s, y = _flat(scores), _flat(labels).bool()
    x, z = s[y], s[~y]
    npos, nneg = x.numel(), z.numel()
    if npos == 0 or nneg == 0:
        return (s * 0).sum()
    m = margin
    if surrogate == "square":
        u = m - x
        total = nneg * (u * u).sum() + 2 * u.sum() * z.sum() + npos * (z * z).sum()
    elif surrogate == "exp":
        total = torch.exp(-m * x).sum() * torch.exp(m * z).sum()
    elif surrogate in ("hinge", "squared_hinge"):
        u = m - x
        zs, _ = torch.sort(z)
        zeros = zs.new_zeros(1)
        c0 = torch.arange(nneg, -1, -1, device=s.device, dtype=s.dtype)  # count of z at rank >= k
        c1 = torch.cat([torch.flip(torch.cumsum(torch.flip(zs, [0]), 0), [0]), zeros])
        k = torch.searchsorted(zs, -u, right=True)
        if surrogate == "hinge":
            total = (u * c0[k] + c1[k]).sum()
        else:
            c2 = torch.cat([torch.flip(torch.cumsum(torch.flip(zs * zs, [0]), 0), [0]), zeros])
            total = (u * u * c0[k] + 2 * u * c1[k] + c2[k]).sum()
    else:
        raise ValueError(f"no closed form for surrogate {surrogate!r}")
    return total if reduction == "sum" else total / (npos * nneg)


__all__ = ["pair_surrogate", "pairwise_auc_loss", "pairwise_auc_loss_closed_form"]
