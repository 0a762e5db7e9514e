"""torchauc.metrics.torchmetrics: torchmetrics.Metric subclasses equal to torchauc's own classes and
to torchmetrics' classes, in a MetricCollection, with compute_on_cpu, under DDP (gloo, 2 CPU ranks)
and in a Lightning module (self.log)."""

import socket

import pytest
import torch
import torch.distributed as dist
import torch.multiprocessing as mp

pytest.importorskip("torchmetrics")
import torchmetrics  # noqa: E402
import torchmetrics.classification as TMC  # noqa: E402

import torchauc.metrics as M  # noqa: E402
from torchauc.metrics import torchmetrics as T  # noqa: E402


def _binary(n, seed, device="cpu"):
    g = torch.Generator().manual_seed(seed)
    s = torch.round(torch.rand(n, generator=g, dtype=torch.float64) * 40) / 40  # ties
    y = (torch.rand(n, generator=g) < 0.35).long()
    return s.to(device), y.to(device)


def _multi(n, c, seed, device="cpu", multilabel=False):
    g = torch.Generator().manual_seed(seed)
    s = torch.rand(n, c, generator=g)
    y = (torch.rand(n, c, generator=g) < 0.4).long() if multilabel else torch.randint(0, c, (n,), generator=g)
    return s.to(device), y.to(device)


def _pixel(b, c, h, w, seed, device="cpu"):
    g = torch.Generator().manual_seed(seed)
    return torch.randn(b, c, h, w, generator=g).to(device), torch.randint(0, c, (b, h, w), generator=g).to(device)


def _openworld(n, seed, device="cpu"):
    g = torch.Generator().manual_seed(seed)
    return tuple(
        t.to(device)
        for t in (torch.rand(n, generator=g), torch.rand(n, generator=g) < 0.5, torch.rand(n, generator=g) < 0.7)
    )


# (name, constructor kwargs, batches of update arguments): every stateful metric class
CASES = [
    ("AUROC", {}, lambda d: [_binary(100, i, d) for i in range(3)]),
    ("AUROC", {"bins": 16}, lambda d: [_binary(100, i, d) for i in range(3)]),
    ("PartialAUROC", {"max_fpr": 0.3, "mcclish": True}, lambda d: [_binary(100, i, d) for i in range(3)]),
    ("PartialAUROC", {"max_fpr": 0.4, "min_tpr": 0.3}, lambda d: [_binary(100, i, d) for i in range(3)]),
    ("MulticlassAUROC", {"mode": "ovo"}, lambda d: [_multi(90, 4, i, d) for i in range(3)]),
    ("MulticlassAUROC", {"mode": "ova", "average": "none"}, lambda d: [_multi(90, 4, i, d) for i in range(3)]),
    ("MultilabelAUROC", {"average": "micro"}, lambda d: [_multi(60, 3, i, d, True) for i in range(3)]),
    ("PixelAUROC", {}, lambda d: [_pixel(2, 3, 5, 4, 0, d), _pixel(1, 3, 3, 6, 1, d), _pixel(2, 3, 5, 4, 2, d)]),
    ("OpenworldAUROC", {}, lambda d: [_openworld(80, i, d) for i in range(3)]),
    ("AveragePrecision", {}, lambda d: [_binary(100, i, d) for i in range(3)]),
    ("MultilabelAveragePrecision", {"average": "micro"}, lambda d: [_multi(60, 3, i, d, True) for i in range(3)]),
]


def test_every_stateful_metric_is_wrapped():
    assert set(M.__all__) - {"functional", "UndefinedMetricWarning"} <= set(T.__all__)
    for name in T.__all__:
        obj = getattr(T, name)
        if name != "wrap":
            assert issubclass(obj, torchmetrics.Metric)


@pytest.mark.parametrize("compute_on_cpu", [False, True])
@pytest.mark.parametrize("name,kw,make", CASES, ids=[f"{c[0]}-{i}" for i, c in enumerate(CASES)])
def test_equal_to_torchauc_class(device, name, kw, make, compute_on_cpu):
    ours, wrapped = getattr(M, name)(**kw), getattr(T, name)(compute_on_cpu=compute_on_cpu, **kw)
    data = make(device)
    first_ours, first_wrapped = ours(*data[0]), wrapped(*data[0])  # forward: the batch's value
    torch.testing.assert_close(first_wrapped.cpu(), first_ours.cpu(), rtol=1e-12, atol=1e-12)
    for args in data[1:]:
        ours.update(*args)
        wrapped.update(*args)
    torch.testing.assert_close(wrapped.compute().cpu(), ours.compute().cpu(), rtol=1e-12, atol=1e-12)
    if compute_on_cpu:
        assert all(t.device.type == "cpu" for t in wrapped.scores)
    wrapped.reset()
    with pytest.raises(ValueError, match="before any update"), pytest.warns(UserWarning, match="before the"):
        wrapped.compute()


