"""AUCSeg T-Memory Bank (Han et al., NeurIPS 2024) on batched tensors.

``TMemoryBank`` keeps, for every tail class, up to ``memory_size`` stored objects (the bounding-box
crop of an image and the exact mask of the class in it) and pastes stored objects of tail classes
that are absent from an image into that image and its label map. It runs on the augmented batch,
on the device of the model (CPU or CUDA), with three batched kernels per call: a per-class
bounding-box reduction of the labels, one gather of all new crops into the bank's flat pool, and one
paste of all requests of the batch.

Semantics (those of the official per-sample pipeline transform, applied to the images of a batch
in order, as one dataloader worker would see them):

for each image b = 0 .. B-1:
  1. update: for every tail class c present in image b (``ignore_index`` excluded), store
     (image b before any paste, mask of c); when c's store is full, overwrite a uniformly random
     slot, else append;
  2. paste: ``missing`` = tail classes absent from image b (in its labels before pasting); pick
     ``ceil(len(missing) * p_sample)`` of them uniformly without replacement, in random order; for
     each picked class with a non-empty store, take a uniformly random stored entry, resize its whole
     source image (H, W) to (floor(H p_resize), floor(W p_resize)) -- OpenCV INTER_LINEAR for the
     image, INTER_NEAREST for the mask -- and write it at a uniform offset (y in [0, H - h'],
     x in [0, W - w']) wherever the resized mask is set. Later pastes overwrite earlier ones; pasted
     pixels may cover any class, including ``ignore_index``.

Differences from the official transform (boyuh/AUCSeg ``mmseg/datasets/pipelines/t_memory_bank.py``),
all fixes of its defects:

* Stored entries are copies taken before pasting. The official store keeps a reference to the
  output image, which is pasted on afterwards, so its stored objects later carry pasted pixels.
* An entry is the bounding-box crop of the object (plus the 1 to ceil((s-1)/2)+2 pixel margin the
  bilinear footprint needs, s = 1/p_resize), not the whole image, so it fits the GPU.
* One bank sees every image of the batch, instead of one private bank per dataloader worker.
* Random numbers come from a seeded ``torch.Generator`` (``seed``), saved in ``state_dict``.

Pixel equality with the whole-image resize: the crop holds every source pixel the bilinear taps of a
masked destination pixel read, so a paste from the crop equals the official resize-then-paste exactly
(same coordinates and float32 arithmetic as OpenCV's generic resize path; ``torchauc.reference.
TMemoryBankReference`` implements that path without cv2 and the tests compare both bit for bit).
Known sub-ulp differences to cv2 itself: cv2's SIMD code may use fused multiply-adds, and
p_resize = 0.5 exactly takes cv2's INTER_AREA fast path (same average, other rounding order); uint8
images are interpolated in float and rounded to nearest (cv2 uses 11-bit fixed-point weights, a
difference of at most 1 grey level).
"""

import math
from collections.abc import Sequence
from typing import Any, NamedTuple

import torch

from ._core import distributed as D
from ._core import validate as V

# Column layouts of the request tables (csrc/memory_bank/math.h).
_GATHER_FIELDS = 7  # image, class, y0, x0, h, w, offset
_PASTE_FIELDS = 13  # image, class, oy, ox, rh, rw, src_h, src_w, y0, x0, h, w, offset
# Per stored entry (self._meta[k, slot]): pool offset, crop top-left, crop size, source image size.
_OFF, _Y0, _X0, _H, _W, _SRC_H, _SRC_W = range(7)
_MIN_POOL = 1 << 16  # pixels


class _Draws(NamedTuple):
    slot: torch.Tensor  # (B, K) slot overwritten when a class store is full
    order: torch.Tensor  # (B, K) keys ranking the absent classes
    entry: torch.Tensor  # (B, K) which stored entry to paste
    offset: torch.Tensor  # (B, K, 2) paste position


