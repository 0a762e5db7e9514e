"""Stateful AUROC metrics: accumulation, reset, binned mode and its error bound, DDP (gloo, 2 CPU ranks)."""

import socket

import pytest
import torch
import torch.distributed as dist
import torch.multiprocessing as mp
from sklearn.metrics import roc_auc_score

import torchauc.metrics as M
from torchauc.metrics import functional as F


def batches(n_batches=4, n=250, seed=0, device="cpu"):
    g = torch.Generator().manual_seed(seed)
    out = []
    for _ in range(n_batches):
        s = torch.round(torch.rand(n, generator=g, dtype=torch.float64) * 50) / 50
        y = (torch.rand(n, generator=g) < 0.4).long()
        out.append((s.to(device), y.to(device)))
    return out


def test_auroc_accumulates_and_resets(device):
    m = M.AUROC()
    data = batches(device=device)
    first = m(*data[0])
    assert abs(float(first) - roc_auc_score(data[0][1].cpu(), data[0][0].cpu())) < 1e-12
    for s, y in data[1:]:
        m.update(s, y)
    s_all = torch.cat([s for s, _ in data]).cpu()
    y_all = torch.cat([y for _, y in data]).cpu()
    assert abs(float(m.compute()) - roc_auc_score(y_all, s_all)) < 1e-12
    m.reset()
    with pytest.raises(ValueError, match="before any update"):
        m.compute()


def test_weighted_updates_mixed(device):
    data = batches(3, device=device)
    w = torch.rand(250, dtype=torch.float64, device=device)
    m = M.AUROC()
    m.update(*data[0], sample_weights=w)
    m.update(*data[1])
    ref_w = torch.cat([w, torch.ones(250, dtype=torch.float64, device=device)]).cpu()
    s = torch.cat([data[0][0], data[1][0]]).cpu()
    y = torch.cat([data[0][1], data[1][1]]).cpu()
    assert abs(float(m.compute()) - roc_auc_score(y, s, sample_weight=ref_w)) < 1e-12


@pytest.mark.parametrize("bins", [10, 1000, 100000])
def test_binned_within_bound(device, bins):
    g = torch.Generator().manual_seed(1)
    exact, binned = M.AUROC(), M.AUROC(bins=bins)
    for _ in range(3):
        s = torch.sigmoid(torch.randn(5000, generator=g, dtype=torch.float64) * 2).to(device)
        y = (torch.rand(5000, generator=g) < torch.sigmoid(torch.randn(5000, generator=g))).long().to(device)
        exact.update(s, y)
        binned.update(s, y)
    e, b, bound = float(exact.compute()), float(binned.compute()), float(binned.error_bound())
    assert abs(e - b) <= bound + 1e-15
    assert bound <= 1.0 / bins + 1e-3  # continuous scores: about 1/(2 bins) of the pairs share a bin


def test_binned_exact_on_bin_grid(device):
    # scores already on the bin grid (one value per bin): the binned value is exact
    s = (torch.randint(0, 20, (3000,)).double() + 0.5) / 20
    y = (torch.rand(3000) < 0.5).long()
    m = M.AUROC(bins=20)
    m.update(s.to(device), y.to(device))
    assert abs(float(m.compute()) - roc_auc_score(y, s)) < 1e-12
    with pytest.raises(ValueError, match="binned mode"):
        M.AUROC().error_bound()
    with pytest.raises(ValueError, match="scores contains NaN"):
        m.update(torch.tensor([float("nan")], device=device), torch.tensor([1], device=device))


