"""Backward helpers of the fused loss ops (the loss and its gradients computed in one forward call,
the backward scales the saved gradients)."""

from typing import Any

import torch


def skip_zero_grads(ctx: Any) -> None:
    """The saved-gradient outputs never receive an incoming gradient: leave them None in the backward
    instead of zero-filled tensors of the inputs' size (a full extra pass in every backward)."""
    ctx.set_materialize_grads(False)


def is_one(g: torch.Tensor) -> bool:
    """True when the incoming gradient is exactly 1, checked only on plain (eager, not traced) CPU tensors,
    where that costs no device sync and guards on no data."""
    return (
        type(g) is torch.Tensor and g.device.type == "cpu" and g.numel() == 1 and not g.requires_grad and bool(g == 1)
    )


def scaled(g_loss: torch.Tensor, grad: torch.Tensor) -> torch.Tensor:
    """g_loss * grad, or the saved buffer itself when g_loss is exactly 1: autograd's AccumulateGrad takes
    it without a copy when the graph is freed (and copies it when the graph is retained), so the common
    `loss.backward()` allocates no second gradient buffer."""
    return grad if is_one(g_loss) else g_loss * grad
