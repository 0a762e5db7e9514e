"""Exact negative sampling for CML training, on the device of the interaction matrix."""

import torch

from .._core import validate as V


def _seed(generator, device):
    """A 63-bit seed drawn from ``generator`` (or the default generator of its device type)."""
    if generator is None:
        return int(torch.randint(0, 2**63 - 1, (), dtype=torch.long))
    return int(torch.randint(0, 2**63 - 1, (), dtype=torch.long, generator=generator, device=generator.device))


def sample_negatives(
    indptr: torch.Tensor,
    indices: torch.Tensor,
    users: torch.Tensor,
    num_items: int,
    num_negatives: int,
    *,
    generator: torch.Generator | None = None,
) -> torch.Tensor:
    """``num_negatives`` items per row, each uniform over the items user ``users[r]`` has no
    interaction with: (R, num_negatives) int64 on the device of the inputs.

    ``indptr`` (M + 1,) and ``indices`` (nnz,) are the users' positives in CSR form, each row sorted
    ascending without repeats (:func:`torchauc.cml.data.to_csr` builds it); ``users`` (R,) int64.
    Exact rejection sampling: a device-side hash chain per (seed, row, column) is tested by
    binary search against the user's row and the rejects are redrawn, with no Python loop. The
    draws depend only on the seed taken from ``generator``, so they are reproducible and equal on
    CPU and CUDA. A user who has interacted with every item is a ValueError (one host sync).
    """
    for t, name in ((indptr, "indptr"), (indices, "indices"), (users, "users")):
        V.tensor(t, name)
    if isinstance(num_items, bool) or not isinstance(num_items, int):
        raise TypeError(f"num_items must be an int, got {type(num_items).__name__}")
    if isinstance(num_negatives, bool) or not isinstance(num_negatives, int):
        raise TypeError(f"num_negatives must be an int, got {type(num_negatives).__name__}")
    seed = _seed(generator, indptr.device)
    return torch.ops.torchauc.cml_sample_negatives(indptr, indices, users, num_items, num_negatives, seed)


def triplets(
    indptr: torch.Tensor,
    indices: torch.Tensor,
    num_items: int,
    num_negatives: int = 10,
    *,
    layout: str = "uniform",
    generator: torch.Generator | None = None,
) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """One epoch of training rows from the train CSR matrix, every (user, positive) pair once:

    * ``layout="uniform"`` (DPCML1 / ``COCML``): ``num_negatives`` triplets per positive, as
      (users, pos, neg) each of shape (nnz * num_negatives,);
    * ``layout="hard"`` (DPCML2 / ``HarCML``): one row per positive with ``num_negatives``
      candidates: users (nnz,), pos (nnz,), neg (nnz, num_negatives).

    Rows are in CSR order; shuffle them (``torch.randperm``) for training.
    """
    if layout not in ("uniform", "hard"):
        raise ValueError(f"layout must be 'uniform' or 'hard', got {layout!r}")
    counts = indptr[1:] - indptr[:-1]
    users = torch.repeat_interleave(torch.arange(counts.numel(), device=indptr.device), counts)
    neg = sample_negatives(indptr, indices, users, num_items, num_negatives, generator=generator)
    if layout == "hard":
        return users, indices.clone(), neg
    return users.repeat_interleave(num_negatives), indices.repeat_interleave(num_negatives), neg.reshape(-1)
