"""SAM, ImbSAM, SSE-SAM (torchauc.optim.sam): updates equal to re-implementations of the official codes
(torchauc.reference.sam) over several steps, pass counts (forward calls counted by a hook), exact
restores, buffers allocated once, state_dict round trips, and a 2-process gloo DDP run equal to
single-process training on the full batch."""

import copy
import functools

import pytest
import torch
import torch.nn.functional as F

from torchauc.optim import SAM, SSESAM, ImbSAM, split_head_tail
from torchauc.reference import sam as R

TAIL = torch.tensor([3, 4])


class Net(torch.nn.Module):
    """A small CNN on 1x8x8 inputs, 5 classes; counts its forward calls."""

    def __init__(self, seed=0):
        super().__init__()
        torch.manual_seed(seed)
        self.conv = torch.nn.Conv2d(1, 4, 3, padding=1)
        self.fc = torch.nn.Linear(4 * 4 * 4, 5)
        self.calls = 0

    def forward(self, x):
        self.calls += 1
        return self.fc(F.max_pool2d(F.relu(self.conv(x)), 2).flatten(1))


def data(n=24, seed=0):
    g = torch.Generator().manual_seed(seed)
    x = torch.randn(n, 1, 8, 8, generator=g)
    y = torch.randint(0, 5, (n,), generator=g)
    return x, y


def head_tail_fn(normalization):
    return lambda out, y: split_head_tail(
        F.cross_entropy(out, y, reduction="none"), y, TAIL, normalization=normalization
    )


def twins(seed=0):
    a, b = Net(seed), Net(seed)
    b.load_state_dict(a.state_dict())
    return a, b


def assert_same_params(m1, m2, **tol):
    for p, q in zip(m1.parameters(), m2.parameters()):
        torch.testing.assert_close(p, q, **tol)


SGD = functools.partial(torch.optim.SGD, lr=0.1, momentum=0.9, weight_decay=1e-3)


# ---------------------------------------------------------------- SAM
@pytest.mark.parametrize("adaptive", [False, True])
@pytest.mark.parametrize("use_step", [False, True])
def test_sam_equals_davda54(adaptive, use_step):
    ours_m, ref_m = twins()
    groups = lambda m: [{"params": m.conv.parameters()}, {"params": m.fc.parameters(), "rho": 0.1}]  # noqa: E731
    ours = SAM(groups(ours_m), torch.optim.SGD, rho=0.05, adaptive=adaptive, lr=0.1, momentum=0.9)
    ref = R.DavdaSAM(groups(ref_m), torch.optim.SGD, rho=0.05, adaptive=adaptive, lr=0.1, momentum=0.9)
    for i in range(5):
        x, y = data(seed=i)
        for m, opt in ((ours_m, ours), (ref_m, ref)):
            F.cross_entropy(m(x), y).backward()
            if use_step:
                opt.step(lambda m=m: F.cross_entropy(m(x), y).backward())
                opt.zero_grad()
            else:
                opt.first_step(zero_grad=True)
                F.cross_entropy(m(x), y).backward()
                opt.second_step(zero_grad=True)
    assert_same_params(ours_m, ref_m, rtol=1e-6, atol=1e-6)


def test_sam_restores_exactly_and_allocates_once():
    m = Net()
    opt = SAM(m.parameters(), torch.optim.SGD, lr=0.0)
    before = [p.detach().clone() for p in m.parameters()]
    x, y = data()
    ptrs = None
    for _ in range(3):
        F.cross_entropy(m(x), y).backward()
        opt.first_step(zero_grad=True)
        assert any(not torch.equal(p, b) for p, b in zip(m.parameters(), before))
        F.cross_entropy(m(x), y).backward()
        opt.second_step(zero_grad=True)
        for p, b in zip(m.parameters(), before):
            assert torch.equal(p, b)  # bit-exact: restored by swapping storages back, not by p - e
        now = sorted(t.data_ptr() for p in m.parameters() for t in (p, opt.state[p]["spare"]))
        assert ptrs is None or now == ptrs
        ptrs = now


