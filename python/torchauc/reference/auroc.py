"""Pure-PyTorch AUROC definitions: the test oracles (float64 pair matrices, small n) and a
sort-based pure-PyTorch baseline (what a user would write by hand)."""

import torch

from .partial_auc import kept_count


def _heaviside(t):
    return (t > 0).double() + 0.5 * (t == 0).double()


def auroc_pairs(scores: torch.Tensor, labels: torch.Tensor, sample_weights: torch.Tensor | None = None):
    """sum_{p, q} w_p w_q H(s_p - s_q) / (sum w_p sum w_q) from the n+ x n- pair matrix."""
    s, y = scores.reshape(-1).double(), labels.reshape(-1).bool()
    w = torch.ones_like(s) if sample_weights is None else sample_weights.reshape(-1).double()
    wp, wn = w[y], w[~y]
    num = (wp[:, None] * wn[None, :] * _heaviside(s[y][:, None] - s[~y][None, :])).sum()
    return num / (wp.sum() * wn.sum())


def partial_auroc_pairs(
    scores: torch.Tensor, labels: torch.Tensor, max_fpr: float, min_tpr: float, normalize: bool = True
) -> torch.Tensor:
    """The two-way partial AUROC by brute force: keep floor((1-min_tpr) n+) lowest positives and
    floor(max_fpr n-) highest negatives (python ints), pair-matrix rank sum on the subset."""
    s, y = scores.reshape(-1).double(), labels.reshape(-1).bool()
    x, z = torch.sort(s[y]).values, torch.sort(s[~y], descending=True).values
    kp = kept_count(1.0 - min_tpr, x.numel())
    kn = kept_count(max_fpr, z.numel())
    u = _heaviside(x[:kp][:, None] - z[:kn][None, :]).sum()
    return u / (kp * kn) if normalize else u / (x.numel() * z.numel())


def hand_till_pairs(scores: torch.Tensor, labels: torch.Tensor):
    """Hand & Till's M by pair matrices: mean over i != j of A(i|j)."""
    C = scores.shape[1]
    total = 0.0
    for i in range(C):
        for j in range(C):
            if i != j:
                p, q = scores[labels == i, i].double(), scores[labels == j, i].double()
                total += float(_heaviside(p[:, None] - q[None, :]).mean())
    return total / (C * (C - 1))


def openworld_auroc_pairs(scores: torch.Tensor, is_base: torch.Tensor, correct: torch.Tensor) -> torch.Tensor:
    """The triple-indicator pair definition of OpenworldAUC (ties 1/2)."""
    s, b, c = scores.reshape(-1).double(), is_base.reshape(-1).bool(), correct.reshape(-1).double()
    h = _heaviside(s[b][:, None] - s[~b][None, :])
    return (c[b][:, None] * c[~b][None, :] * h).sum() / (b.sum() * (~b).sum())


def openworld_opt_pairs(scores: torch.Tensor, is_base: torch.Tensor, correct: torch.Tensor, variant) -> torch.Tensor:
    """Opt-a ("a": the new side's correctness dropped) or Opt-g ("g": the base side's) by the pair matrix."""
    s, b, c = scores.reshape(-1).double(), is_base.reshape(-1).bool(), correct.reshape(-1).double()
    h = _heaviside(s[b][:, None] - s[~b][None, :])
    cb = c[b] if variant == "a" else torch.ones_like(c[b])
    cn = c[~b] if variant == "g" else torch.ones_like(c[~b])
    return (cb[:, None] * cn[None, :] * h).sum() / (b.sum() * (~b).sum())


def auroc_sort(scores: torch.Tensor, labels: torch.Tensor) -> torch.Tensor:
    """Tie-aware rank-sum AUROC with torch.sort + unique_consecutive (pure-PyTorch baseline)."""
    s, y = scores.reshape(-1), labels.reshape(-1).bool()
    order = torch.argsort(s)
    ss, ys = s[order], y[order].double()
    _, counts = torch.unique_consecutive(ss, return_counts=True)
    ends = torch.cumsum(counts, 0)
    starts = ends - counts
    ranks = ((starts + ends + 1).double() / 2).repeat_interleave(counts)  # mid-ranks, 1-based
    npos = ys.sum()
    nneg = ys.numel() - npos
    return ((ranks * ys).sum() - npos * (npos + 1) / 2) / (npos * nneg)


__all__ = [
    "auroc_pairs",
    "partial_auroc_pairs",
    "hand_till_pairs",
    "openworld_auroc_pairs",
    "openworld_opt_pairs",
    "auroc_sort",
]


def average_precision_thresholds(
    scores: torch.Tensor, labels: torch.Tensor, sample_weights: torch.Tensor | None = None
) -> torch.Tensor:
    """AP by brute force over the distinct thresholds t (descending): sum (TP_t - TP_prev) / P *
    TP_t / (TP_t + FP_t), TP_t / FP_t the weights at scores >= t (scikit-learn's definition)."""
    s, y = scores.reshape(-1).double(), labels.reshape(-1).bool()
    w = torch.ones_like(s) if sample_weights is None else sample_weights.reshape(-1).double()
    P = w[y].sum()
    ap, prev = 0.0, 0.0
    for t in torch.unique(s).flip(0).tolist():
        above = s >= t
        tp, fp = w[above & y].sum(), w[above & ~y].sum()
        if tp > prev:
            ap += (tp - prev) / P * tp / (tp + fp)
        prev = tp
    return torch.as_tensor(ap, dtype=torch.float64) if P > 0 else torch.tensor(float("nan"), dtype=torch.float64)


def open_auroc_pairs(open_scores, is_known, hit) -> torch.Tensor:
    """OpenAUC from the (known x unknown) pair matrix, ties 1/2."""
    r, k, h = open_scores.reshape(-1).double(), is_known.reshape(-1).bool(), hit.reshape(-1).bool()
    pairs = h[k].double()[:, None] * _heaviside(r[~k][None, :] - r[k][:, None])
    return pairs.sum() / (k.sum() * (~k).sum())