def test_other_classes(device):
    g = torch.Generator().manual_seed(2)
    S = torch.softmax(torch.randn(300, 4, generator=g, dtype=torch.float64), 1).to(device)
    Y = torch.randint(0, 4, (300,), generator=g).to(device)
    mc = M.MulticlassAUROC(mode="ovo")
    mc.update(S[:100], Y[:100])
    mc.update(S[100:], Y[100:])
    assert abs(float(mc.compute()) - float(F.multiclass_auroc(S, Y, mode="ovo"))) < 1e-12

    s, y = S[:, 0], (Y == 0).long()
    pm = M.PartialAUROC(max_fpr=0.3, min_tpr=0.2)
    pm.update(s[:150], y[:150])
    pm.update(s[150:], y[150:])
    assert abs(float(pm.compute()) - float(F.partial_auroc(s, y, max_fpr=0.3, min_tpr=0.2))) < 1e-12

    L = (torch.rand(300, 3, generator=g) < 0.5).long().to(device)
    ml = M.MultilabelAUROC()
    ml.update(S[:, :3], L)
    assert abs(float(ml.compute()) - float(F.multilabel_auroc(S[:, :3], L))) < 1e-12

    logits = torch.randn(2, 4, 5, 6, generator=g).to(device)
    labels = torch.randint(0, 4, (2, 5, 6), generator=g).to(device)
    px = M.PixelAUROC(ignore_index=255, on_undefined="nan")
    px.update(logits, labels)
    px.update(logits[:, :, :3], labels[:, :3])  # a different spatial size
    flat = torch.cat([logits.movedim(1, -1).reshape(-1, 4), logits[:, :, :3].movedim(1, -1).reshape(-1, 4)])
    lab = torch.cat([labels.reshape(-1), labels[:, :3].reshape(-1)])
    assert abs(float(px.compute()) - float(F.multiclass_auroc(flat, lab, mode="ova"))) < 1e-12

    ow = M.OpenworldAUROC()
    c = torch.rand(300, generator=g).to(device) < 0.8
    ow.update(s, y, c)
    assert abs(float(ow.compute()) - float(F.openworld_auroc(s, y, c))) < 1e-12


# ------------------------------------------------------------------------------------ DDP
def _free_port():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _weights(i):
    return torch.rand(250, generator=torch.Generator().manual_seed(100 + i), dtype=torch.float64)


def _ddp_worker(rank, world, port, results):
    dist.init_process_group("gloo", init_method=f"tcp://127.0.0.1:{port}", rank=rank, world_size=world)
    try:
        torch.set_num_threads(1)
        data = batches(4, seed=3)
        exact, binned = M.AUROC(), M.AUROC(bins=64)
        exact_w, binned_w = M.AUROC(), M.AUROC(bins=64)  # weights at 1e150: the scale must not matter
        mc = M.MulticlassAUROC(mode="ova")
        g = torch.Generator().manual_seed(4)
        S = torch.rand(200, 3, generator=g, dtype=torch.float64)
        Y = torch.randint(0, 3, (200,), generator=g)
        for i, (s, y) in enumerate(data):
            if i % world == rank:  # each rank sees its own batches; rank 1 gets a smaller one
                exact.update(s[: 250 - 50 * rank], y[: 250 - 50 * rank])
                binned.update(s[: 250 - 50 * rank], y[: 250 - 50 * rank])
                w = _weights(i)[: 250 - 50 * rank] * 1e150
                exact_w.update(s[: 250 - 50 * rank], y[: 250 - 50 * rank], sample_weights=w)
                binned_w.update(s[: 250 - 50 * rank], y[: 250 - 50 * rank], sample_weights=w)
        mc.update(S[rank::world], Y[rank::world])
        results[rank] = tuple(float(m.compute()) for m in (exact, binned, mc, exact_w, binned_w))
    finally:
        dist.destroy_process_group()


def test_ddp_gloo_two_ranks():
    world = 2
    manager = mp.Manager()
    results = manager.dict()
    mp.spawn(_ddp_worker, args=(world, _free_port(), results), nprocs=world, join=True)
    data = batches(4, seed=3)
    parts = [(s[: 250 - 50 * (i % world)], y[: 250 - 50 * (i % world)]) for i, (s, y) in enumerate(data)]
    s_all = torch.cat([p[0] for p in parts])
    y_all = torch.cat([p[1] for p in parts])
    exact = roc_auc_score(y_all, s_all)
    binned = M.AUROC(bins=64)
    binned.update(s_all, y_all)
    g = torch.Generator().manual_seed(4)
    S = torch.rand(200, 3, generator=g, dtype=torch.float64)
    Y = torch.randint(0, 3, (200,), generator=g)
    mc = float(F.multiclass_auroc(S, Y, mode="ova"))  # order-invariant: gathered rank order is fine
    w_all = torch.cat([_weights(i)[: 250 - 50 * (i % world)] for i in range(len(data))])
    exact_w = roc_auc_score(y_all, s_all, sample_weight=w_all)
    binned_w = M.AUROC(bins=64)
    binned_w.update(s_all, y_all, sample_weights=w_all)
    for rank in range(world):
        e, b, m, ew, bw = results[rank]
        assert abs(e - exact) < 1e-12
        assert abs(b - float(binned.compute())) < 1e-12
        assert abs(m - mc) < 1e-12
        assert abs(ew - exact_w) < 1e-12
        assert abs(bw - float(binned_w.compute())) < 1e-12