def test_sam_state_dict_round_trip():
    m1, m2 = twins()
    o1 = SAM(m1.parameters(), torch.optim.SGD, lr=0.1, momentum=0.9)
    x, y = data()
    for _ in range(2):
        F.cross_entropy(m1(x), y).backward()
        o1.step(lambda: F.cross_entropy(m1(x), y).backward())
        o1.zero_grad()
    m2.load_state_dict(m1.state_dict())
    o2 = SAM(m2.parameters(), torch.optim.SGD, lr=0.1, momentum=0.9)
    o2.load_state_dict(copy.deepcopy(o1.state_dict()))  # as through torch.save: no shared buffers
    assert "base_optimizer" in o1.state_dict()
    for m, o in ((m1, o1), (m2, o2)):
        F.cross_entropy(m(x), y).backward()
        o.step(lambda m=m: F.cross_entropy(m(x), y).backward())
    assert_same_params(m1, m2, rtol=0, atol=0)


# ---------------------------------------------------------------- ImbSAM, SSE-SAM
@pytest.mark.parametrize("normalization", ["imbsam", "count"])
def test_imbsam_equals_official(normalization):
    ours_m, ref_m = twins(1)
    ht = head_tail_fn(normalization)
    ours = ImbSAM(ours_m.parameters(), SGD, rho=0.05)
    ref = R.OfficialImbSAM(SGD(ref_m.parameters()), ref_m, rho=0.05)
    for i in range(4):
        x, y = data(seed=10 + i)
        ours_m.calls = ref_m.calls = 0
        ours.step(lambda: ht(ours_m(x), y))
        R.imbsam_step(ref_m, ref, x, y, ht)
        assert ours_m.calls == 2 and ref_m.calls == 2
        assert ours.passes == {"forward": 2 * (i + 1), "backward": 3 * (i + 1)}
    assert_same_params(ours_m, ref_m, rtol=1e-6, atol=1e-6)


@pytest.mark.parametrize("switch_epoch", [None, 2, 0])
def test_ssesam_equals_official_four_pass_schedule(switch_epoch):
    ours_m, ref_m = twins(2)
    ht = head_tail_fn("batch")
    ours = SSESAM(ours_m.parameters(), SGD, rho_head=0.05, rho_tail=0.1, switch_epoch=switch_epoch)
    ref = R.OfficialImbSAM(SGD(ref_m.parameters()), ref_m)
    for epoch in range(4):
        for i in range(2):
            x, y = data(seed=100 * epoch + i)
            switched = switch_epoch is not None and epoch >= switch_epoch
            ours_m.calls = ref_m.calls = 0
            ours.step(lambda: ht(ours_m(x), y))
            R.ssesam_step(ref_m, ref, x, y, ht, 0.0 if switched else 0.05, 0.1)
            assert ours_m.calls == (2 if switched else 3) and ref_m.calls == 4
        ours.update_rho()
    assert_same_params(ours_m, ref_m, rtol=1e-6, atol=1e-6)
    assert ours.state_dict()["param_groups"][0]["epoch"] == 4


def test_ssesam_after_switch_is_imbsam():
    m1, m2 = twins(3)
    ht = head_tail_fn("batch")
    a = SSESAM(m1.parameters(), SGD, rho_head=0.05, rho_tail=0.1, switch_epoch=0)
    b = ImbSAM(m2.parameters(), SGD, rho=0.1)
    for i in range(3):
        x, y = data(seed=i)
        a.step(lambda: ht(m1(x), y))
        b.step(lambda: ht(m2(x), y))
    assert_same_params(m1, m2, rtol=0, atol=0)


