"""Interaction data for CML: CSR construction, the MovieLens loaders (u.data, ratings.dat,
ratings.csv) with the papers' preprocessing, and a synthetic long-tail generator. Nothing here
downloads anything. numpy is imported only by the file loaders (``import torchauc`` does not
load it)."""

import io
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import torch


def to_csr(users: torch.Tensor, items: torch.Tensor, num_users: int) -> tuple[torch.Tensor, torch.Tensor]:
    """CSR (indptr (M + 1,), indices) of the (user, item) pairs, rows sorted ascending, repeats
    dropped."""
    users, items = torch.as_tensor(users, dtype=torch.long), torch.as_tensor(items, dtype=torch.long)
    n_items = int(items.max()) + 1 if items.numel() else 1
    key = torch.unique(users * n_items + items)  # sorted: by user, then item
    u, i = key // n_items, key % n_items
    counts = torch.bincount(u, minlength=num_users)
    return torch.cat([counts.new_zeros(1), counts.cumsum(0)]), i


@dataclass
class Interactions:
    """Implicit feedback split per user: each of train/val/test is CSR (indptr, indices)."""

    num_users: int
    num_items: int
    train: tuple[torch.Tensor, ...]
    val: tuple[torch.Tensor, ...]
    test: tuple[torch.Tensor, ...]

    def to(self, device: torch.device | str | None) -> "Interactions":
        mv = lambda csr: tuple(t.to(device) for t in csr)  # noqa: E731
        return Interactions(self.num_users, self.num_items, mv(self.train), mv(self.val), mv(self.test))


def split_per_user(
    users: torch.Tensor,
    items: torch.Tensor,
    num_users: int,
    num_items: int,
    *,
    ratios: Sequence[float] = (3, 1, 1),
    seed: int = 0,
) -> "Interactions":
    """Per-user random split of the unique (user, item) pairs into train/val/test in ``ratios`` (the
    papers' 3:1:1): a user with n pairs gets floor(n r0 / sum) train and floor(n r1 / sum)
    validation pairs, the rest test."""
    users, items = torch.as_tensor(users, dtype=torch.long), torch.as_tensor(items, dtype=torch.long)
    key = torch.unique(users * num_items + items)  # repeated pairs once
    users, items = key // num_items, key % num_items
    g = torch.Generator().manual_seed(seed)
    key = torch.rand(users.numel(), generator=g, dtype=torch.float64)
    order = key.argsort()
    order = order[users[order].argsort(stable=True)]  # by user, random within
    u, i = users[order], items[order]
    counts = torch.bincount(u, minlength=num_users)
    start = torch.cat([counts.new_zeros(1), counts.cumsum(0)[:-1]])
    pos = torch.arange(u.numel()) - start[u]
    n = counts[u]
    total = sum(ratios)
    n_train, n_val = (n * ratios[0]) // total, (n * ratios[1]) // total
    part = torch.where(pos < n_train, 0, torch.where(pos < n_train + n_val, 1, 2))
    csr = [to_csr(u[part == k], i[part == k], num_users) for k in range(3)]
    return Interactions(num_users, num_items, *csr)


def _read_table(path):
    import numpy as np

    path = Path(path)
    text = path.read_text(encoding="latin-1")
    if path.suffix == ".csv":
        text = text.split("\n", 1)[1] if text[:1].isalpha() else text  # header userId,movieId,...
        sep = ","
    elif "::" in text[:200]:
        text, sep = text.replace("::", "\t"), "\t"
    else:
        sep = "\t"
    arr = np.loadtxt(io.StringIO(text), delimiter=sep, usecols=(0, 1, 2), dtype=np.float64, ndmin=2)
    return arr[:, 0].astype(np.int64), arr[:, 1].astype(np.int64), arr[:, 2]


