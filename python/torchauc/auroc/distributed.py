r"""Exact AUROC across torch.distributed ranks without gathering every score (a sample sort).

Every metric here is a Mann-Whitney sum U = sum_{p pos, q neg} w_p w_q H(s_p - s_q) per score column.
The ranks agree on W - 1 splitters per column (weighted quantiles of a fixed-size sample of every
rank's sorted scores), send each entry to the rank owning its score range (one ``all_to_all``, so
each rank sends and receives about N / W entries instead of receiving all N), and compute U of their
range locally (the binary metrics with the library's radix-sort op). Pairs across ranges are ordered
by construction: rank r adds N_r * (positive weight of the ranks above r), from one all_gather of the
per-rank totals. An entry's destination is a function of its value, so a tie group never straddles
two ranks and ties count 1/2 exactly. Unweighted counts are combined in int64; weights in float64.

Ranks may hold different numbers of samples (or none), with or without sample weights (a rank
without weights counts 1 per sample). An invalid input on any rank raises on every rank (the flags
travel in the first collective), so no rank is left waiting in a collective. ``sample_index``: the
dataset index of each sample; entries whose index was already seen (a ``DistributedSampler``
pads the last batch with repeated indices) are dropped, keeping the lowest (rank, position).

``process_group=None`` is the default group. Every rank returns the same value.
"""

import math

import torch
import torch.distributed as dist

from .._core import distributed as D
from .._core import options as O
from .._core import validate as V
from . import functional as F

_SAMPLES = 64  # splitter candidates per rank and column


def _flags(group, device, n, weighted, error):
    """all_gather of (n, weighted, error) from every rank -> (W, 3) int64 on the host."""
    mine = torch.tensor([n, int(weighted), int(error)], dtype=torch.int64, device=device)
    out = [torch.empty_like(mine) for _ in range(D.world_size(group))]
    dist.all_gather(out, mine, group=group)
    return torch.stack(out).cpu()


def _raise_any(flags, message):
    bad = torch.nonzero(flags[:, 2]).reshape(-1).tolist()
    if bad:
        raise ValueError(f"{message} (rank {bad[0]})")


def _dedup(index, group):
    """Keep mask of the entries whose sample index is first seen at the lowest (rank, position):
    indices go to rank index % W, duplicates are found there, the verdicts come back."""
    W, r = D.world_size(group), D.rank(group)
    index = index.reshape(-1).long()
    dest = torch.remainder(index, W)
    order = torch.argsort(dest, stable=True)
    pos = torch.arange(index.numel(), device=index.device)
    tag = torch.stack([index[order], torch.full_like(index, r), pos[order]], 1)
    got, counts = D.all_to_all_rows(tag, torch.bincount(dest, minlength=W), group)
    # first occurrence by (index, rank, position): lexicographic sort, keep where the index changes
    o = torch.argsort(got[:, 2], stable=True)
    o = o[torch.argsort(got[o, 1], stable=True)]
    o = o[torch.argsort(got[o, 0], stable=True)]
    first = torch.ones(o.numel(), dtype=torch.bool, device=index.device)
    first[1:] = got[o[1:], 0] != got[o[:-1], 0]
    verdict = torch.empty_like(first)
    verdict[o] = first
    back, _ = D.all_to_all_rows(verdict.long()[:, None], counts, group)  # rows return in send order
    keep = torch.empty(index.numel(), dtype=torch.bool, device=index.device)
    keep[order] = back[:, 0] != 0
    return keep


