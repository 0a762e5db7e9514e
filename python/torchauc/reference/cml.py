"""Pure-PyTorch references of the CML family: the official formulations of statusrank/DPCML and
statusrank/LibCML re-implemented (test oracles in float64 and benchmark baselines), and a
brute-force evaluation.

* triplet loss: explicit (B, K, J, d) differences, min over vectors (and candidates), hinge, sum;
* DCRS: the official (M, K, K, d) difference tensor; the paper's per-user mean form;
* SFCML: the official dense-target ``FastSqPairwiseLoss`` (pred = 2 U V^T, B x N target); the
  positives' dot products from an explicit (nnz, d) gather;
* sampling: the official per-(user, positive) Python loop with rejection;
* evaluation: the official dense path (all scores, min over K, masks, full sort) and a brute-force
  per-user oracle with ties broken by item index."""

import math
import random
from collections.abc import Sequence

import torch


# ------------------------------------------------------------------ losses
def triplet_loss(
    users, pos: torch.Tensor, neg: torch.Tensor, margin: float = 1.0, reduction: str = "sum"
) -> torch.Tensor:
    """users (B, K, d), pos (B, d), neg (B, d) or (B, J, d): the official COCML/HarCML loss."""
    if users.dim() == 2:
        users = users.unsqueeze(1)
    if neg.dim() == 2:
        neg = neg.unsqueeze(1)
    d_pos = ((users - pos.unsqueeze(1)) ** 2).sum(-1).min(1).values  # (B,)
    d_neg = ((users.unsqueeze(2) - neg.unsqueeze(1)) ** 2).sum(-1).flatten(1).min(1).values
    h = torch.relu(margin + d_pos - d_neg)
    return h.sum() if reduction == "sum" else h.mean()


def dcrs_official(user_vectors: torch.Tensor, m1, m2) -> torch.Tensor:
    """DPCML's code: per-pair hinges on |u_c - u_c'|^2 from the (M, K, K, d) differences, mean over M K K."""
    M, K, _ = user_vectors.shape
    delta = ((user_vectors.unsqueeze(2) - user_vectors.unsqueeze(1)) ** 2).sum(-1)
    off = 1 - torch.eye(K, dtype=delta.dtype, device=delta.device)
    return ((torch.relu(m1 - delta) + torch.relu(delta - m2)) * off).mean()


def dcrs_paper(user_vectors: torch.Tensor, m1, m2) -> torch.Tensor:
    """The paper's DCRS: hinges of each user's mean pair distance (1 / (2K(K-1)) sum over c, c')."""
    M, K, _ = user_vectors.shape
    delta = ((user_vectors.unsqueeze(2) - user_vectors.unsqueeze(1)) ** 2).sum(-1)
    mean = delta.sum((1, 2)) / (2 * K * (K - 1)) if K > 1 else delta.new_zeros(M)
    return (torch.relu(m1 - mean) + torch.relu(mean - m2)).mean()


def sfcml_loss_official(user_emb: torch.Tensor, item_emb: torch.Tensor, target, margin: float = 1.0) -> torch.Tensor:
    """LibCML's SFCML step: pred = 2 U V^T and the dense (B, N) 0/1 target, FastSqPairwiseLoss."""
    pred = 2 * user_emb @ item_emb.T
    diff = pred - margin * target
    n_pos = target.sum(1, keepdim=True)
    n_neg = target.shape[1] - n_pos
    Yp, Yn = target / n_pos, (1 - target) / n_neg
    per = (diff * diff * (Yp + Yn)).sum(1) - 2 * (diff * Yn).sum(1) * (diff * Yp).sum(1)
    return per.mean()


def gather_dots(user_emb: torch.Tensor, item_emb: torch.Tensor, indptr: torch.Tensor, indices: torch.Tensor):
    """u_b . v_{indices[k]} for the CSR entries k of each row b, from an explicit (nnz, d) gather."""
    row = torch.repeat_interleave(torch.arange(indptr.numel() - 1, device=indptr.device), indptr[1:] - indptr[:-1])
    return (user_emb[row] * item_emb[indices]).sum(1)


def sfcml_loss_pairs(user_emb: torch.Tensor, item_emb: torch.Tensor, target, margin: float = 1.0) -> torch.Tensor:
    """The definition: mean over users of the mean over (p, n) pairs of (s_p - m - s_n)^2."""
    s = 2 * user_emb @ item_emb.T
    out = []
    for b in range(s.shape[0]):
        p, n = s[b][target[b] > 0], s[b][target[b] == 0]
        if p.numel() and n.numel():
            out.append(((p.unsqueeze(1) - margin - n.unsqueeze(0)) ** 2).mean())
    return torch.stack(out).mean() if out else s.new_zeros(())


def dense_target(indptr: torch.Tensor, indices: torch.Tensor, num_items: int, dtype=torch.float64) -> torch.Tensor:
    """The official densified target (B, N) of CSR rows."""
    B = indptr.numel() - 1
    t = torch.zeros(B, num_items, dtype=dtype, device=indptr.device)
    row = torch.repeat_interleave(torch.arange(B, device=indptr.device), indptr[1:] - indptr[:-1])
    t[row, indices] = 1
    return t