def load_movielens(
    path: str, *, min_rating: float = 4.0, min_interactions: int = 5, ratios: Sequence[float] = (3, 1, 1), seed: int = 0
) -> "Interactions":
    """A MovieLens ratings file (``u.data`` of ML-100k, ``ratings.dat`` of ML-1M/10M, ``ratings.csv``
    of ML-20M/25M/latest) as :class:`Interactions`, preprocessed as the DPCML/SFCML papers: ratings
    >= ``min_rating`` are positives, users with >= ``min_interactions`` positives are kept, user and
    item ids are renumbered 0.. (in ascending original id), per-user 3:1:1 split with ``seed``."""
    import numpy as np

    u, i, r = _read_table(path)
    keep = r >= min_rating
    u, i = u[keep], i[keep]
    pairs = np.unique(np.stack([u, i], 1), axis=0) if len(u) else np.zeros((0, 2), np.int64)
    uids, ucount = np.unique(pairs[:, 0], return_counts=True)
    pairs = pairs[np.isin(pairs[:, 0], uids[ucount >= min_interactions])]
    uids, u = np.unique(pairs[:, 0], return_inverse=True)
    iids, i = np.unique(pairs[:, 1], return_inverse=True)
    return split_per_user(
        torch.from_numpy(u.reshape(-1)), torch.from_numpy(i.reshape(-1)), len(uids), len(iids), ratios=ratios, seed=seed
    )


def synthetic_long_tail(
    num_users: int,
    num_items: int,
    *,
    mean_interactions: int = 20,
    num_clusters: int = 20,
    clusters_per_user: int = 3,
    alpha: float = 1.0,
    major_share: float = 0.7,
    seed: int = 0,
) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """Synthetic implicit feedback with power-law item popularity and users with several interest
    clusters: items are spread over ``num_clusters`` clusters, item popularity ~ rank^-alpha; each
    user has ``clusters_per_user`` clusters, the first (major) drawing ``major_share`` of the
    user's interactions and the others (minority interests) the rest; the number of draws per user
    is 5 + geometric, with mean ``mean_interactions`` (repeated draws of an item are merged, so a
    user may end with fewer than 5 unique items: filter with ``min_interactions`` as the papers).

    Returns (users, items, minority_share): the unique (user, item) pairs as int64 tensors and each
    user's fraction of pairs in minority clusters (num_users,). Vectorised, no per-user loop."""
    g = torch.Generator().manual_seed(seed)
    pop = torch.arange(1, num_items + 1, dtype=torch.float64).pow(-alpha)
    pop = pop[torch.randperm(num_items, generator=g)]
    cluster = torch.randint(0, num_clusters, (num_items,), generator=g)
    order = torch.argsort(cluster, stable=True)  # items grouped by cluster
    cum = torch.cumsum(pop[order], 0)
    cstart = torch.searchsorted(cluster[order], torch.arange(num_clusters))
    cend = torch.searchsorted(cluster[order], torch.arange(num_clusters), right=True)
    lo = torch.where(cstart > 0, cum[(cstart - 1).clamp_min(0)], torch.zeros(num_clusters, dtype=torch.float64))
    hi = torch.where(cend > 0, cum[(cend - 1).clamp_min(0)], torch.zeros(num_clusters, dtype=torch.float64))
    user_clusters = torch.rand(num_users, num_clusters, generator=g).argsort(1)[:, :clusters_per_user]
    p = 1 / max(mean_interactions - 4, 1)  # geometric extra count with mean mean_interactions - 5
    uni = torch.rand(num_users, generator=g, dtype=torch.float64).clamp_min(1e-300)
    n = 5 + (torch.log(uni) / torch.log1p(torch.tensor(-p)) if p < 1 else torch.zeros(num_users)).floor().long()
    n = torch.clamp(n, max=num_items // 2)
    users = torch.repeat_interleave(torch.arange(num_users), n)
    major = torch.rand(users.numel(), generator=g) < major_share
    minor_pick = torch.randint(1, max(clusters_per_user, 2), (users.numel(),), generator=g) % clusters_per_user
    slot = torch.where(major, torch.zeros_like(minor_pick), minor_pick)
    c = user_clusters[users, slot]
    x = lo[c] + torch.rand(users.numel(), generator=g, dtype=torch.float64) * (hi[c] - lo[c])
    pos = torch.searchsorted(cum, x).clamp(max=num_items - 1)
    # an empty cluster (no items) falls back to the popularity-ranked item at x
    items = order[pos]
    key, first = torch.unique(users * num_items + items, return_inverse=True)
    minority = torch.zeros(key.numel()).scatter_reduce_(0, first, (slot > 0).float(), "amax", include_self=False)
    users, items = key // num_items, key % num_items
    share = torch.zeros(num_users).index_add_(0, users, minority) / torch.bincount(
        users, minlength=num_users
    ).clamp_min(1)
    return users, items, share