def _splitters(s, compact, group):
    """(C, W - 1) splitters of the (N, C) scores: weighted quantiles of _SAMPLES evenly spaced rows
    per rank (sorted per column; each candidate weighs N_r / _SAMPLES); and whether every rank's
    rows are exact in float32 (``compact``), in the same all_gather."""
    W = D.world_size(group)
    N, C = s.shape
    if N:
        rows = ((torch.arange(_SAMPLES, device=s.device) + 0.5) * (N / _SAMPLES)).long()
        cand = s[rows].sort(dim=0).values.T
    else:
        cand = s.new_full((C, _SAMPLES), math.inf)
    mine = torch.cat([cand, cand.new_full((C, _SAMPLES), N / _SAMPLES)], 1).reshape(-1)
    every = torch.stack(_gather_list(torch.cat([mine, mine.new_tensor([float(compact)])]), group))
    compact = bool((every[:, -1] > 0).all())
    every = every[:, :-1].reshape(W, C, 2 * _SAMPLES).transpose(0, 1)  # (C, W, 2 S)
    cand = every[..., :_SAMPLES].reshape(C, -1)
    wt = every[..., _SAMPLES:].reshape(C, -1)
    cand, o = cand.sort(dim=1, stable=True)
    cum = torch.cumsum(wt.gather(1, o), 1)
    target = cum[:, -1:] * torch.arange(1, W, device=s.device, dtype=torch.float64)[None, :] / W
    pick = torch.searchsorted(cum, target).clamp_max(cand.shape[1] - 1)
    return cand.gather(1, pick), compact


def _exchange(s, payload, group):
    """Routes every entry of the (N, C) float64 scores, with its payload row (N * C, k) (entries in
    row-major order), to the rank owning its score range in its column; returns the received
    (column, score, payload). The rows travel as float32 when every value on every rank is exact in
    float32 (float32 scores, 0/1 labels, no weights), else as float64; one column needs no index."""
    W = D.world_size(group)
    N, C = s.shape
    s = s.reshape(-1)
    col = torch.arange(C, device=s.device).repeat(N)
    if W == 1:
        return col, s, payload
    rows = torch.cat([s[:, None], payload] + ([col[:, None].double()] if C > 1 else []), 1)
    split, compact = _splitters(s.view(N, C), bool((rows.float().double() == rows).all()), group)
    # the number of splitters <= s: equal scores always go to the same rank
    dest = torch.searchsorted(split[0], s, right=True) if C == 1 else (s[:, None] >= split[col]).sum(1)
    # grouped by destination: one pass per rank (W is small) instead of a sort of N keys
    order = torch.cat([torch.nonzero(dest == d).reshape(-1) for d in range(W)])
    rows = rows.to(torch.float32 if compact else torch.float64)[order]
    got, _ = D.all_to_all_rows(rows, torch.bincount(dest, minlength=W), group)
    k = payload.shape[1]
    col = got[:, 1 + k].long() if C > 1 else torch.zeros(got.shape[0], dtype=torch.long, device=s.device)
    return col, got[:, 0], got[:, 1 : 1 + k]


def _gather_list(t, group):
    every = [torch.empty_like(t) for _ in range(D.world_size(group))]
    dist.all_gather(every, t.contiguous(), group=group)
    return every


def _gather_all(t, group):
    return torch.stack(_gather_list(t, group))


def _above(per_rank, group):
    """Sum over the ranks above this one of per_rank's (W, ...) rows."""
    return per_rank[D.rank(group) + 1 :].sum(0)


