r"""LibAUC's ``DualSampler``: a fixed number of positives in every batch, the minority class
oversampled.

``DualSampler(dataset, batch_size, labels=None, shuffle=True, num_pos=None, num_sampled_tasks=None,
sampling_rate=0.5, random_seed=2023)`` yields flat dataset indices for
``DataLoader(dataset, batch_size=batch_size, sampler=sampler)``: each batch holds
num_pos = max(1, int(sampling_rate batch_size)) positives, then batch_size - num_pos negatives.
An epoch has max(n+ // num_pos, n- // num_neg) batches; each class is read through successive
random permutations (a new one whenever the current one is used up), so the minority class is
repeated and the majority class is seen about once.

Differences from LibAUC 2.0.1:

* randomness comes from a private ``torch.Generator`` seeded with ``random_seed`` (LibAUC reseeds
  numpy's global RNG), so the index order differs from LibAUC's while the batch structure, epoch
  length and draw counts are the same; the stream is built with tensor ops, not per index;
* ``num_pos`` takes precedence over ``sampling_rate`` (LibAUC asserts that one of them is None, so
  ``num_pos`` only works with ``sampling_rate=None``);
* labels with more than two classes raise ``ValueError`` (LibAUC silently uses class 0 vs rest);
  ``num_sampled_tasks`` is accepted and ignored, as in LibAUC's binary path.
"""

from collections.abc import Iterator
from typing import Any

import torch
from torch.utils.data import Sampler


def _labels(dataset, labels):
    if labels is None:
        if not hasattr(dataset, "targets"):
            raise ValueError("labels must be given when the dataset has no .targets")
        labels = dataset.targets
    t = torch.as_tensor(labels).reshape(-1) if not isinstance(labels, torch.Tensor) else labels.reshape(-1)
    if t.is_floating_point() and bool(torch.isnan(t).any()):
        raise ValueError("labels contain NaN")
    if bool((t < 0).any()):
        raise ValueError("labels contain negative values")
    uniq = torch.unique(t)
    if uniq.numel() != 2:
        raise ValueError(f"DualSampler needs binary labels with both classes present, got values {uniq.tolist()}")
    return t > 0 if bool((uniq == 0).any()) else t == uniq.max()


class DualSampler(Sampler):
    pos_len: int
    neg_len: int

    def __init__(
        self,
        dataset: Any,
        batch_size: int,
        labels: torch.Tensor | None = None,
        shuffle: bool = True,
        num_pos: int | None = None,
        num_sampled_tasks: int | None = None,
        sampling_rate: float = 0.5,
        random_seed: int = 2023,
    ) -> None:
        if batch_size is None or int(batch_size) < 2:
            raise ValueError(f"batch_size must be an int >= 2, got {batch_size}")
        self.batch_size: int = int(batch_size)
        pos = _labels(dataset, labels)
        self.pos_indices: torch.Tensor = torch.nonzero(pos).reshape(-1)
        self.neg_indices: torch.Tensor = torch.nonzero(~pos).reshape(-1)
        self.pos_len, self.neg_len = self.pos_indices.numel(), self.neg_indices.numel()
        if num_pos is not None:
            if not 1 <= int(num_pos) < self.batch_size:
                raise ValueError(f"num_pos must be in [1, batch_size), got {num_pos}")
            self.num_pos: int = int(num_pos)
        else:
            if sampling_rate is None or not 0.0 < float(sampling_rate) < 1.0:
                raise ValueError(f"sampling_rate must be in (0, 1), got {sampling_rate}")
            self.num_pos = max(1, int(sampling_rate * self.batch_size))
        self.sampling_rate: float = sampling_rate
        self.num_neg: int = self.batch_size - self.num_pos
        self.num_batches: int = max(self.pos_len // self.num_pos, self.neg_len // self.num_neg)
        self.shuffle: bool = bool(shuffle)
        self.random_seed: int = random_seed
        self.generator: torch.Generator = torch.Generator().manual_seed(int(random_seed))
        self._perm = {"pos": self._permute(self.pos_indices), "neg": self._permute(self.neg_indices)}
        self._ptr = {"pos": 0, "neg": 0}

    def _permute(self, idx):
        if not self.shuffle:
            return idx
        return idx[torch.randperm(idx.numel(), generator=self.generator)]

    def _draw(self, which, count):
        """The next ``count`` indices of the class stream (successive permutations)."""
        base = self.pos_indices if which == "pos" else self.neg_indices
        perm, ptr = self._perm[which], self._ptr[which]
        pieces = [perm[ptr : ptr + count]]
        left = count - pieces[0].numel()
        ptr += pieces[0].numel()
        while left > 0:  # one iteration per pass over the class, not per index
            perm = self._permute(base)
            take = min(left, perm.numel())
            pieces.append(perm[:take])
            left -= take
            ptr = take
        self._perm[which], self._ptr[which] = perm, ptr
        return torch.cat(pieces)

    def __iter__(self) -> Iterator[int]:
        p = self._draw("pos", self.num_batches * self.num_pos).reshape(self.num_batches, self.num_pos)
        n = self._draw("neg", self.num_batches * self.num_neg).reshape(self.num_batches, self.num_neg)
        self.sampled: torch.Tensor = torch.cat([p, n], 1).reshape(-1)
        return iter(self.sampled.tolist())

    def __len__(self) -> int:
        return self.num_batches * self.batch_size


__all__ = ["DualSampler"]
