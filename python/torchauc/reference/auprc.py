"""Pure-PyTorch reference of the SOPRC pos-neg term: the (B, P, M) tensor XCurve builds, float64."""

import torch


def mean_pn(pos: torch.Tensor, neg: torch.Tensor, tau) -> torch.Tensor:
    """mean_j l_pn(pos[b, k] - neg[b, j]), l_pn(x) = (min(x, tau)/tau - 1)^2 (x >= 0), 1 - 2x/tau (x < 0)."""
    x = torch.clamp(pos[:, :, None] - neg[:, None, :], max=tau)
    return torch.where(x >= 0, (x / tau - 1) ** 2, 1 - 2 * x / tau).mean(-1)