def test_head_tail_steps_restore_exactly_and_reuse_buffers():
    m = Net()
    opt = SSESAM(m.parameters(), torch.optim.SGD, rho_head=0.05, rho_tail=0.1, lr=0.0)
    before = [p.detach().clone() for p in m.parameters()]
    x, y = data()
    ht = head_tail_fn("batch")
    ptrs = None
    for _ in range(2):
        opt.step(lambda: ht(m(x), y))
        for p, b in zip(m.parameters(), before):
            assert torch.equal(p, b)
        now = [p.data_ptr() for p in m.parameters()]
        now += [opt.state[p][k].data_ptr() for p in m.parameters() for k in ("spare", "head_grad", "tail_grad")]
        assert ptrs is None or now == ptrs
        ptrs = now


def test_closure_contract():
    m = Net()
    opt = ImbSAM(m.parameters(), SGD)
    x, y = data()
    with pytest.raises(TypeError, match="head_loss, tail_loss"):
        opt.step(lambda: F.cross_entropy(m(x), y))
    with pytest.raises(ValueError, match="closure"):
        opt.step()
    with pytest.raises(ValueError, match="rho"):
        SSESAM(m.parameters(), SGD, rho_head=-1.0)


# ---------------------------------------------------------------- split_head_tail
@pytest.mark.parametrize("normalization", ["batch", "imbsam", "count"])
@pytest.mark.parametrize("as_mask", [False, True])
def test_split_head_tail(normalization, as_mask):
    g = torch.Generator().manual_seed(0)
    loss = torch.rand(30, generator=g, dtype=torch.float64, requires_grad=True)
    y = torch.randint(0, 5, (30,), generator=g)
    tail = torch.tensor([False, False, False, True, True]) if as_mask else [3, 4]
    h, t = split_head_tail(loss, y, tail, normalization=normalization)
    is_tail = (y == 3) | (y == 4)
    hs, ts = loss[~is_tail].sum(), loss[is_tail].sum()
    want = {
        "batch": (hs / 30, ts / 30),
        "imbsam": (hs / 30, 2 * ts / 30),
        "count": (hs / (~is_tail).sum(), ts / is_tail.sum()),
    }[normalization]
    torch.testing.assert_close((h, t), want)
    (g_loss,) = torch.autograd.grad(h + 3 * t, loss)
    assert torch.all((g_loss > 0) & torch.isfinite(g_loss))


def test_split_head_tail_empty_group_and_errors():
    h, t = split_head_tail(torch.ones(4), torch.zeros(4, dtype=torch.long), [3], normalization="count")
    assert h.item() == 1.0 and t.item() == 0.0
    with pytest.raises(ValueError, match="normalization"):
        split_head_tail(torch.ones(4), torch.zeros(4, dtype=torch.long), [3], normalization="mean")
    with pytest.raises(ValueError, match="labels must have one entry per loss"):
        split_head_tail(torch.ones(4), torch.zeros(3, dtype=torch.long), [3])


# ---------------------------------------------------------------- DDP (2 gloo processes)
def _ddp_worker(rank, world, init, steps, result_path, cls_name):
    import torch.distributed as dist

    dist.init_process_group("gloo", init_method=init, rank=rank, world_size=world)
    torch.set_num_threads(1)
    net = Net(5)
    model = torch.nn.parallel.DistributedDataParallel(net)
    opt = _make(cls_name, model.parameters(), model=model)
    ht = head_tail_fn("batch")
    for i in range(steps):
        x, y = data(16, seed=i)
        xs, ys = x[rank::world], y[rank::world]
        opt.step(lambda: ht(model(xs), ys))
        if cls_name == "SSESAM" and i == 1:
            opt.update_rho()
    if rank == 0:
        torch.save([p.detach() for p in net.parameters()], result_path)
    dist.destroy_process_group()


def _make(cls_name, params, **kw):
    if cls_name == "ImbSAM":
        return ImbSAM(params, SGD, rho=0.05, **kw)
    return SSESAM(params, SGD, rho_head=0.05, rho_tail=0.1, switch_epoch=1, **kw)


