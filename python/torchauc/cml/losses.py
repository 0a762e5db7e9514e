"""CML losses: the DPCML/CML triplet hinge (fused op), the DCRS diversity regularizer (per-user K x K
Gram matrices) and the sampling-free SFCML square loss (CSR positives, no dense target).

``process_group=`` (keyword; None = this rank's batch): the triplet hinge and the SFCML loss are sums
(or means) of independent per-row / per-user terms, so a group only makes the reduction global: one
all-reduce of (sum, count), exact, no embedding is gathered. Embedding tables are model parameters,
replicated by DDP: each rank's backward gives the gradient through its own rows; the ranks' gradients
sum to the single-process gradient (DDP averages: multiply the loss by the world size). :func:`dcrs`
does not depend on the batch when it regularizes the whole table (identical on every rank, nothing to
communicate); see :func:`dcrs` for its gradient share and :class:`~torchauc.cml.DPCML` for the
``dcrs_users="batch"`` form (the union of the ranks' users)."""

import torch

from .._core import distributed as D
from .._core import options as O
from .._core import validate as V


def triplet_loss(
    users: torch.Tensor,
    pos: torch.Tensor,
    neg: torch.Tensor,
    *,
    users_idx: torch.Tensor | None = None,
    pos_idx: torch.Tensor | None = None,
    neg_idx: torch.Tensor | None = None,
    margin: float = 1.0,
    reduction: str = "sum",
    process_group: "torch.distributed.ProcessGroup | None" = None,
) -> torch.Tensor:
    r"""DPCML / CML triplet hinge loss with K vectors per user and J negative candidates per row.

    .. math::
        L = \sum_b \big[m + \min_c \|u_{b,c} - v_{p_b}\|^2 - \min_{c,j} \|u_{b,c} - v_{n_{b,j}}\|^2\big]_+

    Dense form: ``users`` (B, K, d) (or (B, d): K = 1, plain CML), ``pos`` (B, d), ``neg`` (B, d) or
    (B, J, d) (J hard-negative candidates: the hardest over vectors and candidates counts, DPCML's
    ``HarCML``). Indexed form: ``users`` (M, K, d) (or (M, d)), ``pos`` and ``neg`` item tables
    (N, d) (the same tensor may be passed twice), with ``users_idx`` (B,), ``pos_idx`` (B,) and
    ``neg_idx`` (B,) or (B, J) int64: the rows are gathered inside the kernel and the backward
    scatters gradient rows into the tables, so no (B, K, J, d) tensor exists. Indices out of range
    raise on CPU and give NaN rows on CUDA (no host sync).

    ``reduction="sum"`` (default, as the official code) or ``"mean"`` over the B rows. The backward
    writes only the argmin vectors (first index on ties, (c, j) in row-major order); rows with a
    zero hinge get no gradient. Differentiable once. ``process_group``: the sum (mean) over the
    global batch's rows (see the module notes).
    """
    V.tensor(users, "users")
    V.tensor(pos, "pos")
    V.tensor(neg, "neg")
    V.option(reduction, O.CML_REDUCTION)
    margin = V.finite_float(margin, "margin")
    if users.dim() == 2:
        users = users.unsqueeze(1)
    if D.check_group(process_group) is None:
        return torch.ops.torchauc.cml_triplet_loss(users, pos, neg, users_idx, pos_idx, neg_idx, margin, reduction)[0]
    total = torch.ops.torchauc.cml_triplet_loss(users, pos, neg, users_idx, pos_idx, neg_idx, margin, "sum")[0]
    rows = (users if users_idx is None else users_idx).shape[0]
    total = D.all_reduce_sum_replicated(torch.stack([total, total.new_tensor(float(rows))]), process_group)
    return total[0] if reduction == "sum" else total[0] / total[1]


