"""AUTKC ops: fake (shape-only) impl. autkc_topk returns column indices; the losses gather the selected
scores with torch.gather, which carries the gradient, so the op needs no autograd formula."""

import torch


@torch.library.register_fake("torchauc::autkc_topk")
def _topk_fake(scores, labels, k, margin, include_label):
    return scores.new_empty((scores.shape[0], k), dtype=torch.long)