def test_sample_weights_mixed_updates():
    (s0, y0), (s1, y1), (s2, y2) = (_binary(100, i) for i in range(3))
    w1 = torch.rand(100, dtype=torch.float64, generator=torch.Generator().manual_seed(7))
    ours, wrapped = M.AUROC(), T.AUROC()
    for m in (ours, wrapped):  # unweighted, weighted, unweighted: the others count 1 each
        m.update(s0, y0)
        m.update(s1, y1, sample_weights=w1)
        m.update(s2, y2)
    assert float(wrapped.compute()) == pytest.approx(float(ours.compute()), abs=1e-12)
    with pytest.raises(ValueError, match="binned mode"):
        wrapped.error_bound()


def test_options_are_checked_by_torchauc():
    with pytest.raises(ValueError, match="mode"):
        T.MulticlassAUROC(mode="ovr")
    with pytest.raises(ValueError, match="labels"):
        T.AUROC().update(torch.rand(3), torch.rand(4))


def test_equal_to_torchmetrics_classes():
    s, y = torch.cat([_binary(200, i)[0] for i in range(2)]), torch.cat([_binary(200, i)[1] for i in range(2)])
    pairs = [
        (T.AUROC(), TMC.BinaryAUROC(), (s, y)),
        (T.PartialAUROC(max_fpr=0.3, mcclish=True), TMC.BinaryAUROC(max_fpr=0.3), (s, y)),
    ]
    S, Y = _multi(300, 4, 5)
    pairs.append((T.MulticlassAUROC(mode="ova"), TMC.MulticlassAUROC(num_classes=4, average="macro"), (S, Y)))
    SL, YL = _multi(300, 3, 6, multilabel=True)
    pairs.append((T.MultilabelAUROC(), TMC.MultilabelAUROC(num_labels=3, average="macro"), (SL, YL)))
    pairs.append((T.AveragePrecision(), TMC.BinaryAveragePrecision(), (s, y)))
    pairs.append((T.MultilabelAveragePrecision(), TMC.MultilabelAveragePrecision(num_labels=3), (SL, YL)))
    for ours, theirs, (a, b) in pairs:
        for part in range(2):  # two updates each
            sl = slice(part * (len(a) // 2), (part + 1) * (len(a) // 2))
            ours.update(a[sl], b[sl])
            theirs.update(a[sl].float(), b[sl])
        assert float(ours.compute()) == pytest.approx(float(theirs.compute()), abs=1e-6), type(ours).__name__


def test_metric_collection_and_binned_bound():
    coll = torchmetrics.MetricCollection(
        {"auroc": T.AUROC(), "binned": T.AUROC(bins=8), "pauc": T.PartialAUROC(max_fpr=0.5, compute_on_cpu=True)}
    )
    ref = {"auroc": M.AUROC(), "binned": M.AUROC(bins=8), "pauc": M.PartialAUROC(max_fpr=0.5)}
    for i in range(3):
        s, y = _binary(64, 10 + i)
        out = coll(s, y)
        for k, m in ref.items():
            assert float(out[k]) == pytest.approx(float(m(s, y)), abs=1e-12)
    values = coll.compute()
    for k, m in ref.items():
        assert float(values[k]) == pytest.approx(float(m.compute()), abs=1e-12)
    assert float(coll["binned"].error_bound()) == pytest.approx(float(ref["binned"].error_bound()), abs=1e-12)


# ------------------------------------------------------------------------------------ DDP
def _free_port():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _ddp_metrics():
    return {
        "auroc": T.AUROC(),
        "binned": T.AUROC(bins=32),
        "pauc": T.PartialAUROC(max_fpr=0.3, mcclish=True),
        "mc": T.MulticlassAUROC(mode="ova"),
        "pixel": T.PixelAUROC(),
    }


def _ddp_data(rank):
    """Rank r's batches: binary of unequal lengths with weights, multiclass, pixel maps."""
    s, y = _binary(120 - 40 * rank, 20 + rank)
    w = torch.rand(s.shape[0], dtype=torch.float64, generator=torch.Generator().manual_seed(30 + rank)) * 1e100
    return s, y, w, _multi(50 + 10 * rank, 3, 40 + rank), _pixel(1 + rank, 3, 4, 5, 50 + rank)


def _ddp_worker(rank, world, port, results):
    dist.init_process_group("gloo", init_method=f"tcp://127.0.0.1:{port}", rank=rank, world_size=world)
    try:
        torch.set_num_threads(1)
        metrics = _ddp_metrics()
        s, y, w, (S, Y), (L, P) = _ddp_data(rank)
        metrics["auroc"].update(s, y, sample_weights=w)
        metrics["binned"].update(s, y, sample_weights=w)
        metrics["pauc"].update(s, y, sample_weights=w)
        metrics["mc"].update(S, Y)
        metrics["pixel"].update(L, P)
        results[rank] = {k: float(m.compute()) for k, m in metrics.items()}
    finally:
        dist.destroy_process_group()


def test_ddp_gloo_two_ranks():
    world = 2
    results = mp.Manager().dict()
    mp.spawn(_ddp_worker, args=(world, _free_port(), results), nprocs=world, join=True)
    single = _ddp_metrics()  # one process that sees every rank's data, in rank order
    for rank in range(world):
        s, y, w, (S, Y), (L, P) = _ddp_data(rank)
        for k in ("auroc", "binned", "pauc"):
            single[k].update(s, y, sample_weights=w)
        single["mc"].update(S, Y)
        single["pixel"].update(L, P)
    for rank in range(world):
        for k, m in single.items():
            assert results[rank][k] == pytest.approx(float(m.compute()), abs=1e-12), (rank, k)


# ------------------------------------------------------------------------------------ Lightning
def test_lightning_self_log(tmp_path):
    L = pytest.importorskip("pytorch_lightning")

    class Model(L.LightningModule):
        def __init__(self):
            super().__init__()
            self.net = torch.nn.Linear(4, 1)
            self.auroc = T.AUROC()
            self.seen = []

        def training_step(self, batch, batch_idx):
            x, y = batch
            logit = self.net(x).squeeze(1)
            self.auroc.update(logit.detach(), y)
            self.seen.append((logit.detach().clone(), y))
            self.log("train_auroc", self.auroc, on_step=False, on_epoch=True)
            return torch.nn.functional.binary_cross_entropy_with_logits(logit, y.float())

        def configure_optimizers(self):
            return torch.optim.SGD(self.parameters(), lr=0.0)  # lr 0: the logged value is reproducible

    g = torch.Generator().manual_seed(0)
    x = torch.randn(64, 4, generator=g)
    y = (torch.rand(64, generator=g) < 0.5).long()
    loader = torch.utils.data.DataLoader(torch.utils.data.TensorDataset(x, y), batch_size=32)
    model = Model()
    trainer = L.Trainer(
        accelerator="cpu",
        max_epochs=1,
        limit_train_batches=2,
        logger=False,
        enable_checkpointing=False,
        enable_progress_bar=False,
        enable_model_summary=False,
        default_root_dir=tmp_path,
    )
    trainer.fit(model, loader)
    logged = float(trainer.callback_metrics["train_auroc"])
    scores = torch.cat([s for s, _ in model.seen])
    labels = torch.cat([t for _, t in model.seen])
    assert len(model.seen) == 2
    assert logged == pytest.approx(float(M.functional.auroc(scores, labels)), abs=1e-6)


def test_wrap_makes_a_new_stateful_metric_in_one_line():
    from torchauc.auroc import modules

    class MeanScoreOfPositives(modules._ExactMetric):  # a stand-in for a metric another family adds
        def update(self, scores, labels, *, sample_weights=None):
            self._append(sample_weights, scores=scores.reshape(-1), labels=labels.reshape(-1))

        def _value(self, scores, labels, sample_weights):
            w = torch.ones_like(scores, dtype=torch.float64) if sample_weights is None else sample_weights
            return (scores.double() * w * labels).sum() / (w * labels).sum()

    Wrapped = T.wrap(MeanScoreOfPositives)
    assert issubclass(Wrapped, torchmetrics.Metric) and Wrapped.__name__ == "MeanScoreOfPositives"
    ours, wrapped = MeanScoreOfPositives(), Wrapped()
    for i in range(2):
        s, y = _binary(50, 60 + i)
        w = torch.rand(50, dtype=torch.float64, generator=torch.Generator().manual_seed(i))
        ours.update(s, y, sample_weights=w)
        wrapped.update(s, y, sample_weights=w)
    assert float(wrapped.compute()) == pytest.approx(float(ours.compute()), abs=1e-12)
