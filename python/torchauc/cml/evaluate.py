"""Full-catalogue ranking metrics of CML models for all users: P@k, R@k, NDCG@k, MAP, MRR and
per-user AUC, train items masked, K-vector users scored by min over K.

Tiled over users and items: each tile's scores come from one GEMM (the norms folded into two
extra columns: no epilogue pass) and a max over K; the op ``cml_rank_counts`` then skips the
tile's train and test items (a merge of the sorted CSR rows: no dense mask) and counts, for each test item, the
candidates ranked above it, by a binary search of each candidate's score into the user's sorted
test scores (a histogram and a suffix sum). Memory is O(user tile x item tile): no users x items
scores, mask or users x items x d tensor, and no top-k list is needed (P/R/NDCG/MAP/MRR/AUC all
follow from the test items' exact ranks)."""

import math
from collections.abc import Sequence

import torch

from .losses import csr_rows

_INF = float("inf")


def _augment_users(U):
    """-min_c |u_c - v|^2 = max_c (2 u_c.v - |u_c|^2 - |v|^2) as one GEMM with the norms folded into two
    extra columns, [2 u_c, -|u_c|^2, -1] . [v, 1, |v|^2]: U (B, K, d) -> (B K, d + 2)."""
    u = U.reshape(-1, U.shape[2])
    return torch.cat([2 * u, -(u * u).sum(1, keepdim=True), torch.full_like(u[:, :1], -1)], 1)


def _augment_items(V):
    """The item side of :func:`_augment_users`: V (n, d) -> (n, d + 2)."""
    return torch.cat([V, torch.ones_like(V[:, :1]), (V * V).sum(1, keepdim=True)], 1)


def _scores(ua, va, K):
    """The scores (B, n) of augmented user rows ua (B K, d + 2) against augmented items va (n, d + 2)."""
    s = ua @ va.T
    return s if K == 1 else s.view(-1, K, va.shape[0]).amax(1)


def _entry_scores(U, V, r, t):
    """The same score for the entries (row r of U, item t): (nt,)."""
    u = U[r]  # (nt, K, d)
    v = V[t]
    return (2 * torch.einsum("nkd,nd->nk", u, v) - (u * u).sum(2) - (v * v).sum(1, keepdim=True)).amax(1)


def _test_ranks(U, V, va, test_ptr, test_idx, train_ptr, train_idx, item_tile):
    """For the users of one tile: test items sorted by (score ascending, item descending) (B, T)
    (padded with +inf), and the number of candidate (non-train, non-test) items that rank above
    each (score greater, or equal with a smaller item index)."""
    B, N = U.shape[0], V.shape[0]
    counts = test_ptr[1:] - test_ptr[:-1]
    T = int(counts.max()) if B else 0
    r = torch.repeat_interleave(torch.arange(B, device=U.device), counts)
    col = torch.arange(r.numel(), device=U.device) - test_ptr[r]
    Q = torch.full((B, max(T, 1)), _INF, dtype=U.dtype, device=U.device)
    QI = torch.full((B, max(T, 1)), N, dtype=torch.long, device=U.device)
    Q[r, col] = _entry_scores(U, V, r, test_idx)
    QI[r, col] = test_idx
    # sort by item descending, then stably by score ascending
    o = QI.argsort(dim=1, descending=True, stable=True)
    Q, QI = Q.gather(1, o), QI.gather(1, o)
    o = Q.argsort(dim=1, stable=True)
    Q, QI = Q.gather(1, o), QI.gather(1, o)
    above = torch.zeros(B, Q.shape[1], dtype=torch.long, device=U.device)
    ua = _augment_users(U)
    for i0 in range(0, N, item_tile):
        S = _scores(ua, va[i0 : i0 + item_tile], U.shape[1])
        above += torch.ops.torchauc.cml_rank_counts(S, i0, Q, QI, test_ptr, test_idx, train_ptr, train_idx)
    return Q, counts, above