def dcrs(
    user_vectors: torch.Tensor,
    m1: float,
    m2: float,
    *,
    reduction: str = "official",
    process_group: "torch.distributed.ProcessGroup | None" = None,
) -> torch.Tensor:
    r"""DPCML's Diversity Control Regularization of the users' K vectors (M, K, d).

    With :math:`\delta_{u,c,c'} = \|u_c - u_{c'}\|^2` from each user's K x K Gram matrix
    (:math:`\|u_c\|^2 + \|u_{c'}\|^2 - 2 u_c^\top u_{c'}`: O(M K^2) memory instead of the official
    O(M K^2 d) difference tensor):

    * ``"official"`` (the code): :math:`\frac{1}{MK^2}\sum_{u,c\ne c'} [m_1-\delta]_+ + [\delta-m_2]_+`
      (the diagonal counts in the denominator);
    * ``"paper"``: :math:`\frac1M\sum_u [m_1-\bar\delta_u]_+ + [\bar\delta_u-m_2]_+` with
      :math:`\bar\delta_u = \frac{1}{2K(K-1)}\sum_{c,c'}\delta_{u,c,c'}` (0 when K = 1).

    The official code regularizes the whole user table every step; pass ``user_vectors[batch_users]``
    to regularize only the batch's users (cheaper, but a different method).

    ``process_group``: ``user_vectors`` is then taken as the same (replicated) tensor on every rank,
    e.g. the whole DDP-replicated table: the value is unchanged (nothing is communicated) and each
    rank's backward gets 1 / world size of its gradient, so that, as for the batch losses, the ranks'
    gradients sum to the single-process gradient.
    """
    V.tensor(user_vectors, "user_vectors")
    V.option(reduction, O.DCRS_REDUCTION)
    m1, m2 = V.finite_float(m1, "m1"), V.finite_float(m2, "m2")
    if user_vectors.dim() != 3:
        raise ValueError(f"user_vectors must have shape (M, K, d), got {tuple(user_vectors.shape)}")
    M, K, _ = user_vectors.shape
    if M == 0:
        return user_vectors.new_zeros(())
    gram = torch.bmm(user_vectors, user_vectors.transpose(1, 2))
    sq = gram.diagonal(dim1=1, dim2=2)
    delta = (sq.unsqueeze(2) + sq.unsqueeze(1) - 2 * gram).clamp_min(0)
    if reduction == "paper":
        mean_delta = delta.sum((1, 2)) / (2 * K * (K - 1)) if K > 1 else delta.new_zeros(M)
        value = ((m1 - mean_delta).clamp_min(0) + (mean_delta - m2).clamp_min(0)).mean()
    else:
        off = ~torch.eye(K, dtype=torch.bool, device=delta.device)
        pen = ((m1 - delta).clamp_min(0) + (delta - m2).clamp_min(0)) * off
        value = pen.sum() / (M * K * K)
    if D.check_group(process_group) is None:
        return value
    share = value / D.world_size(process_group)  # the value, with this rank's share of the gradient
    return share + (value - share).detach()


