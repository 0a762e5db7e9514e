r"""OpenAUC loss (Wang et al., NeurIPS 2022): :class:`OpenAUCLoss`.

A closed-set loss (cross entropy by default) plus an AUC term between the real first half of the
batch and "fake open-set" samples made by manifold mix-up of the second half:

.. math::
    L = L_{close} + \lambda \frac{1}{|H|}\sum_{i \in H}\big(1 + \max_c f(\tilde x_i)_c - \max_c f(x_i)_c\big)^2

with x̃_i = lam m_{h+i} + (1 - lam) m_{h+π(i)} (lam ~ Beta(α, α), π a random permutation of the h =
B // 2 second-half samples), and H the i < h whose real sample is classified correctly and whose mixed
pair has two different labels (the open-set score is -max logit). O(B C); the random draws come from
an explicit ``torch.Generator`` (XCurve draws from numpy's global state).

``process_group=`` (keyword; None = this rank's batch): the loss of the global batch (the ranks'
batches concatenated in rank order; the halves, H and the mix-up pairs are those of the global batch,
so real and mixed samples of different ranks meet). Logits and labels are all-gathered (autograd-aware:
each rank gets the gradient of its own rows); ``perm`` and ``lam`` are drawn on rank 0 and broadcast;
the manifolds are all-gathered and each rank runs ``f_post`` on its 1/W share of the h mixed rows only
(its max logits are then all-gathered), so ``f_post``'s parameters get this rank's share of the
gradient and the ranks' gradients sum to the single-process gradient, as the backbone's do (the
manifolds' gradient is summed over the ranks in the backward: every rank must call backward). Cost: one
all-gather of the manifolds (B x feature size) plus O(B C) for the logits.
"""

from collections.abc import Callable

import torch
import torch.nn.functional as F
from torch import nn

from ._core import distributed as D
from ._core import options as O
from ._core import validate as V


class OpenAUCLoss(nn.Module):
    """``forward(logits (B, C), labels (B,), f_post, manifolds (B, ...), *, perm=None, lam=None)``
    returns the loss. ``f_post`` maps intermediate features to logits; ``perm`` (h,) and ``lam``
    override the random draws (reproducibility, tests). ``loss_close(logits, labels) -> loss``
    replaces the cross entropy. Odd B: the middle sample takes part in the closed-set loss only
    (``odd_batch="drop"`` drops the AUC term as XCurve). No matching pair in H: the AUC term is 0."""

    def __init__(
        self,
        alpha: float = 1.0,
        lambd: float = 0.1,
        *,
        loss_close: Callable[..., torch.Tensor] | None = None,
        generator: torch.Generator | None = None,
        odd_batch: str = "mix",
        process_group: "torch.distributed.ProcessGroup | None" = None,
    ) -> None:
        super().__init__()
        self.process_group: torch.distributed.ProcessGroup | None = process_group
        self.alpha: float = V.finite_float(alpha, "alpha")
        if self.alpha <= 0:
            raise ValueError(f"alpha must be > 0 (Beta(alpha, alpha)), got {alpha}")
        self.lambd: float = V.finite_float(lambd, "lambd")
        self.loss_close = loss_close
        self.generator = generator
        self.odd_batch: str = V.option(odd_batch, O.OPEN_ODD_BATCH)

    def draw(self, h: int) -> tuple[torch.Tensor, float]:
        """The permutation (h,) and the mix-up weight lam, from ``self.generator`` (CPU)."""
        perm = torch.randperm(h, generator=self.generator)
        import numpy as np  # Beta draws with a seeded generator (torch's Beta takes no generator)

        # a CPU generator: host values, no device sync (tolist reads the tensor in place, without a
        # scalar op, so that the simulated-CUDA harness, where every tensor is a CPU one, sees none)
        seed = torch.randint(0, 2**62, (1,), generator=self.generator).tolist()[0]
        lam = float(np.random.default_rng(seed).beta(self.alpha, self.alpha))
        return perm, lam

    def forward(
        self,
        logits: torch.Tensor,
        labels: torch.Tensor,
        f_post: Callable[[torch.Tensor], torch.Tensor],
        manifolds: torch.Tensor,
        *,
        perm: torch.Tensor | None = None,
        lam: float | None = None,
    ) -> torch.Tensor:
        V.tensor(logits, "logits")
        V.tensor(labels, "labels")
        V.tensor(manifolds, "manifolds")
        B = logits.shape[0]
        if labels.shape[0] != B or manifolds.shape[0] != B:
            raise ValueError(
                f"labels and manifolds must have B = {B} rows, got {labels.shape[0]}, {manifolds.shape[0]}"
            )
        group = D.check_group(self.process_group)
        if group is not None:
            logits, labels = D.gather_batch(group, logits, labels)
            manifolds = D.gather_batch(group, manifolds, partial=True)
            B = logits.shape[0]
        loss = F.cross_entropy(logits, labels) if self.loss_close is None else self.loss_close(logits, labels)
        h = B // 2
        if h == 0 or (B % 2 == 1 and self.odd_batch == "drop"):
            return loss
        if perm is None or lam is None:
            p, l_ = self.draw(h)
            perm = p if perm is None else perm
            lam = l_ if lam is None else lam
        perm = perm.to(device=manifolds.device, dtype=torch.long, non_blocking=True)  # host to device: no wait
        if group is not None:  # the same draws on every rank
            pl = torch.cat([perm.double(), torch.tensor([float(lam)], dtype=torch.float64, device=perm.device)])
            torch.distributed.broadcast(pl, torch.distributed.get_global_rank(group, 0), group=group)
            perm, lam = pl[:-1].long(), float(pl[-1])
        later, later_y = manifolds[B - h :], labels[B - h :]
        mask = later_y[perm] != later_y
        if group is None:
            fake = f_post(lam * later + (1 - lam) * later[perm])
        else:  # this rank's share of the h mixed rows through f_post, then every rank's max logits
            W, r = D.world_size(group), D.rank(group)
            lo, hi = h * r // W, h * (r + 1) // W
            mixed = lam * later[lo:hi] + (1 - lam) * later[perm[lo:hi]]
            fake = D.gather_batch(group, f_post(mixed).max(1)[0].unsqueeze(1))
        real_max, pred = logits[:h].max(1)
        hit = (pred == labels[:h]) & mask
        term = torch.where(hit, (fake.max(1)[0] - real_max + 1) ** 2, torch.zeros_like(real_max))
        n = hit.sum()
        return loss + self.lambd * torch.where(n > 0, term.sum() / n.clamp_min(1), term.sum())

    def extra_repr(self) -> str:
        return f"alpha={self.alpha}, lambd={self.lambd}, odd_batch={self.odd_batch!r}"


__all__ = ["OpenAUCLoss"]