@pytest.mark.parametrize("cls_name", ["SSESAM"])  # switches at step 2: both schedules (ImbSAM's is the second)
def test_ddp_two_processes_equal_full_batch(tmp_path, cls_name):
    import torch.multiprocessing as mp

    init = f"file://{tmp_path / 'rendezvous'}"  # no port to race for with other processes
    steps = 3
    out = tmp_path / "ddp.pt"
    mp.start_processes(_ddp_worker, args=(2, init, steps, str(out), cls_name), nprocs=2, start_method="spawn")
    net = Net(5)
    opt = _make(cls_name, net.parameters())
    ht = head_tail_fn("batch")
    for i in range(steps):
        x, y = data(16, seed=i)
        # the ranks' halves, concatenated: the same samples as the distributed run
        x, y = torch.cat([x[0::2], x[1::2]]), torch.cat([y[0::2], y[1::2]])
        opt.step(lambda: ht(net(x), y))
        if cls_name == "SSESAM" and i == 1:
            opt.update_rho()
    for p, q in zip(net.parameters(), torch.load(out)):
        torch.testing.assert_close(p.detach(), q, rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("kind", ["imbsam", "imbsam-count", "ssesam", "ssesam-switched"])
def test_step_split_equals_official(kind):
    """step_split runs each pass on its group's rows only: the official update, and a forward call per
    group pass (head and tail rows never in one call)."""
    ours_m, ref_m = twins(4)
    norm = "count" if kind == "imbsam-count" else ("imbsam" if kind == "imbsam" else "batch")
    ht = head_tail_fn(norm)
    per_sample = functools.partial(F.cross_entropy, reduction="none")
    if kind.startswith("imbsam"):
        ours = ImbSAM(ours_m.parameters(), SGD, rho=0.05)
        ref = R.OfficialImbSAM(SGD(ref_m.parameters()), ref_m, rho=0.05)
    else:
        switched = kind == "ssesam-switched"
        ours = SSESAM(ours_m.parameters(), SGD, rho_head=0.05, rho_tail=0.1, switch_epoch=0 if switched else None)
        ref = R.OfficialImbSAM(SGD(ref_m.parameters()), ref_m)
    for i in range(3):
        x, y = data(seed=20 + i)
        ours_m.calls = 0
        ours.step_split(ours_m, x, y, per_sample, TAIL, normalization=norm)
        if kind.startswith("imbsam"):
            R.imbsam_step(ref_m, ref, x, y, ht)
        else:
            R.ssesam_step(ref_m, ref, x, y, ht, 0.0 if switched else 0.05, 0.1)
        assert ours_m.calls == (4 if kind == "ssesam" else 3)
    assert_same_params(ours_m, ref_m, rtol=1e-5, atol=1e-6)


def test_step_split_empty_group_and_batchnorm():
    m1, m2 = twins(5)
    per_sample = functools.partial(F.cross_entropy, reduction="none")
    x, y = data(seed=7)
    y = y % 3  # no tail class (3, 4) in the batch: the tail passes are skipped, its gradient is 0
    a = SSESAM(m1.parameters(), SGD, rho_head=0.05, rho_tail=0.1)
    b = SSESAM(m2.parameters(), SGD, rho_head=0.05, rho_tail=0.1)
    m1.calls = 0
    a.step_split(m1, x, y, per_sample, TAIL)
    b.step(lambda: head_tail_fn("batch")(m2(x), y))
    assert m1.calls == 2
    assert_same_params(m1, m2, rtol=1e-5, atol=1e-6)
    bn = torch.nn.Sequential(torch.nn.Flatten(), torch.nn.Linear(64, 8), torch.nn.BatchNorm1d(8), torch.nn.Linear(8, 5))
    opt = ImbSAM(bn.parameters(), SGD)
    with pytest.raises(ValueError, match="BatchNorm"):
        opt.step_split(bn, x, y, per_sample, TAIL)
    with pytest.raises(ValueError, match="one row per label"):
        opt.step_split(bn.eval(), x[:3], y, per_sample, TAIL)