class _Writes(NamedTuple):
    slot: torch.Tensor  # (B, K) slot a present object is written to
    size_seen: torch.Tensor  # (B, K) store size when image b pastes
    wb: torch.Tensor  # image of each write
    wk: torch.Tensor  # tail index of each write
    meta: torch.Tensor | None  # (writes, 7) entry metadata, None when nothing was written
    row: torch.Tensor | None  # (B, K) write number of (image, class), -1 if none


def _crop_margins(n: int, p: float):
    """(low, high) pixels around a mask bbox that hold the bilinear footprint of its resize."""
    scale = 1.0 / (math.floor(n * p) / n)
    return 1, math.ceil((scale - 1.0) / 2.0) + 2


class TMemoryBank(torch.nn.Module):
    """Tail-class object memory with batched paste (AUCSeg's T-Memory Bank).

    Args:
        num_classes: number of classes C; labels are in [0, C) or ``ignore_index``.
        tail_classes: the tail ("small") class ids, the official ``small_index``.
        memory_size: entries stored per class (official default 5).
        p_sample: fraction of the absent tail classes pasted per image, ``ceil(n_missing * p_sample)``
            (a fraction, not a probability), in [0, 1].
        p_resize: resize factor of the stored objects, in (0, 1] (1 keeps the stored position).
        ignore_index: label value that is never stored (may be overwritten by pastes); None (default)
            ignores nothing. AUCSeg's mmseg pipelines use 255.
        seed: seed of the bank's random generator (None: nondeterministic).
        process_group: None (default): one bank per rank, storing and pasting that rank's batches (as
            the official per-dataloader-worker banks). A torch.distributed group: the banks share
            their objects: every rank stores the objects of the global batch (images and labels
            all-gathered; equal image sizes on every rank) with the same draws from the same
            ``seed``, so the banks stay identical, then pastes into its own images with a stream of
            draws of its own. The order then differs from the official transform: the whole global
            batch is stored before any paste.

    Call ``bank(images, labels)`` on a training batch after augmentation: images (B, ch, H, W) uint8
    or floating point, labels (B, H, W) or (B, 1, H, W) integer, on the bank's device (the device of
    the first batch; ``bank.to(device)`` moves it). Both are modified in place and returned.
    ``update`` and ``paste`` run one half only. The ops carry no gradient.
    """

    num_classes: int
    memory_size: int
    p_sample: float
    p_resize: float
    ignore_index: int | None
    tail_classes: torch.Tensor
    last_pastes: torch.Tensor

    def __init__(
        self,
        num_classes: int,
        tail_classes: Sequence[int],
        memory_size: int = 5,
        p_sample: float = 1.0,
        p_resize: float = 1.0,
        ignore_index: int | None = None,
        seed: int | None = None,
        *,
        process_group: "torch.distributed.ProcessGroup | None" = None,
    ) -> None:
        super().__init__()
        self.process_group: torch.distributed.ProcessGroup | None = D.check_group(process_group)
        if self.process_group is not None and seed is None:
            raise ValueError("a TMemoryBank shared over a process_group needs a seed (the same on every rank)")
        if not isinstance(num_classes, int) or num_classes < 1:
            raise ValueError(f"num_classes must be a positive int, got {num_classes!r}")
        tail = [int(c) for c in tail_classes]
        if not tail:
            raise ValueError("tail_classes must name at least one class")
        if len(set(tail)) != len(tail) or not all(0 <= c < num_classes for c in tail):
            raise ValueError(f"tail_classes must be distinct ids in [0, {num_classes}), got {tail}")
        if not isinstance(memory_size, int) or memory_size < 1:
            raise ValueError(f"memory_size must be a positive int, got {memory_size!r}")
        p_sample = V.finite_float(p_sample, "p_sample")
        if not 0.0 <= p_sample <= 1.0:
            raise ValueError(f"p_sample must be in [0, 1], got {p_sample}")
        p_resize = V.finite_float(p_resize, "p_resize")
        if not 0.0 < p_resize <= 1.0:
            raise ValueError(f"p_resize must be in (0, 1], got {p_resize}")
        ignore_index = V.optional_int(ignore_index, "ignore_index")
        if ignore_index is not None and 0 <= ignore_index < num_classes:
            raise ValueError(f"ignore_index must lie outside [0, {num_classes}), got {ignore_index}")
        self.num_classes, self.memory_size = num_classes, memory_size
        self.p_sample, self.p_resize, self.ignore_index = p_sample, p_resize, ignore_index
        self.tail_classes = torch.tensor(tail, dtype=torch.long)
        self._generator = torch.Generator()
        if seed is None:
            self._generator.seed()
        else:
            self._generator.manual_seed(int(seed))
        k = len(tail)
        self._sizes = torch.zeros(k, dtype=torch.long)  # entries per tail class
        self._meta = torch.zeros(k, memory_size, 7, dtype=torch.long)
        self._pool_img: torch.Tensor | None = None  # (capacity, ch), images' dtype and device
        self._pool_mask: torch.Tensor | None = None  # (capacity,) bool
        self._pool_end = 0
        # pastes of the last call: [image, class, entry, oy, ox, source image in the batch or -1]
        self.last_pastes = torch.zeros(0, 6, dtype=torch.long)

    # ------------------------------------------------------------------ public API
    def forward(self, images: torch.Tensor, labels: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """Update with, then paste into, every image in order (the official transform). In place."""
        if self.process_group is not None:
            self.update(images, labels)
            return self.paste(images, labels)
        return self._step(images, labels, update=True, paste=True)

    def update(self, images: torch.Tensor, labels: torch.Tensor) -> None:
        """Store the tail-class objects of the batch (no paste); of the global batch when shared."""
        if self.process_group is not None:
            images, labels = D.gather_batch(self.process_group, images, labels)
        self._step(images, labels, update=True, paste=False)

    def paste(self, images: torch.Tensor, labels: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """Paste stored objects into the batch without storing it. In place; returns (images, labels)."""
        if self.process_group is None:
            return self._step(images, labels, update=False, paste=True)
        # a draw of the shared stream seeds this rank's paste stream; the shared stream then goes on
        # from the same state on every rank, so the next stores stay identical
        seed = int(torch.randint(2**62, (1,), generator=self._generator))
        shared = self._generator.get_state()
        self._generator.manual_seed(seed + D.rank(self.process_group))
        try:
            return self._step(images, labels, update=False, paste=True)
        finally:
            self._generator.set_state(shared)

    @property
    def sizes(self) -> torch.Tensor:
        """Number of stored entries per tail class (aligned with ``tail_classes``)."""
        return self._sizes.clone()

    @property
    def device(self) -> torch.device | None:
        return None if self._pool_img is None else self._pool_img.device

    def stored(self, cls: int) -> list[dict[str, Any]]:
        """The entries of class ``cls``: dicts with image (ch, h, w), mask (h, w) bool, top_left
        (y0, x0) of the crop in its source image and source_size (H, W). Copies, for inspection."""
        k = self._tail_index(cls)
        out = []
        for m in self._meta[k, : int(self._sizes[k])].tolist():
            n = m[_H] * m[_W]
            img = self._pool_img[m[_OFF] : m[_OFF] + n].T.reshape(-1, m[_H], m[_W]).clone()
            mask = self._pool_mask[m[_OFF] : m[_OFF] + n].reshape(m[_H], m[_W]).clone()
            out.append(dict(image=img, mask=mask, top_left=(m[_Y0], m[_X0]), source_size=(m[_SRC_H], m[_SRC_W])))
        return out

    def memory_bytes(self) -> int:
        """Bytes held by the pool (capacity, live entries and not yet reclaimed ones)."""
        if self._pool_img is None:
            return 0
        return self._pool_img.numel() * self._pool_img.element_size() + self._pool_mask.numel()

    def extra_repr(self) -> str:
        return (
            f"num_classes={self.num_classes}, tail_classes={len(self.tail_classes)}, memory_size={self.memory_size}, "
            f"p_sample={self.p_sample}, p_resize={self.p_resize}, ignore_index={self.ignore_index}"
        )

    # ------------------------------------------------------------------ state
    def _config(self):
        return dict(
            num_classes=self.num_classes,
            tail_classes=self.tail_classes.tolist(),
            memory_size=self.memory_size,
            p_sample=self.p_sample,
            p_resize=self.p_resize,
            ignore_index=self.ignore_index,
        )

    def get_extra_state(self) -> dict[str, torch.Tensor | None]:
        pool_img, pool_mask, meta = self._packed()
        return dict(
            version=1,
            config=self._config(),
            sizes=self._sizes.clone(),
            meta=meta,
            pool_img=pool_img,
            pool_mask=pool_mask,
            generator=self._generator.get_state(),
        )

    def set_extra_state(self, state: Any) -> None:
        if not isinstance(state, dict) or state.get("version") != 1:
            raise ValueError("TMemoryBank state must come from TMemoryBank.state_dict() (version 1)")
        for key, value in self._config().items():
            if state["config"].get(key) != value:
                raise ValueError(f"TMemoryBank state has {key}={state['config'].get(key)!r}, this bank has {value!r}")
        device = self.device
        self._sizes = state["sizes"].to("cpu", torch.long).clone()
        self._meta = state["meta"].to("cpu", torch.long).clone()
        pool_img, pool_mask = state["pool_img"], state["pool_mask"]
        if pool_img is None:
            self._pool_img = self._pool_mask = None
            self._pool_end = 0
        else:
            device = device if device is not None else pool_img.device
            self._pool_img = pool_img.to(device).clone()
            self._pool_mask = pool_mask.to(device).clone()
            self._pool_end = pool_mask.numel()
        self._generator.set_state(state["generator"])

    def _apply(self, fn, recurse=True):
        super()._apply(fn, recurse)
        if self._pool_img is not None:  # follow device moves, keep the images' dtype
            dtype = self._pool_img.dtype
            self._pool_img = fn(self._pool_img).to(dtype)
            self._pool_mask = fn(self._pool_mask).to(torch.bool)
        return self

    # ------------------------------------------------------------------ internals
    def _tail_index(self, cls):
        hits = (self.tail_classes == int(cls)).nonzero()
        if hits.numel() == 0:
            raise ValueError(f"class {cls} is not a tail class of this bank")
        return int(hits[0, 0])

    def _check_batch(self, images, labels):
        V.tensor(images, "images")
        V.tensor(labels, "labels")
        if images.dim() != 4:
            raise ValueError(f"images must have shape (B, ch, H, W), got {tuple(images.shape)}")
        b, ch, h, w = images.shape
        if labels.dim() == 4 and labels.shape[1] == 1:
            lab = labels.reshape(b, h, w) if labels.shape[0] == b else labels
        else:
            lab = labels
        if lab.shape != (b, h, w):
            raise ValueError(
                f"labels must have shape (B, H, W) or (B, 1, H, W) matching images {tuple(images.shape)}, "
                f"got {tuple(labels.shape)}"
            )
        if images.dtype != torch.uint8 and not images.dtype.is_floating_point:
            raise TypeError(f"images must be uint8 or floating point, got {images.dtype}")
        if labels.dtype == torch.bool or labels.dtype.is_floating_point or labels.dtype.is_complex:
            raise TypeError(f"labels must be an integer tensor of class ids, got {labels.dtype}")
        if images.device != labels.device:
            raise ValueError(f"images and labels must be on one device, got {images.device} and {labels.device}")
        if self._pool_img is not None and bool((self._sizes > 0).any()):
            if images.device != self._pool_img.device:
                raise ValueError(
                    f"images are on {images.device} but the bank is on {self._pool_img.device}; "
                    "move it with bank.to(device)"
                )
            if images.dtype != self._pool_img.dtype or ch != self._pool_img.shape[1]:
                raise ValueError(
                    f"the bank stores {self._pool_img.shape[1]}-channel {self._pool_img.dtype} images, "
                    f"got {ch}-channel {images.dtype}"
                )
        return lab

    def _ensure_pool(self, images):
        ch = images.shape[1]
        p = self._pool_img
        if p is None or (p.device, p.dtype, p.shape[1]) != (images.device, images.dtype, ch):
            # only reached while the bank is empty (checked in _check_batch)
            self._pool_img = images.new_empty((0, ch))
            self._pool_mask = torch.zeros(0, dtype=torch.bool, device=images.device)
            self._pool_end = 0

    def _valid(self):
        return torch.arange(self.memory_size)[None, :] < self._sizes[:, None]

    def _live_runs(self):
        """Metadata with the live entries renumbered contiguously from 0 (in pool order), and the
        runs (start, length) of the old pool that hold them, adjacent entries merged."""
        meta = self._meta.clone()
        valid = self._valid()
        offs = meta[..., _OFF][valid]
        lens = (meta[..., _H] * meta[..., _W])[valid]
        order = offs.argsort()
        new_off = torch.empty_like(offs)
        new_off[order] = torch.cumsum(lens[order], 0) - lens[order]
        meta[..., _OFF][valid] = new_off
        runs = []
        for a, n in zip(offs[order].tolist(), lens[order].tolist()):
            if runs and runs[-1][0] + runs[-1][1] == a:
                runs[-1][1] += n
            else:
                runs.append([a, n])
        return meta, runs, int(lens.sum())

    def _copy_runs(self, runs, live, cap):
        img = self._pool_img.new_empty((cap, self._pool_img.shape[1]))
        mask = torch.zeros(cap, dtype=torch.bool, device=self._pool_mask.device)
        if runs:  # one concatenation per pool tensor, written straight into the new storage
            torch.cat([self._pool_img[a : a + n] for a, n in runs], out=img[:live])
            torch.cat([self._pool_mask[a : a + n] for a, n in runs], out=mask[:live])
        return img, mask

    def _packed(self):
        """Copies of the live entries, contiguous from offset 0, and the matching metadata."""
        if self._pool_img is None:
            return None, None, self._meta.clone()
        meta, runs, live = self._live_runs()
        img, mask = self._copy_runs(runs, live, live)
        return img, mask, meta

    def _reserve(self, extra):
        """Room for `extra` more pool pixels. A full pool drops its garbage (entries no slot holds any
        more): in place when that frees at least half of it, else into a new pool of twice the need.
        Amortised, each pixel gathered is copied O(1) more times."""
        if self._pool_end + extra <= self._pool_mask.numel():
            return
        meta, runs, live = self._live_runs()
        if 2 * (live + extra) <= self._pool_mask.numel():
            dst = 0
            for a, n in runs:  # runs ascend and only move left: copy front to back
                if a != dst:
                    for t in (self._pool_img, self._pool_mask):
                        src = t[a : a + n]
                        t[dst : dst + n].copy_(src.clone() if dst + n > a else src)
                dst += n
        else:
            self._pool_img, self._pool_mask = self._copy_runs(runs, live, max(2 * (live + extra), _MIN_POOL))
        self._meta, self._pool_end = meta, live

    def _step(self, images, labels, update, paste):
        """One call: store the batch's tail objects (update), plan and apply the pastes (paste), then
        commit the stores; the pastes of image b see the stores of images 0..b (official order)."""
        lab = self._check_batch(images, labels)
        b, ch, h, w = images.shape
        self.last_pastes = torch.zeros(0, 6, dtype=torch.long)
        if b == 0 or h == 0 or w == 0:
            return images, labels
        if update and (math.floor(h * self.p_resize) < 1 or math.floor(w * self.p_resize) < 1):
            raise ValueError(f"p_resize={self.p_resize} shrinks {h}x{w} images to nothing")
        with torch.no_grad():
            imgs, labs = images.contiguous(), lab.contiguous()
            self._ensure_pool(imgs)
            present, bbox = self._tail_presence(labs)
            draws = self._draws(b)
            writes = self._store(imgs, labs, present, bbox, draws) if update else None
            if paste:
                self._paste(imgs, labs, present, writes, draws)
            if writes is not None:
                self._commit(writes)
            if paste:
                if imgs.data_ptr() != images.data_ptr() or not images.is_contiguous():
                    images.copy_(imgs)
                if labs.data_ptr() != labels.data_ptr() or not labels.is_contiguous():
                    labels.copy_(labs.view(labels.shape))
        return images, labels

    def _tail_presence(self, labs):
        """(present (B, K) bool, bbox (B, K, 5) [count, ymin, ymax, xmin, xmax]) of the tail classes,
        on the host; labels outside [0, C) that are not ignore_index raise."""
        b, k = labs.shape[0], len(self.tail_classes)
        stats, invalid = torch.ops.torchauc.memory_bank_class_bbox(
            labs, self.num_classes, V.ignore_arg(self.ignore_index)
        )
        host = torch.cat(
            [stats.index_select(1, self.tail_classes.to(labs.device)).reshape(b, k * 5), invalid.view(b, 1)], 1
        ).cpu()
        if bool((host[:, -1] > 0).any()):
            bad = int((host[:, -1] > 0).nonzero()[0, 0])
            raise ValueError(
                f"labels of image {bad} hold values outside [0, {self.num_classes}) that are not "
                f"ignore_index={self.ignore_index}"
            )
        bbox = host[:, :-1].reshape(b, k, 5)
        return bbox[..., 0] > 0, bbox

    def _draws(self, b):
        """The batch's random numbers, drawn in fixed shapes so the generator's stream does not
        depend on the batch content."""
        k, g = len(self.tail_classes), self._generator
        return _Draws(
            slot=torch.randint(self.memory_size, (b, k), generator=g),
            order=torch.rand((b, k), generator=g, dtype=torch.float64),
            entry=torch.rand((b, k), generator=g, dtype=torch.float64),
            offset=torch.rand((b, k, 2), generator=g, dtype=torch.float64),
        )

    def _store(self, imgs, labs, present, bbox, draws):
        """Gather the crops of every present tail object into the pool; image b's j-th object of class
        c goes to slot size + j while there is room, else to a random slot. Returns the writes, to
        be committed after the pastes."""
        b, _, h, w = imgs.shape
        k, m, p = len(self.tail_classes), self.memory_size, self.p_resize
        cum = present.long().cumsum(0)
        order = self._sizes + cum - 1
        slot = torch.where(order < m, order, draws.slot)
        size_seen = (self._sizes + cum).clamp(max=m)  # store size when image b pastes
        wb, wk = present.nonzero(as_tuple=True)
        if wb.numel() == 0:
            return _Writes(slot, size_seen, wb, wk, None, None)
        lo_y, hi_y = _crop_margins(h, p)
        lo_x, hi_x = _crop_margins(w, p)
        bb = bbox[wb, wk]
        y0 = (bb[:, 1] - lo_y).clamp(min=0)
        x0 = (bb[:, 3] - lo_x).clamp(min=0)
        crop_h = (bb[:, 2] + hi_y).clamp(max=h - 1) - y0 + 1
        crop_w = (bb[:, 4] + hi_x).clamp(max=w - 1) - x0 + 1
        npix = crop_h * crop_w
        total = int(npix.sum())
        self._reserve(total)
        offs = self._pool_end + torch.cumsum(npix, 0) - npix
        meta = torch.stack([offs, y0, x0, crop_h, crop_w, torch.full_like(y0, h), torch.full_like(y0, w)], 1)
        row = torch.full((b, k), -1, dtype=torch.long)
        row[wb, wk] = torch.arange(wb.numel())
        request = torch.stack([wb, self.tail_classes[wk], y0, x0, crop_h, crop_w, offs], 1)
        torch.ops.torchauc.memory_bank_gather(imgs, labs, request.to(imgs.device), self._pool_img, self._pool_mask)
        self._pool_end += total
        return _Writes(slot, size_seen, wb, wk, meta, row)

    def _paste(self, imgs, labs, present, writes, draws):
        """Pick ceil(p_sample * #absent) absent tail classes per image, a random stored entry of each
        (as the store stood at that image), a random offset, and paste them all in one op."""
        b, _, h, w = imgs.shape
        k, p = len(self.tail_classes), self.p_resize
        size_seen = self._sizes.expand(b, k) if writes is None else writes.size_seen
        n_pick = torch.ceil((~present).sum(1).double() * self.p_sample).long()  # official math.ceil
        ranked = draws.order.masked_fill(present, 2.0).argsort(1)  # absent classes first, random order
        pb, rank = (torch.arange(k)[None, :] < n_pick[:, None]).nonzero(as_tuple=True)
        pk = ranked[pb, rank]
        size = size_seen[pb, pk]
        keep = size > 0
        pb, pk, size = pb[keep], pk[keep], size[keep]
        if pb.numel() == 0:
            return
        entry = torch.minimum((draws.entry[pb, pk] * size).floor().long(), size - 1)
        meta = self._meta[pk, entry]
        src_b = torch.full_like(pb, -1)
        if writes is not None and writes.meta is not None:  # the latest write to (class, entry) at or before b
            images_idx = torch.arange(b)
            cand = present[:, pk].T & (writes.slot[:, pk].T == entry[:, None]) & (images_idx[None, :] <= pb[:, None])
            src_b = torch.where(cand, images_idx[None, :], -1).amax(1)
            fresh = src_b >= 0
            meta[fresh] = writes.meta[writes.row[src_b[fresh], pk[fresh]]]
        rh = torch.floor(meta[:, _SRC_H].double() * p).long()
        rw = torch.floor(meta[:, _SRC_W].double() * p).long()
        oy = self._offsets(draws.offset[pb, pk, 0], h - rh)
        ox = self._offsets(draws.offset[pb, pk, 1], w - rw)
        cls = self.tail_classes[pk]
        request = torch.stack(
            [
                pb,
                cls,
                oy,
                ox,
                rh,
                rw,
                meta[:, _SRC_H],
                meta[:, _SRC_W],
                meta[:, _Y0],
                meta[:, _X0],
                meta[:, _H],
                meta[:, _W],
                meta[:, _OFF],
            ],
            1,
        )
        torch.ops.torchauc.memory_bank_paste(imgs, labs, self._pool_img, self._pool_mask, request.to(imgs.device))
        self.last_pastes = torch.stack([pb, cls, entry, oy, ox, src_b], 1)

    def _commit(self, writes):
        """Keep the last write to each (class, slot) and the new store sizes."""
        if writes.meta is None:
            return
        k, m = len(self.tail_classes), self.memory_size
        ws = writes.slot[writes.wb, writes.wk]
        key = writes.wk * m + ws
        last = torch.full((k * m,), -1, dtype=torch.long).scatter_reduce(0, key, writes.wb, "amax")
        final = last[key] == writes.wb
        self._meta[writes.wk[final], ws[final]] = writes.meta[final]
        self._sizes = writes.size_seen[-1].clone()

    @staticmethod
    def _offsets(u, room):
        """Uniform integer offsets in [min(0, room), max(0, room)] (room = dst - resized size)."""
        lo, hi = torch.clamp(room, max=0), torch.clamp(room, min=0)
        return torch.minimum(lo + (u * (hi - lo + 1).double()).floor().long(), hi)