# ------------------------------------------------------------------ sampling
def sample_negatives_official(user_items, num_items: int, pairs, num_negatives: int, rng=None):
    """The official sampler: for every (user, positive) pair, num_negatives items drawn uniformly
    with rejection against the user's train set, in a Python loop. user_items: list of sets."""
    rng = rng or random.Random(0)
    out = []
    for u, _p in pairs:
        seen = user_items[u]
        row = []
        for _ in range(num_negatives):
            n = rng.randrange(num_items)
            while n in seen:
                n = rng.randrange(num_items)
            row.append(n)
        out.append(row)
    return out


# ------------------------------------------------------------------ evaluation
def scores_dense(user_vectors: torch.Tensor, item_emb: torch.Tensor):
    """Official predict: (M, K, N, d) differences, min over K: (M, N) scores -min_c |u_c - v|^2."""
    if user_vectors.dim() == 2:
        user_vectors = user_vectors.unsqueeze(1)
    diff = user_vectors.unsqueeze(2) - item_emb.unsqueeze(0).unsqueeze(0)
    return -(diff**2).sum(-1).min(1).values


def evaluate_full_sort(scores: torch.Tensor, test, train, ks: Sequence[int] = (10,)):
    """The dense pure-PyTorch baseline: a users x items score matrix, dense train mask, full topk,
    dense hit matrix; P/R/NDCG@k and AUC from the full sort (the benchmarks' comparison)."""
    M, N = scores.shape
    train_mask = dense_target(*train, N, dtype=torch.bool)
    test_mask = dense_target(*test, N, dtype=torch.bool)
    s = scores.masked_fill(train_mask, -math.inf)
    order = s.argsort(dim=1, descending=True, stable=True)
    hits = test_mask.gather(1, order).float()  # 0/1 and counts < 2^24: exact in float32
    n_test = hits.sum(1).double()
    out = {}
    for k in ks:
        h = hits[:, :k].double()
        disc = 1 / torch.log2(torch.arange(2, k + 2, dtype=torch.float64, device=s.device))
        idcg = torch.cumsum(disc, 0)[(n_test.clamp(1, k) - 1).long()]
        out[f"P@{k}"] = h.sum(1) / k
        out[f"R@{k}"] = h.sum(1) / n_test.clamp_min(1)
        out[f"NDCG@{k}"] = (h * disc).sum(1) / idcg
    # AUC: candidates are the unmasked non-test items; count those ranked above each test item
    cand = (~train_mask & ~test_mask).gather(1, order).float()
    wrong = (hits * cand.cumsum(1)).sum(1).double()
    n_neg = cand.sum(1).double()
    out["AUC"] = 1 - wrong / (n_test * n_neg).clamp_min(1)
    return out


def evaluate_bruteforce(
    user_vectors: torch.Tensor, item_emb: torch.Tensor, test, train=None, ks: Sequence[int] = (3, 5, 10, 20)
) -> dict[str, torch.Tensor]:
    """Per-user oracle from the definitions (Python loops; small sizes): ranking by (score desc,
    item index asc) over items not in train; metrics as documented in torchauc.cml.evaluate."""
    scores = scores_dense(user_vectors.double(), item_emb.double())
    M, N = scores.shape
    res = {f"{m}@{k}": [] for k in ks for m in ("P", "R", "NDCG")}
    res.update(MAP=[], MRR=[], AUC=[])
    for u in range(M):
        t = set(test[1][test[0][u] : test[0][u + 1]].tolist())
        tr = set(train[1][train[0][u] : train[0][u + 1]].tolist()) if train is not None else set()
        items = [i for i in range(N) if i not in tr]
        items.sort(key=lambda i: (-float(scores[u, i]), i))
        ranks = [r + 1 for r, i in enumerate(items) if i in t]
        if not t:
            for key in res:
                res[key].append(math.nan)
            continue
        for k in ks:
            hits = sum(1 for r in ranks if r <= k)
            dcg = sum(1 / math.log2(r + 1) for r in ranks if r <= k)
            idcg = sum(1 / math.log2(i + 2) for i in range(min(k, len(t))))
            res[f"P@{k}"].append(hits / k)
            res[f"R@{k}"].append(hits / len(t))
            res[f"NDCG@{k}"].append(dcg / idcg)
        res["MAP"].append(sum((j + 1) / r for j, r in enumerate(ranks)) / len(t))
        res["MRR"].append(1 / ranks[0])
        n_neg = len(items) - len(t)
        wrong = sum(r - 1 - j for j, r in enumerate(ranks))  # candidates above each test item
        res["AUC"].append(1 - wrong / (len(t) * n_neg) if n_neg > 0 else math.nan)
    return {k: torch.tensor(v, dtype=torch.float64) for k, v in res.items()}