def _column_table(col, s, pos, cls, w, C, K, group):
    """U (C, K): U[c, k] = sum over (p positive in column c, q negative of class k in column c) of
    w_p w_q H(s_p - s_q) over every rank, and the positive and negative weights (C,), (C, K).
    This rank holds one score range per column (after _exchange)."""
    o = torch.argsort(s, stable=True)
    o = o[torch.argsort(col[o], stable=True)]
    col, s, pos, cls, w = col[o], s[o], pos[o], cls[o], w[o]
    new = torch.ones_like(pos)
    new[1:] = (col[1:] != col[:-1]) | (s[1:] != s[:-1])
    gid = torch.cumsum(new.long(), 0) - 1
    pw = torch.where(pos, w, 0.0)
    gp = torch.zeros(int(gid[-1]) + 1 if gid.numel() else 0, dtype=torch.float64, device=s.device)
    gp = gp.index_add(0, gid, pw)
    ptot = torch.zeros(C, dtype=torch.float64, device=s.device).index_add(0, col, pw)
    above_rank = _above(_gather_all(ptot, group), group)  # positive weight in the higher ranges
    incl = torch.cumsum(gp, 0)[gid] - (torch.cumsum(ptot, 0) - ptot)[col]  # up to this tie group
    above = ptot[col] - incl + above_rank[col]
    nw = torch.where(pos, 0.0, w)
    U = torch.zeros(C * K, dtype=torch.float64, device=s.device)
    U = U.index_add(0, col * K + cls, nw * (above + 0.5 * gp[gid]))
    N = torch.zeros(C * K, dtype=torch.float64, device=s.device).index_add(0, col * K + cls, nw)
    sums = D.all_reduce_sum(torch.cat([U, N, ptot]), group)
    return sums[: C * K].reshape(C, K), sums[2 * C * K :], sums[C * K : 2 * C * K].reshape(C, K)


def _binary_stats(s, y, w, weighted, group):
    """(U, P, N) of the binary problem over every rank, with the library's radix-sort op locally."""
    payload = torch.stack([y.double(), w], 1) if weighted else y.double()[:, None]
    _, s, payload = _exchange(s[:, None], payload, group)
    y = payload[:, 0] != 0
    w = payload[:, 1].double() if weighted else None
    st = torch.ops.torchauc.auroc_binary_stats(s, y, w)[0]  # float32 keys when they travelled as such
    every = _gather_all(st, group)  # (W, 3): U, P, N per range
    if weighted:
        u = every[:, 0].sum() + (every[:, 2] * (every[:, 1].flip(0).cumsum(0).flip(0) - every[:, 1])).sum()
        return u, every[:, 1].sum(), every[:, 2].sum()
    c = every.round().long()  # exact integer counts; U counted in halves
    u2 = (2 * every[:, 0]).round().long().sum() + 2 * (c[:, 2] * (c[:, 1].flip(0).cumsum(0).flip(0) - c[:, 1])).sum()
    return u2.double() / 2, c[:, 1].sum().double(), c[:, 2].sum().double()


def _prepare(scores, labels, sample_weights, sample_index, group, n, check):
    """Flattened float64 scores, the weights (ones where a rank has none) and the keep mask, after
    the shared validation; raises on every rank when any rank's input is invalid."""
    message = None
    try:
        check()
        w = F._scaled_weights(sample_weights, n, scores.device)
        if sample_index is not None and V.tensor(sample_index, "sample_index").numel() != n:
            raise ValueError(f"sample_index must have one entry per sample ({n}), got {sample_index.numel()}")
    except (ValueError, TypeError) as e:
        message, w = str(e), None
    flags = _flags(group, scores.device, n, sample_weights is not None, message is not None)
    if message is not None:
        raise ValueError(message)
    _raise_any(flags, "invalid metric input on another rank; its error there names the argument")
    weighted = bool(flags[:, 1].any())
    ones = torch.ones(n, dtype=torch.float64, device=scores.device)
    if weighted:  # one scale for every rank: a rank without weights counts 1 per sample
        if sample_weights is None:
            m = torch.tensor(1.0 if n else 0.0, dtype=torch.float64, device=scores.device)
        else:
            m = sample_weights.detach().double().max() if n else torch.zeros((), dtype=torch.float64)
        top = D.all_reduce_max(m.to(scores.device).reshape(1), group)[0]
        w = (ones if w is None else w * m) / torch.where(top > 0, top, 1.0)
    else:
        w = ones
    keep = None if sample_index is None else _dedup(sample_index, group)
    return w, weighted, keep


