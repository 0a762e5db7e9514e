"""Pure-PyTorch AUROC definitions: the test oracles (float64 pair matrices, small n) and a
sort-based pure-PyTorch baseline (what a user would write by hand)."""

import torch

from .partial_auc import kept_count


def _heaviside(t):
    return (t > 0).double() + 0.5 * (t == 0).double()


def auroc_pairs(scores, labels, sample_weights=None):
    """sum_{p, q} w_p w_q H(s_p - s_q) / (sum w_p sum w_q) from the n+ x n- pair matrix."""
    s, y = scores.reshape(-1).double(), labels.reshape(-1).bool()
    w = torch.ones_like(s) if sample_weights is None else sample_weights.reshape(-1).double()
    wp, wn = w[y], w[~y]
    num = (wp[:, None] * wn[None, :] * _heaviside(s[y][:, None] - s[~y][None, :])).sum()
    return num / (wp.sum() * wn.sum())


def partial_auroc_pairs(scores, labels, max_fpr, min_tpr, normalize=True):
    """The two-way partial AUROC by brute force: keep floor((1-min_tpr) n+) lowest positives and
    floor(max_fpr n-) highest negatives (python ints), pair-matrix rank sum on the subset."""
    s, y = scores.reshape(-1).double(), labels.reshape(-1).bool()
    x, z = torch.sort(s[y]).values, torch.sort(s[~y], descending=True).values
    kp = kept_count(1.0 - min_tpr, x.numel())
    kn = kept_count(max_fpr, z.numel())
    u = _heaviside(x[:kp][:, None] - z[:kn][None, :]).sum()
    return u / (kp * kn) if normalize else u / (x.numel() * z.numel())


def hand_till_pairs(scores, labels):
    """Hand & Till's M by pair matrices: mean over i != j of A(i|j)."""
    C = scores.shape[1]
    total = 0.0
    for i in range(C):
        for j in range(C):
            if i != j:
                p, q = scores[labels == i, i].double(), scores[labels == j, i].double()
                total += float(_heaviside(p[:, None] - q[None, :]).mean())
    return total / (C * (C - 1))


def openworld_auroc_pairs(scores, is_base, correct):
    """The triple-indicator pair definition of OpenworldAUC (ties 1/2)."""
    s, b, c = scores.reshape(-1).double(), is_base.reshape(-1).bool(), correct.reshape(-1).double()
    h = _heaviside(s[b][:, None] - s[~b][None, :])
    return (c[b][:, None] * c[~b][None, :] * h).sum() / (b.sum() * (~b).sum())


def openworld_opt_pairs(scores, is_base, correct, variant):
    """Opt-a ("a": the new side's correctness dropped) or Opt-g ("g": the base side's) by the pair matrix."""
    s, b, c = scores.reshape(-1).double(), is_base.reshape(-1).bool(), correct.reshape(-1).double()
    h = _heaviside(s[b][:, None] - s[~b][None, :])
    cb = c[b] if variant == "a" else torch.ones_like(c[b])
    cn = c[~b] if variant == "g" else torch.ones_like(c[~b])
    return (cb[:, None] * cn[None, :] * h).sum() / (b.sum() * (~b).sum())


def auroc_sort(scores, labels):
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
