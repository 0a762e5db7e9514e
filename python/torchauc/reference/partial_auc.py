"""Pure-PyTorch references of the partial AUC family: explicit selection by a full sort and
pair-matrix losses (what XCurve and LibAUC compute), as test oracles and benchmark baselines."""

import math

import torch

from .pairwise import _flat, pair_surrogate


def kept_count(fraction, n, rounding: str = "floor") -> int:
    """R(fraction * n) with a relative 1e-9 slack, clamped to [0, n] (csrc/core/kept_count.h)."""
    x = fraction * n
    slack = 1e-9 * max(x, 1.0)
    k = {"floor": math.floor(x + slack), "ceil": math.ceil(x - slack), "round": math.floor(x + 0.5 + slack)}[rounding]
    return min(max(k, 0), n)


def partial_auc_select(
    scores: torch.Tensor, labels: torch.Tensor, max_fpr: float, min_tpr: float = 0.0, rounding: str = "floor"
) -> torch.Tensor:
    """Explicit selection by a full stable sort (hardest first, ties by index, NaN hardest)."""
    s, y = _flat(scores).detach().double().cpu().tolist(), _flat(labels).bool().cpu()
    mask = torch.zeros(len(s), dtype=torch.bool)
    for cls, frac, sign in ((False, max_fpr, 1.0), (True, 1.0 - min_tpr, -1.0)):
        idx = torch.nonzero(y == cls).reshape(-1).tolist()
        key = lambda i: (0, 0.0, i) if math.isnan(s[i]) else (1, -sign * s[i], i)
        for i in sorted(idx, key=key)[: kept_count(frac, len(idx), rounding)]:
            mask[i] = True
    return mask


def partial_auc_loss(
    scores: torch.Tensor,
    labels: torch.Tensor,
    max_fpr: float,
    min_tpr: float = 0.0,
    surrogate: str = "square",
    margin: float = 1.0,
    rounding: str = "floor",
) -> torch.Tensor:
    """Pair-matrix mean of the surrogate over the selected positives x selected negatives."""
    mask = partial_auc_select(scores, labels, max_fpr, min_tpr, rounding)
    s, y = _flat(scores), _flat(labels).bool()
    x, z = s[y & mask], s[~y & mask]
    if x.numel() == 0 or z.numel() == 0:
        return (s * 0).sum()
    return pair_surrogate(surrogate, margin, x[:, None] - z[None, :]).mean()


def relaxed_tpauc_loss(
    scores: torch.Tensor,
    labels: torch.Tensor,
    weight: str = "poly",
    gamma: float = 1.0,
    margin: float = 1.0,
    auc_type: str = "TP",
    eps: float = 1e-6,
) -> torch.Tensor:
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


def pauc_cvar_step(
    scores: torch.Tensor,
    labels: torch.Tensor,
    u,
    margin: float = 1.0,
    beta: float = 0.2,
    eta: float = 0.1,
    surr: str = "squared_hinge",
):
    """One SOPA step on the pair matrix: (loss, new thresholds) for the positives' thresholds u."""
    s, y = _flat(scores), _flat(labels).bool()
    l = _libauc_surrogate(surr, margin, s[y][:, None] - s[~y][None, :])
    p = (l > u[:, None]).detach()
    new_u = u - eta * (1 - p.sum(1) / (beta * l.shape[1]))
    return (p * l).mean() / beta, new_u


def pauc_dro_step(
    scores: torch.Tensor,
    labels: torch.Tensor,
    u,
    margin: float = 1.0,
    gamma: float = 0.9,
    Lambda: float = 1.0,
    surr: str = "squared_hinge",
):
    """One SOPA-s step on the pair matrix: (loss, new u)."""
    s, y = _flat(scores), _flat(labels).bool()
    l = _libauc_surrogate(surr, margin, s[y][:, None] - s[~y][None, :])
    e = torch.exp(l / Lambda)
    new_u = (1 - gamma) * u + gamma * e.mean(1).detach()
    return ((e / new_u[:, None]).detach() * l).mean(), new_u


def tpauc_kl_step(
    scores: torch.Tensor,
    labels: torch.Tensor,
    u,
    w,
    margin: float = 1.0,
    tau: float = 1.0,
    Lambda: float = 1.0,
    gammas=(0.9, 0.9),
    surr: str = "squared_hinge",
):
    """One SOTA-s step on the pair matrix: (loss, new u, new w)."""
    s, y = _flat(scores), _flat(labels).bool()
    l = _libauc_surrogate(surr, margin, s[y][:, None] - s[~y][None, :])
    e = torch.exp(l / Lambda).detach()
    new_u = (1 - gammas[0]) * u + gammas[0] * e.mean(1)
    new_w = (1 - gammas[1]) * w + gammas[1] * new_u.pow(Lambda / tau).mean()
    p = (new_u.pow(Lambda / tau - 1)[:, None] * e / new_w).detach()
    return (p * l).mean(), new_u, new_w