def auroc(
    scores: torch.Tensor,
    labels: torch.Tensor,
    *,
    sample_weights: torch.Tensor | None = None,
    sample_index: torch.Tensor | None = None,
    process_group: "torch.distributed.ProcessGroup | None" = None,
    on_undefined: str = "raise",
) -> torch.Tensor:
    """Exact binary AUROC of the concatenated data of every rank (see the module doc); equal to
    :func:`torchauc.auroc.functional.auroc` on the concatenation."""
    group = process_group

    def check():
        F._common(scores, labels, None, on_undefined)
        if labels.numel() != scores.numel() or (scores.dim() == 2 and scores.shape[1] != 1) or scores.dim() > 2:
            raise ValueError(f"scores and labels must have shape (n,) or (n, 1), got {tuple(scores.shape)}")
        if bool(torch.isnan(scores).any()):
            raise ValueError("scores contains NaN; AUROC is undefined for NaN scores")
        if bool(((labels != 0) & (labels != 1)).any()):
            raise ValueError("labels must contain only 0 and 1 (or False/True)")

    if D.world_size(group) == 1:
        return F.auroc(scores, labels, sample_weights=sample_weights, on_undefined=on_undefined)
    w, weighted, keep = _prepare(scores, labels, sample_weights, sample_index, group, labels.numel(), check)
    s, y = scores.detach().reshape(-1).double(), labels.reshape(-1) != 0
    if keep is not None:
        s, y, w = s[keep], y[keep], w[keep]
    u, p, n = _binary_stats(s, y, w, weighted, group)
    if not bool(p > 0) or not bool(n > 0):
        F._undefined(on_undefined, "auroc is undefined when only one class is present in labels")
    return F._ratio(u, p * n)


def multilabel_auroc(
    scores: torch.Tensor,
    labels: torch.Tensor,
    *,
    average: str = "macro",
    sample_weights: torch.Tensor | None = None,
    sample_index: torch.Tensor | None = None,
    process_group: "torch.distributed.ProcessGroup | None" = None,
    on_undefined: str = "raise",
) -> torch.Tensor:
    """Exact multilabel AUROC over every rank (``average`` macro, weighted, micro, none; "samples"
    needs no exchange: each row is local, so it reduces two numbers)."""
    group = process_group
    V.option(average, O.MULTILABEL_AVERAGE)

    def check():
        F._common(scores, labels, None, on_undefined, samples=scores.shape[0])
        if scores.dim() != 2 or labels.shape != scores.shape:
            raise ValueError(
                f"scores and labels must have shape (N, L), got {tuple(scores.shape)}, {tuple(labels.shape)}"
            )
        if bool(torch.isnan(scores).any()):
            raise ValueError("scores contains NaN; AUROC is undefined for NaN scores")
        if bool(((labels != 0) & (labels != 1)).any()):
            raise ValueError("labels must contain only 0 and 1 (or False/True)")

    w, weighted, keep = _prepare(scores, labels, sample_weights, sample_index, group, scores.shape[0], check)
    s, y = scores.detach().double(), labels != 0
    if keep is not None:
        s, y, w = s[keep], y[keep], w[keep]
    N, L = s.shape
    if average == "samples":
        st = torch.ops.torchauc.auroc_binary_stats(s.t(), y.t(), None) if N else s.new_empty(0, 3)
        per = F._ratio(st[:, 0], st[:, 1] * st[:, 2])
        bad = D.all_reduce_sum(torch.isnan(per).sum().double(), group)
        if bool(bad > 0):
            F._undefined(on_undefined, "multilabel_auroc(average='samples') is undefined for a one-class sample")
        ok = ~torch.isnan(per) if on_undefined == "nan" else torch.ones_like(per, dtype=torch.bool)
        tot = D.all_reduce_sum(torch.stack([(torch.where(ok, per, 0.0) * w).sum(), (w * ok).sum()]), group)
        return tot[0] / tot[1]
    if average == "micro":
        u, p, n = _binary_stats(s.reshape(-1), y.reshape(-1), w[:, None].expand(N, L).reshape(-1), weighted, group)
        if not bool(p > 0) or not bool(n > 0):
            F._undefined(on_undefined, "multilabel_auroc(average='micro') is undefined with one class present")
        return F._ratio(u, p * n)
    ww = w[:, None].expand(N, L).reshape(-1)
    U, P, Nw = _exchanged_table(s, y.reshape(-1), torch.zeros(N * L, dtype=torch.long, device=s.device), ww, 1, group)
    per = F._ratio(U[:, 0], P * Nw[:, 0])
    if bool(torch.isnan(per).any()):
        bad = torch.nonzero(torch.isnan(per)).reshape(-1).tolist()
        F._undefined(on_undefined, f"multilabel_auroc is undefined for label columns {bad} (one class present)")
    if average == "none":
        return per
    return F._average(per, P if average == "weighted" else None, on_undefined)


