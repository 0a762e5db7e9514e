"""T-Memory Bank ops (memory_bank_*): fake impls only. The ops copy data (no gradient): they are called
under torch.no_grad() by torchauc.memory_bank.TMemoryBank and have no autograd formula."""

import torch


@torch.library.register_fake("torchauc::memory_bank_class_bbox")
def _class_bbox_fake(labels, num_classes, ignore_index):
    b = labels.shape[0]
    return labels.new_empty((b, num_classes, 5), dtype=torch.long), labels.new_empty((b,), dtype=torch.long)


@torch.library.register_fake("torchauc::memory_bank_gather")
def _gather_fake(images, labels, requests, pool_img, pool_mask):
    return None


@torch.library.register_fake("torchauc::memory_bank_paste")
def _paste_fake(images, labels, pool_img, pool_mask, requests):
    return None
