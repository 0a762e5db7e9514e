"""T-Memory Bank: update + paste of one batch, ours (batched kernels) vs the official per-image pipeline.

Baselines run in this process on CPU tensors, one image at a time, as the official transform does in a
dataloader worker: ``official per-image`` is torchauc.reference.TMemoryBankReference (the official
algorithm with its Python loop over stored pixels; cv2.resize replaced by numpy code of the same
path), ``per-image, vectorised map`` is the same without the pixel loop (a stronger hand-written
baseline). Every timed call first restores the batch from a pristine copy (the same copy in every
column; its cost is the "batch copy" row). Synthetic label maps: head-class bands plus elliptic blobs
of tail classes; the banks are warmed up on other batches so their stores are full."""

import random

import torch

from torchauc import TMemoryBank
from torchauc.reference.memory_bank import TMemoryBankReference

from . import harness

ADE = dict(num_classes=150, tail=list(range(26, 150)), memory_size=5, p_sample=0.05, p_resize=0.4)
CITY = dict(num_classes=19, tail=[6, 12, 14, 15, 16, 17, 18], memory_size=5, p_sample=1.0, p_resize=1.0)


def synthetic_batch(b, h, w, num_classes: int, tail, blobs, seed: int) -> tuple[torch.Tensor, torch.Tensor]:
    g = torch.Generator().manual_seed(seed)
    head = [c for c in range(num_classes) if c not in set(tail)]
    labels = torch.empty(b, h, w, dtype=torch.long)
    yy, xx = torch.meshgrid(torch.arange(h), torch.arange(w), indexing="ij")
    for i in range(b):
        cuts = sorted(torch.randint(1, h, (3,), generator=g).tolist())
        for lo, hi in zip([0] + cuts, cuts + [h]):
            labels[i, lo:hi] = head[int(torch.randint(len(head), (), generator=g))]
        labels[i, :, -8:] = 255  # padding
        for _ in range(blobs):
            c = tail[int(torch.randint(len(tail), (), generator=g))]
            cy, cx = torch.randint(h, (2,), generator=g).tolist()
            ry, rx = (torch.randint(h // 40 + 2, h // 10 + 3, (2,), generator=g)).tolist()
            labels[i][((yy - cy) / ry) ** 2 + ((xx - cx) / rx) ** 2 <= 1] = c
    images = torch.randn(b, 3, h, w, generator=g)
    return images, labels


class VectorisedMapReference(TMemoryBankReference):
    """The official per-image pipeline with the class map built by one indexing op."""

    def _class_map(self, image, where, cls):
        out = torch.full((1,) + tuple(image.shape[1:]), -1, dtype=torch.int32)
        out[where] = cls
        return out


def _case(name, cfg, b, h, w, blobs, quick, device):
    images, labels = synthetic_batch(b, h, w, cfg["num_classes"], cfg["tail"], blobs, seed=0)
    warm = [synthetic_batch(b, h, w, cfg["num_classes"], cfg["tail"], blobs, seed=s) for s in range(1, 4)]
    kw = dict(memory_size=cfg["memory_size"], p_sample=cfg["p_sample"], p_resize=cfg["p_resize"])

    bank = TMemoryBank(cfg["num_classes"], cfg["tail"], seed=0, ignore_index=255, **kw)
    work_i, work_l = images.to(device).clone(), labels.to(device).clone()
    src_i, src_l = images.to(device), labels.to(device)
    for wi, wl in warm:
        bank(wi.to(device), wl.to(device))

    def ours():
        work_i.copy_(src_i)
        work_l.copy_(src_l)
        bank(work_i, work_l)
        return bank.last_pastes.shape[0]

    def copy_only():
        work_i.copy_(src_i)
        work_l.copy_(src_l)
        return 0

    def per_image(cls):
        ref = cls(cfg["num_classes"], cfg["tail"], rng=random.Random(0), **kw)
        ref_i, ref_l = images.clone(), labels.clone()
        for wi, wl in warm:
            for j in range(b):
                ref(wi[j].clone(), wl[j : j + 1].clone())

        def run():
            ref_i.copy_(images)
            ref_l.copy_(labels)
            for j in range(b):
                ref(ref_i[j], ref_l[j : j + 1])
            return 0

        return run

    size = f"{name} {b}x{h}x{w}"
    note = (
        f"C={cfg['num_classes']}, {len(cfg['tail'])} tail, M={cfg['memory_size']}, "
        f"p_sample={cfg['p_sample']}, p_resize={cfg['p_resize']}"
    )
    baselines = {
        "official per-image": per_image(TMemoryBankReference),
        "per-image, vectorised map": per_image(VectorisedMapReference),
    }
    if device != "cpu":
        baselines = {f"{k} (CPU)": v for k, v in baselines.items()}
    return [
        harness.Case(
            "memory_bank", "update+paste", size, ours, baselines, repeats=3 if quick else 7, rtol=None, note=note
        ),
        harness.Case("memory_bank", "batch copy (in every row)", size, copy_only, {}, repeats=7, rtol=None),
    ]


def cases(device: torch.device | str | None, quick: bool):
    if quick:
        return _case("ADE-like", ADE, 2, 128, 128, 6, quick, device) + _case(
            "City-like", CITY, 2, 128, 128, 3, quick, device
        )
    return (
        _case("ADE-like", ADE, 8, 512, 512, 6, quick, device)
        + _case("City-like", CITY, 8, 512, 512, 3, quick, device)
        + _case("City-like", CITY, 2, 1024, 1024, 3, quick, device)
    )
