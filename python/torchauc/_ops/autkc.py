"""AUTKC ops: fake (shape-only) impls. autkc_topk returns column indices; the losses gather the selected
scores with torch.gather, which carries the gradient, so the op needs no autograd formula.
autkc_loss_rows is fused (per-row loss and its gradient in one call); its autograd is C++
(csrc/autkc/autograd.cpp)."""

import torch


@torch.library.register_fake("torchauc::autkc_topk")
def _topk_fake(scores, labels, k, margin, include_label):
    return scores.new_empty((scores.shape[0], k), dtype=torch.long)


@torch.library.register_fake("torchauc::autkc_loss_rows")
def _loss_rows_fake(logits, labels, k, m, surrogate, compute_grad, reduction="none"):
    B, C = logits.shape
    loss = logits.new_empty((B,) if reduction == "none" else ())
    return loss, logits.new_empty((B if compute_grad else 0, C))