def _exchanged_table(s, pos, cls, w, K, group):
    """_column_table of the (N, C) scores with per-entry positive flags, classes and weights."""
    C = s.shape[1]
    payload = torch.stack([pos.double(), cls.double(), w], 1)
    col, s, payload = _exchange(s, payload, group)
    return _column_table(col, s, payload[:, 0] != 0, payload[:, 1].long(), payload[:, 2].double(), C, K, group)


def multiclass_auroc(
    scores: torch.Tensor,
    labels: torch.Tensor,
    *,
    mode: str = "ovo",
    average: str = "macro",
    sample_weights: torch.Tensor | None = None,
    ignore_index: int | None = None,
    classes: torch.Tensor | None = None,
    sample_index: torch.Tensor | None = None,
    process_group: "torch.distributed.ProcessGroup | None" = None,
    on_undefined: str = "raise",
) -> torch.Tensor:
    """Exact multiclass AUROC (ovo Hand & Till, ova) over every rank, from the all-reduced (C, C)
    table U[i, j] of :func:`torchauc.auroc.functional.multiclass_auroc` (``average="micro"``: the
    binary problem of every (sample, class) entry)."""
    group = process_group
    V.option(mode, O.MODE)
    V.option(average, O.MULTICLASS_AVERAGE)
    if average == "micro" and mode != "ova":
        raise ValueError("average='micro' is defined for mode='ova' only")
    ignore_index = V.optional_int(ignore_index, "ignore_index")
    C = scores.shape[1] if scores.dim() >= 2 else 0
    lab = labels

    def check():
        nonlocal lab
        F._common(scores, labels, None, on_undefined, samples=labels.numel())
        if scores.dim() != 2:
            raise ValueError(f"scores must have shape (N, C), got {tuple(scores.shape)}")
        F._check_class_scores(scores, labels, "scores")
        if bool(torch.isnan(scores).any()):
            raise ValueError("scores contains NaN; AUROC is undefined for NaN scores")
        lab = labels.reshape(-1).long()
        if classes is not None:
            lab = F._class_positions(lab, classes, C, ignore_index).long()
        kept = lab if ignore_index is None else lab[lab != ignore_index]
        if bool(((kept < 0) | (kept >= C)).any()):
            raise ValueError(f"labels must be class indices in [0, {C}) (or ignore_index)")

    w, weighted, keep = _prepare(scores, labels, sample_weights, sample_index, group, labels.numel(), check)
    s = scores.detach().double()
    valid = torch.ones_like(lab, dtype=torch.bool) if ignore_index is None else lab != ignore_index
    if keep is not None:
        valid = valid & keep
    s, lab, w = s[valid], lab[valid], w[valid]
    N = s.shape[0]
    col = torch.arange(C, device=s.device).repeat(N)
    cls = lab.repeat_interleave(C)
    pos = col == cls
    ww = w.repeat_interleave(C)
    if average == "micro":
        u, p, n = _binary_stats(s.reshape(-1), pos, ww, weighted, group)
        if not bool(p > 0) or not bool(n > 0):
            F._undefined(on_undefined, "multiclass_auroc(average='micro') is undefined with one class present")
        return F._ratio(u, p * n)
    U, P, _ = _exchanged_table(s, pos, cls, ww, C, group)
    if mode == "ovo":
        return F._ovo(U, P, average, on_undefined)
    return F._ova(U, P, average, on_undefined)


