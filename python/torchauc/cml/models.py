"""DPCML (K vectors per user; K = 1 is CML) and SFCML models with the official initialisations and
norm rules. Call ``model.renorm_()`` after every optimizer step, as the official ``ClipUserNorm``
(and, for SFCML, ``ClipItemNorm``) hooks do."""

import math

import torch
from torch import nn

from .._core import distributed as D
from .losses import csr_rows, dcrs, sfcml_loss, triplet_loss


def _unit_(w):
    """Rows of ``w`` (..., d) set to norm exactly 1 (zero rows stay zero), in place."""
    w.div_(w.norm(dim=-1, keepdim=True).clamp_min(torch.finfo(w.dtype).tiny))


def renorm_rows_(w, rows, max_norm):
    """``torch.embedding_renorm_(w, rows, max_norm, 2)`` (what ``nn.Embedding(max_norm=...)`` does to
    the rows a lookup reads), in one gather and one scatter instead of a per-row loop: rows with norm
    > max_norm are scaled by max_norm / (norm + 1e-7). ``rows`` must be unique."""
    v = w[rows]
    norm = torch.linalg.vector_norm(v, dim=1, keepdim=True)
    scale = torch.where(norm > max_norm, max_norm / (norm.double() + 1e-7), 1.0).to(w.dtype)
    w[rows] = v * scale


class DPCML(nn.Module):
    """Diversity-promoting CML (Bao et al., NeurIPS 2022): K vectors per user, distance
    ``d(u, v) = min_c |u_c - v|^2``.

    Official initialisation and norms (statusrank/DPCML ``model/model.py``): user table (M, K d)
    ~ N(0, 0.01^2) viewed as (M, K, d); item table ~ N(0, 1/d) read with ``max_norm=1`` (the rows a
    step reads are renormalised to norm <= 1 in place, as ``nn.Embedding(max_norm=1)``).
    :meth:`renorm_` (after each optimizer step) sets every user vector to norm exactly 1.

    ``forward(users, pos, neg)`` with int64 ids users (B,), pos (B,), neg (B,) (uniform sampling,
    ``COCML``) or (B, J) (hard candidates, ``HarCML``) returns the summed triplet hinge plus
    ``reg * dcrs(...)`` when ``reg > 0`` and ``m1 < m2``. ``dcrs_users="all"`` regularizes the whole
    user table every step (the official code); ``"batch"`` only the batch's users (cheaper; a
    different method).

    ``process_group=`` (keyword; None = this rank's batch): the loss of the global batch with the
    tables replicated on every rank (DDP): the triplet sum is all-reduced (see
    :mod:`torchauc.cml.losses`); the item ids of every rank are gathered (ints) so each rank
    renormalises the same item rows and the tables stay identical; DCRS is that of the whole table
    (``"all"``, local, nothing sent) or of the union of the ranks' users (``"batch"``: their ids are
    gathered), with 1 / world size of its gradient per rank. Every rank's loss is the single-process
    loss and the ranks' gradients sum to the single-process gradient (DDP averages: scale the loss by
    the world size).
    """

    num_vectors: int
    dim: int
    margin: float
    reg: float
    m1: float
    m2: float
    dcrs_reduction: str
    dcrs_users: str
    reduction: str
    user_embeddings: nn.Embedding
    item_embeddings: nn.Embedding

    def __init__(
        self,
        num_users: int,
        num_items: int,
        dim: int = 100,
        num_vectors: int = 5,
        *,
        margin: float = 1.0,
        reg: float = 0.0,
        m1: float = 0.05,
        m2: float = 0.25,
        dcrs_reduction: str = "official",
        dcrs_users: str = "all",
        reduction: str = "sum",
        process_group: "torch.distributed.ProcessGroup | None" = None,
    ) -> None:
        super().__init__()
        self.process_group: torch.distributed.ProcessGroup | None = process_group
        if dcrs_users not in ("all", "batch"):
            raise ValueError(f"dcrs_users must be 'all' or 'batch', got {dcrs_users!r}")
        self.num_vectors, self.dim = int(num_vectors), int(dim)
        self.margin, self.reg, self.m1, self.m2 = margin, reg, m1, m2
        self.dcrs_reduction, self.dcrs_users, self.reduction = dcrs_reduction, dcrs_users, reduction
        self.user_embeddings = nn.Embedding(num_users, self.num_vectors * self.dim)
        self.item_embeddings = nn.Embedding(num_items, self.dim, max_norm=1.0)
        nn.init.normal_(self.user_embeddings.weight, std=0.01)
        nn.init.normal_(self.item_embeddings.weight, std=1.0 / math.sqrt(self.dim))

    @property
    def user_vectors(self) -> torch.Tensor:
        """The user table as (M, K, d) (a view of the parameter)."""
        return self.user_embeddings.weight.view(-1, self.num_vectors, self.dim)

    def _renorm_items(self, *idx):
        with torch.no_grad():
            rows = torch.cat([i.reshape(-1) for i in idx]).unique()
            renorm_rows_(self.item_embeddings.weight, rows, 1.0)

    def forward(self, users: torch.Tensor, pos: torch.Tensor, neg: torch.Tensor) -> torch.Tensor:
        group = D.check_group(self.process_group)
        all_users = users
        if group is None:
            self._renorm_items(pos, neg)
        else:  # the rows every rank reads: the same renorm everywhere keeps the tables identical
            all_users, all_pos, all_neg = D.gather_batch(group, users, pos, neg)
            self._renorm_items(all_pos, all_neg)
        items = self.item_embeddings.weight
        loss = triplet_loss(
            self.user_vectors,
            items,
            items,
            users_idx=users,
            pos_idx=pos,
            neg_idx=neg,
            margin=self.margin,
            reduction=self.reduction,
            process_group=group,
        )
        if self.reg > 0 and self.m1 < self.m2:
            uv = self.user_vectors if self.dcrs_users == "all" else self.user_vectors[all_users.unique()]
            loss = loss + self.reg * dcrs(uv, self.m1, self.m2, reduction=self.dcrs_reduction, process_group=group)
        return loss

    @torch.no_grad()
    def renorm_(self) -> "DPCML":
        """Every user vector to norm exactly 1 (the official ``ClipUserNorm`` after each step)."""
        _unit_(self.user_vectors)
        return self


