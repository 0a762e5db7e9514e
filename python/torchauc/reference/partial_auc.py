"""Pure-PyTorch references of the partial AUC family: explicit selection by a full sort and
pair-matrix losses (what XCurve and LibAUC compute), as test oracles and benchmark baselines."""

import math

import torch

from .pairwise import _flat, pair_surrogate


def kept_count(fraction, n, rounding="floor"):
    """R(fraction * n) with a relative 1e-9 slack, clamped to [0, n] (csrc/core/kept_count.h)."""
    x = fraction * n
    slack = 1e-9 * max(x, 1.0)
    k = {"floor": math.floor(x + slack), "ceil": math.ceil(x - slack), "round": math.floor(x + 0.5 + slack)}[rounding]
    return min(max(k, 0), n)


def partial_auc_select(scores, labels, max_fpr, min_tpr=0.0, rounding="floor"):
    """Explicit selection by a full stable sort (hardest first, ties by index, NaN hardest)."""
    s, y = _flat(scores).detach().double().cpu().tolist(), _flat(labels).bool().cpu()
    mask = torch.zeros(len(s), dtype=torch.bool)
    for cls, frac, sign in ((False, max_fpr, 1.0), (True, 1.0 - min_tpr, -1.0)):
        idx = torch.nonzero(y == cls).reshape(-1).tolist()
        key = lambda i: (0, 0.0, i) if math.isnan(s[i]) else (1, -sign * s[i], i)
        for i in sorted(idx, key=key)[: kept_count(frac, len(idx), rounding)]:
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


__all__ = [
    "kept_count",
    "partial_auc_select",
    "partial_auc_loss",
    "relaxed_tpauc_loss",
    "pauc_cvar_step",
    "pauc_dro_step",
    "tpauc_kl_step",
]
