"""Float64 brute force of the LibAUC drop-ins (test oracles): the AUC-M objective as the paper
writes it and one SOAP step with explicit pair matrices, label by label."""

import torch


def surrogate(kind, margin, t) -> torch.Tensor:
    """LibAUC's surrogates by their formulas; ``margin`` is the scale s for ``logistic`` (as a
    softplus: no overflow) and (m, s) for ``barrier_hinge``."""
    if kind == "squared_hinge":
        return torch.clamp(margin - t, min=0) ** 2
    if kind == "hinge":
        return torch.clamp(margin - t, min=0)
    if kind == "logistic":  # log(1 + e^x) = logaddexp(0, x): exact (softplus linearises above 20)
        x = -margin * t
        return torch.logaddexp(torch.zeros_like(x), x)
    if kind == "barrier_hinge":
        m, s = margin
        return torch.maximum(-s * (m + t) + m, torch.maximum(m - t, s * (t - m)))
    return (margin - t) ** 2


def aucm(h, y: torch.Tensor, a, b, alpha, margin: float, version, p=None) -> torch.Tensor:
    """Per-label AUC-M losses of a (B, C) batch, the paper's formulas (v2: mean_N h - mean_P h);
    an absent class drops its terms."""
    out = []
    for c in range(h.shape[1]):
        hc, pc = h[:, c].double(), y[:, c] == 1
        if version == "v1":
            q = pc.double().mean() if p is None else torch.as_tensor(p, dtype=torch.float64).reshape(-1)[c]
            n = hc.numel()
            val = (
                (1 - q) * ((hc[pc] - a[c]) ** 2).sum() / n
                + q * ((hc[~pc] - b[c]) ** 2).sum() / n
                + 2 * alpha[c] * (q * (1 - q) * margin + (q * hc[~pc].sum() - (1 - q) * hc[pc].sum()) / n)
                - q * (1 - q) * alpha[c] ** 2
            )
        else:
            val = -(alpha[c] ** 2)
            if pc.any():
                val = val + ((hc[pc] - a[c]) ** 2).mean()
            if (~pc).any():
                val = val + ((hc[~pc] - b[c]) ** 2).mean()
            if pc.any() and (~pc).any():
                val = val + 2 * alpha[c] * (margin + hc[~pc].mean() - hc[pc].mean())
        out.append(val)
    return torch.stack(out)


def soap_step(
    scores: torch.Tensor,
    labels: torch.Tensor,
    index: torch.Tensor,
    u_all,
    u_pos,
    gamma,
    margin,
    kind,
    top_k=-1,
    tasks=None,
):
    """One SOAP forward on (n, C) scores with per-sample ``index`` and float64 states u_all, u_pos
    of shape (C, data_len). Returns (loss, new u_all, new u_pos); the loss is differentiable in
    ``scores`` with the weights detached. Labels without positives contribute 0."""
    n, C = scores.shape
    tasks = list(range(C)) if tasks is None else tasks
    u_all, u_pos = u_all.clone(), u_pos.clone()
    total = scores.new_zeros((), dtype=torch.float64)
    for c in tasks:
        h = scores[:, c].double()
        pos = labels[:, c] == 1
        if not pos.any():
            continue
        idx = index[pos]
        sur = surrogate(kind, margin, h[pos][:, None] - h[None, :])  # (n+, n) pair matrix
        posf = pos.double()
        u_all[c, idx] = (1 - gamma) * u_all[c, idx] + gamma * sur.detach().mean(1)
        u_pos[c, idx] = (1 - gamma) * u_pos[c, idx] + gamma * (sur.detach() * posf).mean(1)
        ua, up = u_all[c, idx][:, None], u_pos[c, idx][:, None]
        w = (up - ua * posf[None, :]) / ua**2
        if top_k > -1:
            w = w * torch.sigmoid(top_k - sur.detach().sum(0, keepdim=True))
        total = total + (w.detach() * sur).mean()
    return total / len(tasks), u_all, u_pos
