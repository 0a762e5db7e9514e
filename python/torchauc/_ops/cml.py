"""cml_* ops: fake impls, and the autograd of cml_triplet_loss (its backward is the op
cml_triplet_backward, which writes only the argmin vectors' rows) and of cml_gather_dots (backward
op cml_gather_dots_backward). Not twice differentiable."""

import torch

_LOSS = "torchauc::cml_triplet_loss"


@torch.library.register_fake(_LOSS)
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


def _setup_context(ctx, inputs, output):
    users, pos, neg, users_idx, pos_idx, neg_idx, _margin, reduction = inputs
    ctx.reduction = reduction
    ctx.save_for_backward(users, pos, neg, users_idx, pos_idx, neg_idx, output[1])
    ctx.mark_non_differentiable(output[1])


def _backward(ctx, g_loss, _g_argmin):
    users, pos, neg, users_idx, pos_idx, neg_idx, argmin = ctx.saved_tensors
    gu, gp, gn = torch.ops.torchauc.cml_triplet_backward(
        g_loss, users, pos, neg, users_idx, pos_idx, neg_idx, argmin, ctx.reduction
    )
    need = ctx.needs_input_grad
    return (gu if need[0] else None, gp if need[1] else None, gn if need[2] else None) + (None,) * 5


torch.library.register_autograd(_LOSS, _backward, setup_context=_setup_context)


@torch.library.register_fake("torchauc::cml_gather_dots")
def _dots_fake(users, items, indptr, indices):
    return users.new_empty((indices.shape[0],))


@torch.library.register_fake("torchauc::cml_gather_dots_backward")
def _dots_backward_fake(grad, users, items, indptr, indices):
    return users.new_empty(users.shape), items.new_empty(items.shape)


def _dots_setup_context(ctx, inputs, output):
    ctx.save_for_backward(*inputs)


def _dots_backward(ctx, grad):
    users, items, indptr, indices = ctx.saved_tensors
    gu, gi = torch.ops.torchauc.cml_gather_dots_backward(grad, users, items, indptr, indices)
    need = ctx.needs_input_grad
    return gu if need[0] else None, gi if need[1] else None, None, None


torch.library.register_autograd("torchauc::cml_gather_dots", _dots_backward, setup_context=_dots_setup_context)
