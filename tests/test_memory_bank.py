"""AUCSeg T-Memory Bank: ops vs brute force, the bank vs the per-image official reference (replayed
random decisions, bit-exact), and the bank's invariants (capacity, replacement, masks, state)."""

import io

import numpy as np
import pytest
import torch

import torchauc
from torchauc import TMemoryBank
from torchauc.reference import memory_bank as R

OPS = torch.ops.torchauc


def blob_batch(b, h, w, num_classes, tail, blobs=3, seed=0, dtype=torch.float32, ignore=255, head=3):
    """Labels: head classes in vertical bands, an ignore strip, and elliptic blobs of tail classes."""
    g = torch.Generator().manual_seed(seed)
    labels = torch.zeros(b, h, w, dtype=torch.long)
    yy, xx = torch.meshgrid(torch.arange(h), torch.arange(w), indexing="ij")
    tail = torch.tensor(tail)
    head_ids = [c for c in range(num_classes) if c not in tail.tolist()][:head]
    for i in range(b):
        cuts = sorted(torch.randint(1, w, (len(head_ids) - 1,), generator=g).tolist())
        for j, c in enumerate(head_ids):
            lo = 0 if j == 0 else cuts[j - 1]
            hi = w if j == len(head_ids) - 1 else cuts[j]
            labels[i, :, lo:hi] = c
        labels[i, -2:, :] = ignore
        for _ in range(int(torch.randint(0, blobs + 1, (), generator=g))):
            c = tail[torch.randint(len(tail), (), generator=g)]
            cy, cx = torch.randint(h, (), generator=g), torch.randint(w, (), generator=g)
            ry, rx = (
                torch.randint(2, max(3, h // 4), (), generator=g),
                torch.randint(2, max(3, w // 4), (), generator=g),
            )
            labels[i][((yy - cy) / ry) ** 2 + ((xx - cx) / rx) ** 2 <= 1] = c
    if dtype == torch.uint8:
        images = torch.randint(0, 256, (b, 3, h, w), generator=g, dtype=torch.uint8)
    else:
        images = torch.randn(b, 3, h, w, generator=g, dtype=torch.float64).to(dtype)
    return images, labels


# ------------------------------------------------------------------------------ ops
@pytest.mark.parametrize("ldtype", [torch.uint8, torch.int32, torch.int64])
def test_class_bbox_matches_brute_force(device, ldtype):
    g = torch.Generator().manual_seed(3)
    labels = torch.randint(0, 6, (3, 37, 70), generator=g)
    labels[labels == 5] = 255
    labels[2] = 255  # an image with nothing but ignore
    stats, invalid = OPS.memory_bank_class_bbox(labels.to(ldtype).to(device), 5, 255)
    stats = stats.cpu()
    assert invalid.cpu().tolist() == [0, 0, 0]
    for b in range(3):
        for c in range(5):
            ys, xs = torch.where(labels[b] == c)
            if ys.numel() == 0:
                assert stats[b, c].tolist() == [0, 37, -1, 70, -1]
            else:
                assert stats[b, c].tolist() == [ys.numel(), ys.min(), ys.max(), xs.min(), xs.max()]


def test_class_bbox_counts_invalid_labels(device):
    labels = torch.tensor([[[0, 7, 7], [255, -3, 1]]], device=device)
    _, invalid = OPS.memory_bank_class_bbox(labels, 2, 255)
    assert invalid.cpu().tolist() == [3]


def test_gather_copies_crops_and_masks(device):
    images, labels = blob_batch(2, 20, 30, 6, [4, 5], seed=1)
    images, labels = images.to(device), labels.to(device)
    req = torch.tensor([[0, 0, 2, 3, 5, 7, 0], [1, 2, 0, 10, 20, 4, 35]], device=device)
    pool_img = torch.full((200, 3), -9.0, device=device)
    pool_mask = torch.zeros(200, dtype=torch.bool, device=device)
    OPS.memory_bank_gather(images, labels, req, pool_img, pool_mask)
    for b, cls, y0, x0, h, w, off in req.tolist():
        crop = images[b, :, y0 : y0 + h, x0 : x0 + w]
        torch.testing.assert_close(pool_img[off : off + h * w].T.reshape(3, h, w), crop, rtol=0, atol=0)
        assert torch.equal(pool_mask[off : off + h * w].view(h, w), labels[b, y0 : y0 + h, x0 : x0 + w] == cls)
    assert (pool_img[115:] == -9.0).all()


def whole_image_paste(img, gt, src_img, src_mask, cls, p, oy, ox):
    """Official path on numpy: resize the whole source image and mask, write where the mask is set."""
    h2, w2 = int(src_img.shape[1] * p), int(src_img.shape[2] * p)
    big = R.resize_linear(src_img.numpy(), h2, w2)
    m = R.resize_nearest(src_mask.numpy(), h2, w2)
    img, gt = img.clone(), gt.clone()
    img[:, oy : oy + h2, ox : ox + w2][:, torch.from_numpy(m)] = torch.from_numpy(big)[:, torch.from_numpy(m)]
    gt[oy : oy + h2, ox : ox + w2][torch.from_numpy(m)] = cls
    return img, gt


@pytest.mark.parametrize("dtype", [torch.float32, torch.float64, torch.uint8])
@pytest.mark.parametrize("p", [1.0, 0.5, 0.4, 0.37, 0.1])
def test_paste_of_whole_image_entry_matches_resize_then_paste(device, dtype, p):
    src, src_lab = blob_batch(1, 41, 53, 4, [3], blobs=4, seed=5, dtype=dtype)
    src_lab[0, 20:30, 10:40] = 3
    dst, dst_lab = blob_batch(1, 41, 53, 4, [3], blobs=0, seed=6, dtype=dtype)
    h2, w2 = int(41 * p), int(53 * p)
    oy, ox = (41 - h2) // 3, (53 - w2) // 2
    mask = src_lab[0] == 3
    pool_img = src[0].reshape(3, -1).T.contiguous()
    req = torch.tensor([[0, 3, oy, ox, h2, w2, 41, 53, 0, 0, 41, 53, 0]])
    img, lab = dst.clone().to(device), dst_lab.clone().to(device)
    OPS.memory_bank_paste(img, lab, pool_img.to(device), mask.reshape(-1).to(device), req.to(device))
    want_img, want_lab = whole_image_paste(dst[0], dst_lab[0], src[0], mask, 3, p, oy, ox)
    assert torch.equal(lab[0].cpu(), want_lab)
    assert torch.equal(img[0].cpu(), want_img)


def test_paste_later_requests_overwrite_earlier(device):
    img = torch.zeros(1, 1, 4, 4, device=device)
    lab = torch.zeros(1, 4, 4, dtype=torch.long, device=device)
    pool_img = torch.tensor([[1.0], [2.0]], device=device)
    pool_mask = torch.ones(2, dtype=torch.bool, device=device)
    # two 1x1 entries pasted at the same place: the second wins
    req = torch.tensor([[0, 1, 1, 1, 1, 1, 1, 1, 0, 0, 1, 1, 0], [0, 2, 1, 1, 1, 1, 1, 1, 0, 0, 1, 1, 1]])
    OPS.memory_bank_paste(img, lab, pool_img, pool_mask, req.to(device))
    assert lab[0, 1, 1].item() == 2 and img[0, 0, 1, 1].item() == 2.0
    assert int((lab != 0).sum()) == 1


def test_ops_reject_bad_requests():
    img, lab = torch.zeros(1, 3, 8, 8), torch.zeros(1, 8, 8, dtype=torch.long)
    pool_img, pool_mask = torch.zeros(10, 3), torch.zeros(10, dtype=torch.bool)
    with pytest.raises(ValueError, match="outside the 8x8 image"):
        OPS.memory_bank_gather(img, lab, torch.tensor([[0, 1, 5, 5, 4, 4, 0]]), pool_img, pool_mask)
    with pytest.raises(ValueError, match="pool"):
        OPS.memory_bank_gather(img, lab, torch.tensor([[0, 1, 0, 0, 4, 4, 0]]), pool_img, pool_mask)
    with pytest.raises(ValueError, match="image index"):
        OPS.memory_bank_gather(img, lab, torch.tensor([[3, 1, 0, 0, 1, 1, 0]]), pool_img, pool_mask)
    with pytest.raises(ValueError, match="requests must be an int64"):
        OPS.memory_bank_gather(img, lab, torch.zeros(1, 6, dtype=torch.long), pool_img, pool_mask)
    with pytest.raises(ValueError, match="pool_img must have the images' dtype"):
        OPS.memory_bank_gather(img, lab, torch.zeros(0, 7, dtype=torch.long), pool_img.double(), pool_mask)
    with pytest.raises(ValueError, match="sorted by image"):
        rows = torch.tensor([[1, 1, 0, 0, 1, 1, 1, 1, 0, 0, 1, 1, 0], [0, 1, 0, 0, 1, 1, 1, 1, 0, 0, 1, 1, 0]])
        OPS.memory_bank_paste(
            torch.zeros(2, 3, 8, 8), torch.zeros(2, 8, 8, dtype=torch.long), pool_img, pool_mask, rows
        )
    with pytest.raises(ValueError, match="does not fit"):
        OPS.memory_bank_paste(
            img, lab.to(torch.uint8), pool_img, pool_mask, torch.tensor([[0, 300, 0, 0, 1, 1, 1, 1, 0, 0, 1, 1, 0]])
        )
    with pytest.raises(ValueError, match="integer tensor"):
        OPS.memory_bank_class_bbox(torch.zeros(1, 2, 2), 3, 255)


# ------------------------------------------------------------------------------ bank vs reference
class ScriptedRandom:
    """random.Random stand-in for the reference that replays the decisions our bank made."""

    def __init__(self):
        self.ints, self.samples = [], []

    def randint(self, a, b):
        v = self.ints.pop(0)
        assert a <= v <= b, (a, v, b)
        return v

    def sample(self, population, k):
        v = self.samples.pop(0)
        assert len(v) == k and all(0 <= i < len(population) for i in v)
        return v


def replay(ref, rng, images, labels, pastes, tail):
    """Run the reference on each image of the batch, scripted with our bank's pastes."""
    out_i, out_l = images.clone(), labels.clone()
    for b in range(images.shape[0]):
        present = set(torch.unique(labels[b]).tolist())
        missing = [c for c in tail if c not in present]
        rows = [r for r in pastes.tolist() if r[0] == b]
        picked = [missing.index(r[1]) for r in rows]
        # our picks also held classes whose store was still empty: pad with such classes
        n_pick = int(np.ceil(len(missing) * ref.p_sample)) if missing else 0
        empty = [i for i, c in enumerate(missing) if not ref.targets[c] and i not in picked]
        if missing:
            rng.samples.append(picked + empty[: n_pick - len(picked)])
        for r in rows:
            rng.ints += [r[2], r[4], r[3]]  # entry, x offset, y offset (official order)
        ref(out_i[b], out_l[b : b + 1])
        assert not rng.ints and not rng.samples
    return out_i, out_l


@pytest.mark.parametrize("p_resize", [1.0, 0.5, 0.4, 0.37, 0.1])
@pytest.mark.parametrize("p_sample", [1.0, 0.5])
@pytest.mark.parametrize("dtype", [torch.float32, torch.uint8])
def test_bank_matches_official_reference_bit_for_bit(device, p_resize, p_sample, dtype):
    tail = [5, 6, 7, 8, 9]
    # memory_size large enough that no store fills up: no replacement draws to replay
    bank = TMemoryBank(10, tail, memory_size=64, p_sample=p_sample, p_resize=p_resize, seed=11, ignore_index=255)
    rng = ScriptedRandom()
    ref = R.TMemoryBankReference(
        10, tail, memory_size=64, p_sample=p_sample, p_resize=p_resize, rng=rng, alias_stored_images=False
    )
    n_pastes = 0
    for step in range(3):
        images, labels = blob_batch(4, 36, 44, 10, tail, blobs=2, seed=100 + step, dtype=dtype)
        ours_i, ours_l = bank(images.clone().to(device), labels.clone().to(device))
        want_i, want_l = replay(ref, rng, images, labels, bank.last_pastes, tail)
        n_pastes += bank.last_pastes.shape[0]
        assert torch.equal(ours_l.cpu(), want_l)
        assert torch.equal(ours_i.cpu(), want_i)
    assert n_pastes > 0


def test_reference_alias_reproduces_official_defect():
    """The official store keeps the output tensor: stored objects later carry pasted pixels."""
    tail = [3, 4]
    imgs, labs = torch.zeros(2, 1, 6, 6), torch.zeros(2, 6, 6, dtype=torch.long)
    labs[0, 0:2, 0:2] = 3
    labs[1, 3:5, 3:5] = 4
    imgs[1] = 1.0
    for alias in (True, False):
        ref = R.TMemoryBankReference(5, tail, memory_size=5, p_sample=1, p_resize=1, alias_stored_images=alias)
        a, la = imgs[0].clone(), labs[0:1].clone()
        ref(a, la)  # stores class 3 (image a), nothing to paste
        ref(imgs[1].clone(), labs[1:2].clone())  # stores 4, pastes 3
        a2, la2 = torch.zeros(1, 6, 6), torch.zeros(1, 6, 6, dtype=torch.long)
        ref(a2, la2)  # pastes 3 and 4 into an empty image
        stored_3 = ref.images[3][0]
        assert (stored_3 is a) == alias


# ------------------------------------------------------------------------------ bank invariants
def test_capacity_and_fill_order(device):
    bank = TMemoryBank(6, [4, 5], memory_size=3, p_sample=1, seed=0, ignore_index=255)
    for step in range(6):
        img = torch.full((1, 3, 8, 8), float(step), device=device)
        lab = torch.zeros(1, 8, 8, dtype=torch.long, device=device)
        lab[0, 2:4, 2:5] = 4
        bank.update(img, lab)
        assert bank.sizes.tolist() == [min(step + 1, 3), 0]
        if step < 3:  # appends in order while there is room
            assert [int(e["image"][0, 1, 1]) for e in bank.stored(4)] == list(range(step + 1))
    assert len(bank.stored(4)) == 3 and bank.stored(5) == []


def test_random_slot_replacement_is_uniform():
    m, n = 5, 1500
    bank = TMemoryBank(3, [2], memory_size=m, seed=1, ignore_index=255)
    lab = torch.zeros(1, 4, 4, dtype=torch.long)
    lab[0, 1, 1] = 2
    counts = torch.zeros(m)
    prev = None
    for step in range(n + m):
        bank.update(torch.full((1, 1, 4, 4), float(step)), lab)
        now = torch.tensor([float(e["image"][0, 1, 1]) for e in bank.stored(2)])
        if prev is not None and step >= m:
            changed = (now != prev).nonzero().flatten()
            assert changed.numel() == 1
            counts[changed] += 1
        prev = now
    chi2 = float(((counts - n / m) ** 2 / (n / m)).sum())
    assert chi2 < 20.5  # 4 dof, p ~ 4e-4


def test_batch_writes_to_one_class_follow_image_order():
    """Two images of one batch with the same tail class fill consecutive slots, in order."""
    bank = TMemoryBank(3, [2], memory_size=4, seed=0, ignore_index=255)
    img = torch.arange(2.0).view(2, 1, 1, 1).expand(2, 1, 5, 5).contiguous()
    lab = torch.zeros(2, 5, 5, dtype=torch.long)
    lab[:, 2, 2] = 2
    bank.update(img, lab)
    assert [float(e["image"].flatten()[0]) for e in bank.stored(2)] == [0.0, 1.0]


def test_entries_are_bbox_crops_with_exact_masks(device):
    bank = TMemoryBank(5, [4], p_resize=1.0, seed=0, ignore_index=255)
    img = torch.randn(1, 3, 64, 80, device=device)
    lab = torch.zeros(1, 64, 80, dtype=torch.long, device=device)
    lab[0, 10:20, 30:35] = 4
    lab[0, 12, 50] = 4
    bank.update(img, lab)
    (e,) = bank.stored(4)
    y0, x0 = e["top_left"]
    h, w = e["mask"].shape
    assert e["source_size"] == (64, 80)
    assert y0 <= 10 and x0 <= 30 and y0 + h >= 20 and x0 + w >= 51
    assert h * w < 64 * 80 / 10  # a crop, not the image
    assert torch.equal(e["mask"], lab[0, y0 : y0 + h, x0 : x0 + w] == 4)
    assert torch.equal(e["image"], img[0, :, y0 : y0 + h, x0 : x0 + w])


@pytest.mark.parametrize("dtype", [torch.float32, torch.float64, torch.float16, torch.bfloat16, torch.uint8])
def test_p_resize_one_pastes_exact_mask_at_original_position(device, dtype):
    bank = TMemoryBank(5, [3, 4], p_sample=1, p_resize=1.0, seed=3, ignore_index=255)
    src = (torch.rand(1, 3, 32, 32, device=device) * 255).to(dtype)
    src_lab = torch.zeros(1, 32, 32, dtype=torch.long, device=device)
    src_lab[0, 5:12, 7:9] = 3
    src_lab[0, 20, 20:30] = 3
    bank.update(src, src_lab)
    dst = (torch.rand(1, 3, 32, 32, device=device) * 255).to(dtype)
    dst_lab = torch.ones(1, 32, 32, dtype=torch.long, device=device)
    dst_lab[0, 0, 0] = 255
    want_img, want_lab = dst.clone(), dst_lab.clone()
    m = src_lab == 3
    want_lab[m] = 3
    want_img[m.unsqueeze(1).expand_as(dst)] = src[m.unsqueeze(1).expand_as(src)]
    out_img, out_lab = bank.paste(dst, dst_lab)
    assert out_img is dst and out_lab is dst_lab  # in place
    assert torch.equal(out_lab, want_lab) and torch.equal(out_img, want_img)
    assert bank.last_pastes[:, [3, 4]].tolist() == [[0, 0]]


def test_never_pastes_classes_already_present(device):
    tail = list(range(4, 12))
    bank = TMemoryBank(12, tail, p_sample=1.0, p_resize=0.5, seed=4, ignore_index=255)
    for step in range(6):
        images, labels = blob_batch(4, 30, 30, 12, tail, blobs=4, seed=step)
        present = [set(torch.unique(labels[b]).tolist()) for b in range(4)]
        _, out = bank(images.to(device), labels.clone().to(device))
        for b, cls in bank.last_pastes[:, :2].tolist():
            assert cls not in present[b]
        for b in range(4):
            new = set(torch.unique(out[b].cpu()).tolist()) - present[b]
            assert new <= set(tail)
    assert bank.last_pastes.shape[0] > 0


def test_ignore_index_is_never_stored_and_may_be_overwritten(device):
    for ignore in (255, -1):
        bank = TMemoryBank(4, [3], p_resize=1.0, ignore_index=ignore, seed=0)
        lab = torch.full((1, 8, 8), ignore, dtype=torch.long, device=device)
        lab[0, 2:5, 2:5] = 3
        lab[0, 3, 3] = ignore  # a hole in the object
        bank.update(torch.randn(1, 3, 8, 8, device=device), lab)
        (e,) = bank.stored(3)
        assert int(e["mask"].sum()) == 8
        dst = torch.full((1, 8, 8), ignore, dtype=torch.long, device=device)
        bank.paste(torch.zeros(1, 3, 8, 8, device=device), dst)
        assert int((dst == 3).sum()) == 8 and int(dst[0, 3, 3]) == ignore
    with pytest.raises(ValueError, match="outside \\[0, 4\\)"):
        bank(torch.zeros(1, 3, 8, 8, device=device), torch.full((1, 8, 8), 7, device=device))


def test_no_aliasing_of_the_batch(device):
    bank = TMemoryBank(4, [2, 3], p_resize=1.0, seed=0, ignore_index=255)
    img = torch.randn(2, 3, 10, 10, device=device)
    lab = torch.zeros(2, 10, 10, dtype=torch.long, device=device)
    lab[0, 1:4, 1:4] = 2
    lab[1, 5:9, 5:9] = 3
    before = img.clone()
    bank(img, lab)  # image 1 gets class 2 pasted after image 0 was stored
    (e,) = bank.stored(2)
    (e3,) = bank.stored(3)
    y0, x0 = e3["top_left"]
    h, w = e3["mask"].shape
    assert torch.equal(e3["image"], before[1, :, y0 : y0 + h, x0 : x0 + w])  # stored before the paste
    img.fill_(7.0)
    lab.fill_(1)
    y0, x0 = e["top_left"]
    assert torch.equal(
        bank.stored(2)[0]["image"], before[0, :, y0 : y0 + e["mask"].shape[0], x0 : x0 + e["mask"].shape[1]]
    )


def run_batches(bank, device, seeds, tail, dtype=torch.float32):
    outs = []
    for s in seeds:
        images, labels = blob_batch(3, 24, 28, 10, tail, blobs=3, seed=s, dtype=dtype)
        i, l_ = bank(images.to(device), labels.to(device))
        outs.append((i.cpu(), l_.cpu(), bank.last_pastes.clone()))
    return outs


def assert_same_runs(a, b):
    for (ia, la, pa), (ib, lb, pb) in zip(a, b):
        assert torch.equal(ia, ib) and torch.equal(la, lb) and torch.equal(pa, pb)


@pytest.mark.parametrize("dtype", [torch.float32, torch.uint8])
def test_seeded_reproducibility(device, dtype):
    tail = [5, 6, 7, 8, 9]
    runs = [
        run_batches(
            TMemoryBank(10, tail, memory_size=2, p_sample=0.5, p_resize=0.6, seed=9, ignore_index=255),
            device,
            range(5),
            tail,
            dtype,
        )
        for _ in range(2)
    ]
    assert_same_runs(*runs)
    other = run_batches(
        TMemoryBank(10, tail, memory_size=2, p_sample=0.5, p_resize=0.6, seed=10, ignore_index=255),
        device,
        range(5),
        tail,
        dtype,
    )
    assert any(not torch.equal(a[2], b[2]) for a, b in zip(runs[0], other))


def test_state_dict_round_trip_reproduces_later_behaviour(device):
    tail = [5, 6, 7, 8, 9]
    empty = TMemoryBank(10, tail, seed=0, ignore_index=255)
    fresh = TMemoryBank(10, tail, seed=5, ignore_index=255)
    fresh.load_state_dict(empty.state_dict())  # an empty bank round-trips too
    assert_same_runs(run_batches(empty, device, [0], tail), run_batches(fresh, device, [0], tail))
    bank = TMemoryBank(10, tail, memory_size=2, p_sample=0.5, p_resize=0.6, seed=1, ignore_index=255)
    run_batches(bank, device, range(4), tail)
    buf = io.BytesIO()
    torch.save(bank.state_dict(), buf)
    buf.seek(0)
    clone = TMemoryBank(10, tail, memory_size=2, p_sample=0.5, p_resize=0.6, seed=999, ignore_index=255)
    clone.load_state_dict(torch.load(buf, weights_only=False))
    assert torch.equal(clone.sizes, bank.sizes)
    assert_same_runs(run_batches(bank, device, range(4, 8), tail), run_batches(clone, device, range(4, 8), tail))
    with pytest.raises(ValueError, match="memory_size"):
        TMemoryBank(10, tail, memory_size=3, p_sample=0.5, p_resize=0.6, ignore_index=255).load_state_dict(
            bank.state_dict()
        )


def test_pool_is_reclaimed_without_changing_behaviour(monkeypatch):
    """Overwritten entries are garbage; growing and in-place repacking keep the pool within a few times
    the live data and change nothing: a bank that never repacks gives the same results."""
    monkeypatch.setattr(torchauc.memory_bank, "_MIN_POOL", 64)
    tail = [5, 6, 7, 8, 9]
    kw = dict(memory_size=2, p_sample=0.6, p_resize=0.5, seed=0, ignore_index=255)
    bank, roomy = TMemoryBank(10, tail, **kw), TMemoryBank(10, tail, **kw)
    roomy._ensure_pool(torch.zeros(1, 3, 1, 1))
    roomy._reserve(10**6)
    repacks = 0
    for s in range(30):
        end = bank._pool_end
        assert_same_runs(run_batches(bank, "cpu", [s], tail), run_batches(roomy, "cpu", [s], tail))
        repacks += bank._pool_end < end
        live = sum(e["mask"].numel() for c in tail for e in bank.stored(c))
        assert bank._pool_mask.numel() <= 2 * (live + 3 * 5 * 24 * 28)
    assert repacks >= 3 and roomy._pool_mask.numel() == 2 * 10**6  # never repacked


def test_non_contiguous_and_channel_first_labels(device):
    tail = [3]
    bank = TMemoryBank(4, tail, p_resize=1.0, seed=0, ignore_index=255)
    lab = torch.zeros(1, 8, 8, dtype=torch.long, device=device)
    lab[0, 1:3, 1:3] = 3
    bank.update(torch.randn(1, 3, 8, 8, device=device), lab)
    img = torch.zeros(1, 8, 8, 3, device=device).permute(0, 3, 1, 2)  # channels-last view
    dst = torch.zeros(1, 1, 8, 8, dtype=torch.long, device=device)  # mmseg (B, 1, H, W)
    bank.paste(img, dst)
    assert int((dst == 3).sum()) == 4 and bool((img[0, :, 1:3, 1:3] != 0).all())


def test_argument_errors():
    with pytest.raises(ValueError, match="tail_classes"):
        TMemoryBank(5, [5], ignore_index=255)
    with pytest.raises(ValueError, match="p_resize"):
        TMemoryBank(5, [4], p_resize=1.5, ignore_index=255)
    with pytest.raises(ValueError, match="p_sample"):
        TMemoryBank(5, [4], p_sample=-0.1, ignore_index=255)
    with pytest.raises(ValueError, match="ignore_index"):
        TMemoryBank(5, [4], ignore_index=2)
    bank = TMemoryBank(5, [4], ignore_index=255)
    with pytest.raises(ValueError, match="labels must have shape"):
        bank(torch.zeros(1, 3, 4, 4), torch.zeros(1, 4, 5, dtype=torch.long))
    with pytest.raises(TypeError, match="labels must be an integer"):
        bank(torch.zeros(1, 3, 4, 4), torch.zeros(1, 4, 4))
    with pytest.raises(TypeError, match="images must be uint8 or floating"):
        bank(torch.zeros(1, 3, 4, 4, dtype=torch.int32), torch.zeros(1, 4, 4, dtype=torch.long))
    lab = torch.zeros(1, 4, 4, dtype=torch.long)
    lab[0, 0, 0] = 4
    bank.update(torch.zeros(1, 3, 4, 4), lab)
    with pytest.raises(ValueError, match="stores 3-channel torch.float32"):
        bank(torch.zeros(1, 3, 4, 4, dtype=torch.float64), lab)


@pytest.mark.skipif(not torch.cuda.is_available() or not torchauc.cuda_available(), reason="needs CUDA")
def test_cuda_matches_cpu():
    tail = [5, 6, 7, 8, 9]
    cpu = run_batches(
        TMemoryBank(10, tail, memory_size=2, p_sample=0.5, p_resize=0.4, seed=3, ignore_index=255),
        "cpu",
        range(4),
        tail,
    )
    gpu = run_batches(
        TMemoryBank(10, tail, memory_size=2, p_sample=0.5, p_resize=0.4, seed=3, ignore_index=255),
        "cuda",
        range(4),
        tail,
    )
    assert_same_runs(cpu, gpu)
