"""grouped_pair_sums and ap_loss_step: fake (shape-only) impls. grouped_pair_sums returns grouped pair
sums and their derivatives (float64, (K, Q)) that the AP losses (torchauc.compat.libauc_ap) combine
into values and gradients by hand; ap_loss_step (CPU) returns one AP loss step's value and its
gradient. Neither is differentiable itself (callers never pass tensors that require grad)."""

import torch


@torch.library.register_fake("torchauc::grouped_pair_sums")
def _fake(queries, query_group, items, item_offsets, weights, surrogate, margin, scale, sign):
    shape = (weights.shape[0], queries.shape[0])
    return queries.new_empty(shape, dtype=torch.float64), queries.new_empty(shape, dtype=torch.float64)


@torch.library.register_fake("torchauc::ap_loss_step")
def _fake_ap_step(scores, labels, index, counted, u_all, u_pos, data_len, surrogate, margin, scale, gamma, top_k,
                  update, want_grad):  # fmt: skip
    return scores.new_empty(()), scores.new_empty(tuple(scores.shape) if want_grad else (0,))
