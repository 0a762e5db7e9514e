"""cml_* ops: fake impls. The autograd of cml_triplet_loss (its backward is the op cml_triplet_backward,
which writes only the argmin vectors' rows) and of cml_gather_dots (backward op cml_gather_dots_backward)
is C++: csrc/cml/autograd.cpp. cml_gather_dots is differentiable to any order; the gradient of
cml_triplet_loss taken with create_graph=True raises an error naming the op when differentiated again."""

import torch


@torch.library.register_fake("torchauc::cml_triplet_loss")
def _triplet_fake(users, pos, neg, users_idx, pos_idx, neg_idx, margin, reduction):
    b = users_idx.shape[0] if users_idx is not None else users.shape[0]
    return users.new_empty(()), users.new_empty((b, 3), dtype=torch.long)


@torch.library.register_fake("torchauc::cml_triplet_backward")
def _triplet_backward_fake(grad, users, pos, neg, users_idx, pos_idx, neg_idx, argmin, reduction):
    return users.new_empty(users.shape), pos.new_empty(pos.shape), neg.new_empty(neg.shape)


@torch.library.register_fake("torchauc::cml_sample_negatives")
def _sample_fake(indptr, indices, users, num_items, num_negatives, seed):
    return users.new_empty((users.shape[0], num_negatives))


@torch.library.register_fake("torchauc::cml_rank_counts")
def _rank_counts_fake(scores, item_offset, test_scores, test_items, test_ptr, test_idx, train_ptr, train_idx):
    return test_items.new_empty(test_items.shape)


@torch.library.register_fake("torchauc::cml_gather_dots")
def _dots_fake(users, items, indptr, indices):
    return users.new_empty((indices.shape[0],))


@torch.library.register_fake("torchauc::cml_gather_dots_backward")
def _dots_backward_fake(grad, users, items, indptr, indices):
    return users.new_empty(users.shape), items.new_empty(items.shape)