def csr_rows(indptr: torch.Tensor, indices: torch.Tensor, users: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """The CSR rows (indptr', indices') of ``users`` (int64 (B,)) from a CSR matrix, on its device."""
    start, end = indptr[users], indptr[users + 1]
    counts = end - start
    out_ptr = torch.cat([counts.new_zeros(1), counts.cumsum(0)])
    row = torch.repeat_interleave(torch.arange(users.numel(), device=users.device), counts)
    return out_ptr, indices[start[row] + torch.arange(row.numel(), device=row.device) - out_ptr[row]]


def sfcml_loss(
    user_emb: torch.Tensor,
    item_emb: torch.Tensor,
    indptr: torch.Tensor,
    indices: torch.Tensor,
    *,
    margin: float = 1.0,
    method: str = "auto",
    process_group: "torch.distributed.ProcessGroup | None" = None,
) -> torch.Tensor:
    r"""SFCML's sampling-free square loss over all items, exact, from the batch users' CSR positives.

    For user b with positives P_b (``indices[indptr[b]:indptr[b+1]]``) and every other item as a
    negative, with scores :math:`s = 2u^\top v` (the official ``pred``):

    .. math::
        L = \frac{1}{|U|}\sum_{b \in U}\frac{1}{|P_b||N_b|}\sum_{p\in P_b}\sum_{n\in N_b}(s_p - m - s_n)^2

    which equals :math:`(m + \|u-v_p\|^2 - \|u-v_n\|^2)^2` for unit-norm embeddings, as SFCML keeps
    them. U = the users with at least one positive and one negative (users without are skipped:
    zero gradient; the official code gives NaN). Never builds a dense B x N target: the negative
    sums are the all-item sums minus the positives'. ``method="gram"``: the positives' scores are
    gathered dot products (the op ``cml_gather_dots``: O(nnz d) time, O(nnz) memory, no (nnz, d)
    gather) and the all-item sums come from the d x d Gram matrix :math:`V^\top V` (O(N d^2) time),
    so the extra memory is O(nnz + B d + d^2): no B x N tensor at all. ``"direct"``: the B x N scores
    of one GEMM (O(B N d) time, O(B N) memory). ``"auto"`` takes gram when d <= B (fewer flops),
    else direct, whose B x N scores are then smaller than the (N, d) item table.
    ``user_emb`` (B, d), ``item_emb`` (N, d), ``indptr`` (B + 1,), ``indices`` (nnz,) int64 item ids
    (unique within a row). ``process_group``: the mean over the valid users of the global batch (one
    all-reduce of the per-user sum and the valid count; ``item_emb`` replicated, see the module notes).
    """
    for t, name in ((user_emb, "user_emb"), (item_emb, "item_emb"), (indptr, "indptr"), (indices, "indices")):
        V.tensor(t, name)
    margin = V.finite_float(margin, "margin")
    if method not in ("auto", "gram", "direct"):
        raise ValueError(f"method must be one of 'auto', 'gram', 'direct'; got {method!r}")
    if user_emb.dim() != 2 or item_emb.dim() != 2 or user_emb.shape[1] != item_emb.shape[1]:
        raise ValueError(
            f"user_emb (B, d) and item_emb (N, d) must share d, got {tuple(user_emb.shape)}, {tuple(item_emb.shape)}"
        )
    B, d = user_emb.shape
    N = item_emb.shape[0]
    if indptr.shape != (B + 1,) or indptr.dtype != torch.long or indices.dtype != torch.long or indices.dim() != 1:
        raise ValueError(f"indptr must be int64 of shape ({B + 1},) and indices 1-D int64, got {tuple(indptr.shape)}")
    counts = indptr[1:] - indptr[:-1]
    row = torch.repeat_interleave(torch.arange(B, device=indptr.device), counts, output_size=indices.numel())
    if method == "auto":  # N d^2 (Gram) against B N d (scores) flops
        method = "gram" if d <= B else "direct"
    if method == "gram":
        s_pos = 2 * torch.ops.torchauc.cml_gather_dots(user_emb, item_emb, indptr, indices)  # (nnz,)
        sum_all = 2 * user_emb @ item_emb.sum(0)
        sum_all2 = 4 * ((user_emb @ (item_emb.T @ item_emb)) * user_emb).sum(1)
    else:
        s = 2 * user_emb @ item_emb.T  # scores only: the target stays CSR
        s_pos = s[row, indices]
        sum_all, sum_all2 = s.sum(1), (s * s).sum(1)
    sum_p = user_emb.new_zeros(B).index_add(0, row, s_pos)
    sum_p2 = user_emb.new_zeros(B).index_add(0, row, s_pos * s_pos)
    n_pos = counts.to(user_emb.dtype)
    n_neg = N - n_pos
    valid = (n_pos > 0) & (n_neg > 0)
    np_, nn_ = n_pos.clamp_min(1), n_neg.clamp_min(1)
    mean_a = (sum_p - margin * n_pos) / np_  # a = s_p - m
    mean_a2 = (sum_p2 - 2 * margin * sum_p + margin * margin * n_pos) / np_
    mean_b, mean_b2 = (sum_all - sum_p) / nn_, (sum_all2 - sum_p2) / nn_
    per_user = torch.where(valid, mean_a2 + mean_b2 - 2 * mean_a * mean_b, torch.zeros_like(mean_a))
    total = torch.stack([per_user.sum(), valid.sum().to(per_user.dtype)])
    if D.check_group(process_group) is not None:
        total = D.all_reduce_sum_replicated(total, process_group)
    return total[0] / total[1].clamp_min(1)