def partial_auroc(
    scores: torch.Tensor,
    labels: torch.Tensor,
    *,
    max_fpr: float = 1.0,
    min_tpr: float = 0.0,
    normalize: bool = True,
    sample_index: torch.Tensor | None = None,
    process_group: "torch.distributed.ProcessGroup | None" = None,
    on_undefined: str = "raise",
) -> torch.Tensor:
    """The two-way partial AUROC of :func:`torchauc.auroc.functional.partial_auroc` (``mcclish=False``)
    over every rank: the k+ lowest positives and k- highest negatives of the concatenated data are
    selected by global ranks (the prefix counts of the ranges below / above), then U on the subset."""
    group = process_group
    max_fpr = V.fraction(max_fpr, "max_fpr", low_open=True)
    min_tpr = V.fraction(min_tpr, "min_tpr", high_open=True)

    def check():
        F._common(scores, labels, None, on_undefined)
        if labels.numel() != scores.numel():
            raise ValueError(f"labels must have the shape of scores {tuple(scores.shape)}")
        if bool(torch.isnan(scores).any()):
            raise ValueError("scores contains NaN; AUROC is undefined for NaN scores")
        if bool(((labels != 0) & (labels != 1)).any()):
            raise ValueError("labels must contain only 0 and 1 (or False/True)")

    _, _, keep = _prepare(scores, labels, None, sample_index, group, labels.numel(), check)
    s, y = scores.detach().reshape(-1).double(), labels.reshape(-1) != 0
    if keep is not None:
        s, y = s[keep], y[keep]
    _, s, payload = _exchange(s[:, None], y.double()[:, None], group)
    s, o = s.sort(stable=True)
    y = payload[o, 0] != 0
    cnt = _gather_all(torch.stack([y.sum(), (~y).sum()]), group)  # (W, 2) int64
    npos, nneg = int(cnt[:, 0].sum()), int(cnt[:, 1].sum())
    kpos, kneg = _kept(1.0 - min_tpr, npos), _kept(max_fpr, nneg)
    r = D.rank(group)
    pos_rank = cnt[:r, 0].sum() + torch.cumsum(y.long(), 0) - 1  # global rank from the bottom
    neg_rank = cnt[r + 1 :, 1].sum() + torch.cumsum((~y).long().flip(0), 0).flip(0) - 1  # from the top
    sel = torch.where(y, pos_rank < kpos, neg_rank < kneg)
    st = torch.ops.torchauc.auroc_binary_stats(s[sel], y[sel], None)[0]
    every = _gather_all(st, group).round().long()
    u2 = (2 * every[:, 0]).sum() + 2 * (every[:, 2] * (every[:, 1].flip(0).cumsum(0).flip(0) - every[:, 1])).sum()
    u = u2.double() / 2
    if kpos <= 0 or kneg <= 0:
        F._undefined(on_undefined, f"partial_auroc is undefined: it keeps {kpos} positives and {kneg} negatives")
        return torch.tensor(float("nan"), dtype=torch.float64, device=scores.device)
    return u / (kpos * kneg) if normalize else u / (npos * nneg)


def _kept(fraction, n):
    """core/kept_count.h (floor with a relative 1e-9 slack)."""
    x = fraction * n
    return int(min(max(math.floor(x + 1e-9 * max(x, 1.0)), 0), n))


__all__ = ["auroc", "multilabel_auroc", "multiclass_auroc", "partial_auroc"]