def evaluate(
    user_vectors: torch.Tensor,
    item_emb: torch.Tensor,
    test: tuple[torch.Tensor, torch.Tensor],
    train: tuple[torch.Tensor, torch.Tensor] | None = None,
    *,
    ks: Sequence[int] = (3, 5, 10, 20),
    users: torch.Tensor | None = None,
    reduce: bool = True,
    tile_elements: int = 1 << 22,
) -> dict[str, torch.Tensor] | dict[str, float]:
    """Ranking metrics of every user (or of ``users``) over the full item catalogue.

    Args:
        user_vectors: (M, K, d) user vectors (DPCML; the score is ``-min_c |u_c - v|^2``) or (M, d).
        item_emb: (N, d) item embeddings.
        test: CSR (indptr (M + 1,), indices) of the held-out positives.
        train: CSR of the items to mask (train, or train + validation); must not overlap ``test``.
        ks: cut-offs of P@k, R@k, NDCG@k.
        users: optional (U,) int64 user ids to evaluate (e.g. a sample); default all.
        reduce: means over the users (dict of floats) or per-user values (dict of (U,) tensors,
            NaN where undefined).

    Items are ranked by score, descending; ties are broken by item index (smaller first), and
    train/test items are excluded from the candidates. With rank_t the rank of test item t among
    candidates plus the other test items: P@k = hits/k, R@k = ``hits/|test|``, NDCG@k = DCG/IDCG
    (binary gains 1/log2(rank + 1)), MAP = mean over test items of (test items ranked at or above) /
    rank (whole list), MRR = 1/min rank, AUC = fraction of (test item, candidate) pairs ranked
    correctly. Users without test items are skipped (NaN per user); AUC also needs a candidate.
    """
    if user_vectors.dim() == 2:
        user_vectors = user_vectors.unsqueeze(1)
    if user_vectors.dim() != 3 or item_emb.dim() != 2 or user_vectors.shape[2] != item_emb.shape[1]:
        raise ValueError(
            f"user_vectors (M, K, d) and item_emb (N, d) must share d, got {tuple(user_vectors.shape)}, "
            f"{tuple(item_emb.shape)}"
        )
    ks = tuple(int(k) for k in ks)
    if any(k < 1 for k in ks):
        raise ValueError(f"ks must be positive, got {ks}")
    if user_vectors.dtype != torch.float64:  # scores in float32 (16-bit inputs) or float64
        user_vectors = user_vectors.float()
    item_emb = item_emb.to(user_vectors.dtype)
    M, K, _ = user_vectors.shape
    N = item_emb.shape[0]
    dev = user_vectors.device
    if test[0].shape != (M + 1,) or (train is not None and train[0].shape != (M + 1,)):
        raise ValueError(f"test and train must be CSR with indptr of shape ({M + 1},)")
    users = torch.arange(M, device=dev) if users is None else users.to(dev)
    item_tile = N if K * N * 64 <= tile_elements else max(1, tile_elements // (64 * K))
    user_tile = max(1, tile_elements // (K * item_tile))
    va = _augment_items(item_emb)
    n_train = (train[0][1:] - train[0][:-1])[users] if train is not None else torch.zeros_like(users)
    per = {f"{m}@{k}": [] for k in ks for m in ("P", "R", "NDCG")}
    per.update(MAP=[], MRR=[], AUC=[])
    for u0 in range(0, users.numel(), user_tile):
        uu = users[u0 : u0 + user_tile]
        tptr, tidx = csr_rows(test[0], test[1], uu)
        rptr, ridx = csr_rows(train[0], train[1], uu) if train is not None else (None, None)
        Q, T, above = _test_ranks(user_vectors[uu], item_emb, va, tptr, tidx, rptr, ridx, item_tile)
        B, W = Q.shape
        p = torch.arange(W, device=dev).expand(B, W)
        valid = p < T.unsqueeze(1)
        # sorted ascending by score: position p has T - 1 - p test items above it
        rank = (1 + above + (T.unsqueeze(1) - 1 - p)).to(torch.float64)
        rank = torch.where(valid, rank, torch.full_like(rank, _INF))
        Tf = T.to(torch.float64)
        nan = torch.full_like(Tf, float("nan"))
        has = T > 0
        for k in ks:
            hit = (rank <= k).to(torch.float64)
            hits = hit.sum(1)
            dcg = (hit / torch.log2(rank + 1)).sum(1)
            idcg = torch.cumsum(1 / torch.log2(torch.arange(2, k + 2, device=dev, dtype=torch.float64)), 0)
            idcg = idcg[(T.clamp(min=1, max=k) - 1)]
            per[f"P@{k}"].append(torch.where(has, hits / k, nan))
            per[f"R@{k}"].append(torch.where(has, hits / Tf.clamp_min(1), nan))
            per[f"NDCG@{k}"].append(torch.where(has, dcg / idcg, nan))
        better = (T.unsqueeze(1) - p).to(torch.float64)  # test items at or above position p
        ap = torch.where(valid, better / rank, torch.zeros_like(rank)).sum(1) / Tf.clamp_min(1)
        per["MAP"].append(torch.where(has, ap, nan))
        per["MRR"].append(torch.where(has, 1 / rank.amin(1), nan))
        n_neg = (N - n_train[u0 : u0 + user_tile] - T).to(torch.float64)
        wrong = torch.where(valid, above, torch.zeros_like(above)).sum(1).to(torch.float64)
        auc = 1 - wrong / (Tf * n_neg).clamp_min(1)
        per["AUC"].append(torch.where(has & (n_neg > 0), auc, nan))
    out = {k: torch.cat(v) if v else torch.zeros(0, dtype=torch.float64, device=dev) for k, v in per.items()}
    if not reduce:
        return out
    return {k: float(v.nanmean()) if (~v.isnan()).any() else math.nan for k, v in out.items()}
