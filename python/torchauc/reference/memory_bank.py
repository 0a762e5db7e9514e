"""Per-image reference of AUCSeg's T-Memory Bank: the official algorithm, step for step, without cv2.

This is the benchmark baseline and the test oracle of ``torchauc.memory_bank.TMemoryBank``. It keeps
the official structure (boyuh/AUCSeg ``mmseg/datasets/pipelines/t_memory_bank.py``): one call per
sample, per-class dicts of whole stored images and ``torch.where`` index tuples, a Python loop over the
stored pixels to rebuild the class map, a resize of the whole stored image, then a masked paste. The
random calls are the official ones, in the official order, on ``rng`` (a ``random.Random``-like object:
``randint`` and ``sample``), so a test can script them.

``cv2.resize`` is replaced by numpy code of OpenCV's generic resize path (coordinates and float32
arithmetic of INTER_LINEAR / INTER_NEAREST with an explicit output size); see ``resize_linear`` and
``resize_nearest``. ``alias_stored_images=True`` reproduces the official aliasing (stored images are
the very tensors that are pasted on afterwards); False stores copies, as ``TMemoryBank`` does.
"""

import math
import random

import numpy as np
import torch


def _nearest_index(n_src, n_dst):
    scale = 1.0 / (n_dst / n_src)
    return np.minimum(np.floor(np.arange(n_dst) * scale).astype(np.int64), n_src - 1)


def _linear_taps(n_src, n_dst):
    scale = 1.0 / (n_dst / n_src)
    f = ((np.arange(n_dst) + 0.5) * scale - 0.5).astype(np.float32)
    s = np.floor(f).astype(np.int64)
    f = f - s.astype(np.float32)
    low, high = s < 0, s >= n_src - 1
    s = np.where(low, 0, np.where(high, n_src - 1, s))
    f = np.where(low | high, np.float32(0), f).astype(np.float32)
    return s, np.minimum(s + 1, n_src - 1), f


def resize_nearest(label, h, w):
    """cv2.resize(label, (w, h), interpolation=INTER_NEAREST) of a 2-D numpy array."""
    return label[_nearest_index(label.shape[0], h)][:, _nearest_index(label.shape[1], w)]


def resize_linear(image, h, w):
    """cv2.resize(image HWC, (w, h), interpolation=INTER_LINEAR) of a (ch, H, W) numpy array, returned
    as (ch, h, w): horizontal then vertical pass, float32 weights, float32 arithmetic (float64 for
    float64 images); uint8 is interpolated in float32 and rounded to nearest."""
    y0, y1, fy = _linear_taps(image.shape[1], h)
    x0, x1, fx = _linear_taps(image.shape[2], w)
    acc = np.float64 if image.dtype == np.float64 else np.float32
    src = image.astype(acc, copy=False)
    ax0, ax1 = (np.float32(1) - fx).astype(acc), fx.astype(acc)
    ay0, ay1 = (np.float32(1) - fy).astype(acc)[:, None], fy.astype(acc)[:, None]

    def horizontal(rows):
        r = src[:, rows]
        return r[:, :, x0] * ax0 + r[:, :, x1] * ax1

    out = horizontal(y0) * ay0 + horizontal(y1) * ay1
    if image.dtype == np.uint8:
        return np.clip(np.rint(out), 0, 255).astype(np.uint8)
    return out.astype(image.dtype)


class TMemoryBankReference:
    """Official per-sample T-Memory Bank. ``__call__(img, gt)``: img (ch, H, W) tensor (CPU), gt
    (1, H, W) integer tensor; both modified in place and returned."""

    def __init__(
        self,
        num_classes: int,
        small_index,
        memory_size: int = 5,
        p_sample: float = 1,
        p_resize: float = 0.1,
        ignore_index: int = 255,
        rng=None,
        alias_stored_images: bool = True,
    ) -> None:
        self.num_classes: int = num_classes
        self.small_index = list(small_index)
        self.memory_size: int = memory_size
        self.p_sample, self.p_resize = p_sample, p_resize
        self.ignore_index: int = ignore_index
        self.rng = rng if rng is not None else random.Random()
        self.alias = alias_stored_images
        self.images = {c: {} for c in range(num_classes)}  # class -> slot -> stored image
        self.targets = {c: {} for c in range(num_classes)}  # class -> slot -> torch.where tuple

    def _class_map(self, image, where, cls):
        """Label map of the stored object: cls on its pixels, -1 elsewhere (a loop over pixels)."""
        _, h, w = image.shape
        out = torch.full((1, h, w), -1, dtype=torch.int32)
        for i in range(len(where[0])):
            out[int(where[0][i]), int(where[1][i]), int(where[2][i])] = cls
        return out

    def _resize(self, image, class_map):
        _, h, w = image.shape
        nh, nw = int(h * self.p_resize), int(w * self.p_resize)
        img = resize_linear(image.numpy(), nh, nw)
        cmap = resize_nearest(class_map[0].numpy(), nh, nw)[None]
        return torch.from_numpy(np.ascontiguousarray(img)), torch.from_numpy(np.ascontiguousarray(cmap))

    def _paste(self, img, gt, obj, obj_map):
        _, h, w = img.shape
        _, oh, ow = obj.shape
        x = self.rng.randint(0, w - ow)
        y = self.rng.randint(0, h - oh)
        keep = obj_map == -1
        region_img = img[:, y : y + oh, x : x + ow]
        region_gt = gt[:, y : y + oh, x : x + ow]
        img[:, y : y + oh, x : x + ow] = torch.where(keep, region_img, obj)
        gt[:, y : y + oh, x : x + ow] = torch.where(keep, region_gt, obj_map.to(gt.dtype))

    def __call__(self, img, gt: torch.Tensor):
        present = [v for v in torch.unique(gt).tolist() if v != self.ignore_index]
        tail_present = list(set(present) & set(self.small_index))
        missing = [c for c in self.small_index if c not in present]
        for c in tail_present:
            where = torch.where(gt == c)
            stored = self.targets[c]
            slot = self.rng.randint(0, self.memory_size - 1) if len(stored) == self.memory_size else len(stored)
            stored[slot] = where
            self.images[c][slot] = img if self.alias else img.clone()
        if missing:
            picks = self.rng.sample(range(len(missing)), math.ceil(len(missing) * self.p_sample))
            for i in picks:
                c = missing[i]
                if not self.targets[c]:
                    continue
                e = self.rng.randint(0, len(self.targets[c]) - 1)
                obj_map = self._class_map(self.images[c][e], self.targets[c][e], c)
                obj, obj_map = self._resize(self.images[c][e], obj_map)
                self._paste(img, gt, obj, obj_map)
        return img, gt