def upauci_objective(
    scores: torch.Tensor,
    labels: torch.Tensor,
    c,
    a,
    b,
    g,
    s,
    sn,
    theta_a,
    theta_b,
    max_fpr: float,
    min_tpr: float = 0.0,
    omega: float = 0.0,
):
    """UPAUCI written as the paper's expectation, evaluated directly in float64:
    Ê[H] with the y/p and (1-y)/(1-p) weights of Eqs. (16)-(26), the Lagrange terms and the
    -omega (g^2 + mean c^2) regulariser (mean over the weighted samples: negatives one-way, all two-way)."""
    f, y, c = _flat(scores).double(), _flat(labels).double(), _flat(c).double()
    p, beta, alpha, two_way = y.mean(), max_fpr, 1.0 - min_tpr, min_tpr > 0
    one = torch.ones_like(p)  # an absent class contributes 0: y / p is 0 there, whatever p
    p, q = torch.where(p > 0, p, one), torch.where(p < 1, 1 - p, one)
    P = (f - a) ** 2 - 2 * (1 + g) * f
    N = (f - b) ** 2 + 2 * (1 + g) * f
    if two_way:
        pos = (alpha * s + c * (P - s)) * y / (alpha * p)
        reg_c = (c * c).mean()
    else:
        pos = P * y / p
        reg_c = (c * c * (1 - y)).sum() / (1 - y).sum().clamp_min(1)
    neg = (beta * sn + c * (N - sn)) * (1 - y) / (beta * q)
    H = (pos + neg).mean() - g**2 - theta_b * (b - 1 - g) - omega * (g**2 + reg_c)
    return H + theta_a * (a + g) if two_way else H


def upauci_asgda(objective, mins, clips, g, c, batches, *, nu, lam, k, m, iota1, iota2) -> None:
    """Algorithm 1 (ASGDA) of the TPAMI 2026 paper, written out plainly with dense autograd.

    ``objective(batch, mins, g, c)`` returns the batch objective (``c`` the full (N,) weight vector);
    ``mins`` are the min-side leaf tensors (model weights, a, b, s, s', theta_a, theta_b) with
    ``clips[i]`` = (lo, hi) or None; ``g`` the max-side scalar (domain [-1, 1]); ``c`` (N,) in [0, 1],
    updated only at the batch's ids (``batch[-1]``) as torchauc's sparse rule. The estimators start
    at 0; two gradients per iteration on the same batch. Updates the tensors in place."""
    v = [torch.zeros_like(x) for x in mins]
    w, wc = torch.zeros_like(g), torch.zeros_like(c)

    def grads(batch):
        xs = [x.detach().requires_grad_() for x in mins]
        gg, cc = g.detach().requires_grad_(), c.detach().requires_grad_()
        out = torch.autograd.grad(objective(batch, xs, gg, cc), xs + [gg, cc], allow_unused=True)
        return [torch.zeros_like(x) if d is None else d for x, d in zip(xs + [gg, cc], out)]

    for t, batch in enumerate(batches):
        ids = batch[-1].unique()
        eta = k / (m + t) ** (1.0 / 3.0)
        old = grads(batch)
        with torch.no_grad():
            for i, x in enumerate(mins):
                target = x - nu * v[i]
                if clips[i] is not None:
                    target = target.clamp(*clips[i])
                x.copy_((1 - eta) * x + eta * target)
            g.copy_((1 - eta) * g + eta * (g + lam * w).clamp(-1.0, 1.0))
            c[ids] = (1 - eta) * c[ids] + eta * (c[ids] + lam * wc[ids]).clamp(0.0, 1.0)
        new = grads(batch)
        rho, xi = iota1 * eta**2, iota2 * eta**2
        with torch.no_grad():
            for i in range(len(mins)):
                v[i] = new[i] + (1 - rho) * (v[i] - old[i])
            w = new[-2] + (1 - xi) * (w - old[-2])
            wc[ids] = new[-1][ids] + (1 - xi) * (wc[ids] - old[-1][ids])


__all__ = [
    "upauci_objective",
    "upauci_asgda",
    "kept_count",
    "partial_auc_select",
    "partial_auc_loss",
    "relaxed_tpauc_loss",
    "pauc_cvar_step",
    "pauc_dro_step",
    "tpauc_kl_step",
]