class SFCML(nn.Module):
    """Sampling-free CML (Bao et al., TPAMI 2023): user and item tables (M, d), (N, d), both kept at
    exactly unit norm by :meth:`renorm_` after every step (``ClipUserNorm`` / ``ClipItemNorm``).
    Both are initialised N(0, 1/d) and unit-normalised at construction.

    ``forward(users, indptr, indices)``: ``users`` (B,) int64 ids and the *full* train CSR matrix
    (indptr (M + 1,), indices); returns :func:`sfcml_loss` over the batch users' rows (no dense
    target). ``process_group=`` (keyword): the mean over the global batch's users (see
    :func:`sfcml_loss`); each rank's gradient is through its own users, summing to the single-process one.
    """

    margin: float
    method: str
    dim: int
    user_embeddings: nn.Embedding
    item_embeddings: nn.Embedding

    def __init__(
        self,
        num_users: int,
        num_items: int,
        dim: int = 100,
        *,
        margin: float = 1.0,
        method: str = "auto",
        process_group: "torch.distributed.ProcessGroup | None" = None,
    ) -> None:
        super().__init__()
        self.process_group: torch.distributed.ProcessGroup | None = process_group
        self.margin, self.method, self.dim = margin, method, int(dim)
        self.user_embeddings = nn.Embedding(num_users, self.dim)
        self.item_embeddings = nn.Embedding(num_items, self.dim)
        nn.init.normal_(self.user_embeddings.weight, std=1.0 / math.sqrt(self.dim))
        nn.init.normal_(self.item_embeddings.weight, std=1.0 / math.sqrt(self.dim))
        self.renorm_()

    @property
    def user_vectors(self) -> torch.Tensor:
        return self.user_embeddings.weight.unsqueeze(1)

    def forward(self, users: torch.Tensor, indptr: torch.Tensor, indices: torch.Tensor) -> torch.Tensor:
        ptr, idx = csr_rows(indptr, indices, users)
        return sfcml_loss(
            self.user_embeddings(users),
            self.item_embeddings.weight,
            ptr,
            idx,
            margin=self.margin,
            method=self.method,
            process_group=self.process_group,
        )

    @torch.no_grad()
    def renorm_(self) -> "SFCML":
        _unit_(self.user_embeddings.weight)
        _unit_(self.item_embeddings.weight)
        return self
