"""Pure-PyTorch implementations: the test oracles (float64) and the benchmark baselines.

Two kinds per op: the literal pair-matrix definition (what XCurve/LibAUC do), and, where one exists,
the best pure-PyTorch closed form (O(n) moments or sort + prefix sums), so benchmarks compare against
the strongest baseline a user could write by hand."""
import torch
import torch.nn.functional as TF


def _flat(x):
    return x.reshape(-1)


def pair_surrogate(surrogate, margin, t):
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
    scores, labels, surrogate="square", margin=1.0, pos_weights=None, neg_weights=None, reduction="mean"
):
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


def pairwise_auc_loss_closed_form(scores, labels, surrogate="square", margin=1.0, reduction="mean"):
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


# ---- partial AUC family: pair-matrix / explicit-selection references ----------------------------
def partial_auc_select(scores, labels, max_fpr, min_tpr=0.0, rounding="floor"):
    """Explicit selection by a full stable sort (hardest first, ties by index, NaN hardest)."""
    import math

    s, y = _flat(scores).detach().double().cpu().tolist(), _flat(labels).bool().cpu()
    mask = torch.zeros(len(s), dtype=torch.bool)

    def count(frac, n):
        x = frac * n
        slack = 1e-9 * max(x, 1.0)
        k = {"floor": math.floor(x + slack), "ceil": math.ceil(x - slack), "round": math.floor(x + 0.5 + slack)}[rounding]
        return min(max(k, 0), n)

    for cls, frac, sign in ((False, max_fpr, 1.0), (True, 1.0 - min_tpr, -1.0)):
        idx = torch.nonzero(y == cls).reshape(-1).tolist()
        key = lambda i: (0, 0.0, i) if math.isnan(s[i]) else (1, -sign * s[i], i)
        for i in sorted(idx, key=key)[: count(frac, len(idx))]:
            mask[i] = True
    return mask


def partial_auc_loss(scores, labels, max_fpr, min_tpr=0.0, surrogate="square", margin=1.0, rounding="floor"):
    """Pair-matrix mean of the surrogate over the selected positives x selected negatives."""
    mask = partial_auc_select(scores, labels, max_fpr, min_tpr, rounding)
    s, y = _flat(scores), _flat(labels).bool()
    x, z = s[y & mask], s[~y & mask]
    if x.numel() == 0 or z.numel() == 0:
        return (s * 0).sum()
    return pair_surrogate(surrogate, margin, x[:, None] - z[None, :]).mean()


def relaxed_tpauc_loss(scores, labels, weight="poly", gamma=1.0, margin=1.0, auc_type="TP", eps=1e-6):
    """XCurve/ICML pair-matrix form: mean_ij v+_i v-_j (m + s_j - s_i)^2 (outer-product weights)."""
    s, y = _flat(scores), _flat(labels).bool()
    x, z = s[y], s[~y]
    if weight == "poly":
        vp, vn = (1 - x + eps) ** gamma, (z + eps) ** gamma
    else:
        vp, vn = 1 - torch.exp(-gamma * (1 - x)), 1 - torch.exp(-gamma * z)
    if auc_type == "OP":
        vp = torch.ones_like(x)
    w = torch.mm(vp[:, None], vn[None, :])
    return (w * (margin + z[None, :] - x[:, None]) ** 2).mean()


def _libauc_surrogate(surr, margin, t):
    return torch.relu(margin - t) ** 2 if surr == "squared_hinge" else torch.relu(margin - t)


def pauc_cvar_step(scores, labels, u, margin=1.0, beta=0.2, eta=0.1, surr="squared_hinge"):
    """One SOPA step on the pair matrix: (loss, new thresholds) for the positives' thresholds u."""
    s, y = _flat(scores), _flat(labels).bool()
    l = _libauc_surrogate(surr, margin, s[y][:, None] - s[~y][None, :])
    p = (l > u[:, None]).detach()
    new_u = u - eta * (1 - p.sum(1) / (beta * l.shape[1]))
    return (p * l).mean() / beta, new_u


def pauc_dro_step(scores, labels, u, margin=1.0, gamma=0.9, Lambda=1.0, surr="squared_hinge"):
    """One SOPA-s step on the pair matrix: (loss, new u)."""
    s, y = _flat(scores), _flat(labels).bool()
    l = _libauc_surrogate(surr, margin, s[y][:, None] - s[~y][None, :])
    e = torch.exp(l / Lambda)
    new_u = (1 - gamma) * u + gamma * e.mean(1).detach()
    return ((e / new_u[:, None]).detach() * l).mean(), new_u


def tpauc_kl_step(scores, labels, u, w, margin=1.0, tau=1.0, Lambda=1.0, gammas=(0.9, 0.9), surr="squared_hinge"):
    """One SOTA-s step on the pair matrix: (loss, new u, new w)."""
    s, y = _flat(scores), _flat(labels).bool()
    l = _libauc_surrogate(surr, margin, s[y][:, None] - s[~y][None, :])
    e = torch.exp(l / Lambda).detach()
    new_u = (1 - gammas[0]) * u + gammas[0] * e.mean(1)
    new_w = (1 - gammas[1]) * w + gammas[1] * new_u.pow(Lambda / tau).mean()
    p = (new_u.pow(Lambda / tau - 1)[:, None] * e / new_w).detach()
    return (p * l).mean(), new_u, new_w


__all__ += ["partial_auc_select", "partial_auc_loss", "relaxed_tpauc_loss", "pauc_cvar_step", "pauc_dro_step",
            "tpauc_kl_step"]
# ---- AUCSeg T-Memory Bank: per-image official algorithm (cv2-free), benchmark baseline and oracle
from .memory_bank_reference import TMemoryBankReference, resize_linear, resize_nearest  # noqa: E402,F401
# ---- multiclass / pixel-level AUC loss (multiclass branch): see _reference_multiclass.py
from ._reference_multiclass import (  # noqa: E402
    aucseg_auc_loss,
    multiclass_auc_loss_pairs,
    xcurve_multiclass_auc_loss,
)

__all__ += ["multiclass_auc_loss_pairs", "xcurve_multiclass_auc_loss", "aucseg_auc_loss"]
