"""grouped_pair_sums: fake (shape-only) impl. The op returns grouped pair sums and their derivatives
(float64, (K, Q)) that the AP losses (torchauc.compat.libauc_ap) combine into values and gradients
by hand; it is not differentiable itself (callers never pass tensors that require grad)."""

import torch


@torch.library.register_fake("torchauc::grouped_pair_sums")
def _fake(queries, query_group, items, item_offsets, weights, surrogate, margin, scale, sign):
    shape = (weights.shape[0], queries.shape[0])
    return queries.new_empty(shape, dtype=torch.float64), queries.new_empty(shape, dtype=torch.float64)
