"""Pure-PyTorch top-k references: the float64 oracles of the AUTKC family (full sorts, Python loops
over rows on small inputs) and the sort-based baselines (what XCurve computes, device-agnostic)."""

import torch
import torch.nn.functional as F


def topk_columns(
    scores: torch.Tensor, labels: torch.Tensor, k, margin: float = 0.0, include_label: bool = False
) -> torch.Tensor:
    """Brute force: per row, every candidate column sorted by (value desc, NaN first, column asc)."""
    out = []
    for row, y in zip(scores.double().tolist(), labels.reshape(-1).tolist()):
        cand = [(v + (margin if j != y else 0.0), j) for j, v in enumerate(row) if include_label or j != y]
        cand.sort(key=lambda t: (0 if t[0] != t[0] else 1, -t[0] if t[0] == t[0] else 0, t[1]))
        out.append([j for _, j in cand[:k]])
    return torch.tensor(out, dtype=torch.long).reshape(len(out), k)


def _competitors_sorted(x, y):
    """(B, C - 1) non-label scores sorted descending (full sort, as XCurve)."""
    B, C = x.shape
    keep = torch.arange(C, device=x.device)[None, :] != y.reshape(-1, 1)
    return x[keep].view(B, C - 1).sort(dim=1, descending=True)[0]


def autkc_loss(
    logits: torch.Tensor, labels: torch.Tensor, k, surrogate: str = "square", terms: str = "k"
) -> torch.Tensor:
    y = labels.reshape(-1, 1).long()
    s = logits if surrogate == "hinge" else torch.softmax(logits, dim=-1)
    m = k + 1 if terms == "xcurve" else k
    t = s.gather(1, y) - _competitors_sorted(s, y)[:, :m]
    loss = {
        "square": lambda t: (1 - t) ** 2,
        "exp": lambda t: torch.exp(-t),
        "logistic": lambda t: F.softplus(-t),
        "hinge": lambda t: torch.clamp_min(1 - t, 0),
    }[surrogate](t)
    return (loss.sum(1) / k).mean()


def ce_topk_loss(logits: torch.Tensor, labels: torch.Tensor, k) -> torch.Tensor:
    y = labels.reshape(-1, 1).long()
    z = _competitors_sorted(logits, y)[:, k - 1 :] - logits.gather(1, y)
    return torch.log1p(torch.exp(z).sum(1)).mean()


def hinge_topk_loss(x: torch.Tensor, labels: torch.Tensor, k, loss_type, label: str = "exclude") -> torch.Tensor:
    y = labels.reshape(-1, 1).long()
    x_y = x.gather(1, y)
    if loss_type in ("l2", "l3"):
        a = (x + torch.ones_like(x).scatter(1, y, 0.0)).sort(dim=1, descending=True)[0][:, :k]
        if loss_type == "l2":
            return torch.clamp_min(a.mean(1, keepdim=True) - x_y, 0).mean()
        return torch.clamp_min(a - x_y, 0).mean()
    if loss_type == "l5":
        return torch.clamp_min(1 + x.sort(dim=1, descending=True)[0][:, k : k + 1] - x_y, 0).mean()
    if label == "zero":
        top = x.scatter(1, y, 0.0).sort(dim=1, descending=True)[0][:, :k]
    else:
        top = _competitors_sorted(x, y)[:, :k]
    kth = top[:, -1:] if loss_type == "l1" else top.mean(1, keepdim=True)
    return torch.clamp_min(1 + kth - x_y, 0).mean()


def autkc(scores: torch.Tensor, labels: torch.Tensor, k) -> float:
    """(1/K) sum_{i<=K} 1[rank <= i] with rank = 1 + #competitors >= the label's score, row loop."""
    vals = []
    for row, y in zip(scores.double().tolist(), labels.reshape(-1).tolist()):
        rank = 1 + sum(1 for j, v in enumerate(row) if j != y and v >= row[y])
        vals.append(sum(1.0 for i in range(1, k + 1) if rank <= i) / k)
    return sum(vals) / len(vals)


def topk_accuracy(scores: torch.Tensor, labels: torch.Tensor, k) -> float:
    hits = []
    for row, y in zip(scores.double().tolist(), labels.reshape(-1).tolist()):
        hits.append(1.0 if sum(1 for j, v in enumerate(row) if j != y and v >= row[y]) < k else 0.0)
    return sum(hits) / len(hits)
