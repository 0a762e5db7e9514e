"""torch.distributed: every loss with ``process_group`` equals the single-process loss and gradients
on the concatenated batch (float64, 1e-10), and the distributed metrics equal scikit-learn on the
concatenated data (ties across ranks, uneven and empty ranks, mixed weighted/unweighted ranks).

gloo processes are spawned by the test; one spawn per world size runs every check (process start-up
dominates the cost). A worker raises on the first mismatch; spawn re-raises it here."""

import socket

import pytest
import torch
import torch.distributed as dist
import torch.multiprocessing as mp

TOL = dict(rtol=1e-10, atol=1e-10)


def _free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _split(n, world, seed):
    """Uneven split sizes of n over world ranks, one rank empty when world > 2."""
    g = torch.Generator().manual_seed(seed)
    cuts = torch.randint(0, n + 1, (world - 1,), generator=g).sort().values.tolist()
    sizes = [b - a for a, b in zip([0] + cuts, cuts + [n])]
    if world > 2:
        sizes[1], sizes[0] = 0, sizes[0] + sizes[1]
    return sizes


def _mine(t, sizes, rank):
    off = sum(sizes[:rank])
    return t[off : off + sizes[rank]]


def _check_loss(name, fn, inputs, sizes, rank, group, grad_of=(0,)):
    """fn(*inputs, group) on this rank's rows vs fn(*inputs, None) on the full batch."""
    full = [t.clone().requires_grad_(i in grad_of) for i, t in enumerate(inputs)]
    ref = fn(*full, None)
    ref.backward()
    local = [_mine(t, sizes, rank).clone().requires_grad_(i in grad_of) for i, t in enumerate(inputs)]
    got = fn(*local, group)
    got.backward()
    torch.testing.assert_close(got, ref.detach(), **TOL, msg=lambda m: f"{name} value: {m}")
    for i in grad_of:
        torch.testing.assert_close(
            local[i].grad, _mine(full[i].grad, sizes, rank), **TOL, msg=lambda m: f"{name} grad {i}: {m}"
        )


def _losses(rank, world, group):
    import torchauc
    from torchauc import multiclass as M
    from torchauc import pairwise as PW
    from torchauc import partial_auc as P
    from torchauc.compat import libauc as L

    g = torch.Generator().manual_seed(7)
    n = 41
    s = torch.randn(n, generator=g, dtype=torch.float64).round(decimals=1)  # ties, also across ranks
    y = (torch.rand(n, generator=g) < 0.4).long()
    a = torch.rand(n, generator=g, dtype=torch.float64)
    b = torch.rand(n, generator=g, dtype=torch.float64)
    sizes = _split(n, world, 1)
    for sur in ("square", "exp", "hinge", "squared_hinge", "logistic", "sigmoid"):
        for red in ("mean", "sum"):
            _check_loss(
                f"pairwise {sur} {red}",
                lambda s, y, a, b, pg, sur=sur, red=red: PW.pairwise_auc_loss(
                    s, y, surrogate=sur, margin=0.7, pos_weights=a, neg_weights=b, reduction=red, process_group=pg
                ),
                [s, y, a, b],
                sizes,
                rank,
                group,
                grad_of=(0, 2, 3),
            )
        _check_loss(
            f"AUCLoss {sur}",
            lambda s, y, pg, sur=sur: PW.AUCLoss(sur, process_group=pg)(s, y),
            [s, y],
            sizes,
            rank,
            group,
        )
        _check_loss(
            f"partial_auc_loss {sur}",
            lambda s, y, pg, sur=sur: P.partial_auc_loss(
                s, y, max_fpr=0.4, min_tpr=0.3, surrogate=sur, process_group=pg
            ),
            [s, y],
            sizes,
            rank,
            group,
        )
    # one class on the global batch: 0 with zero gradient, on every path
    for sur in ("square", "exp", "hinge"):
        _check_loss(
            f"pairwise one-class {sur}",
            lambda s, y, pg, sur=sur: PW.pairwise_auc_loss(s, y, surrogate=sur, process_group=pg),
            [s, torch.ones_like(y)],
            sizes,
            rank,
            group,
        )
    p = torch.sigmoid(s)
    for module in (
        lambda pg: P.PartialAUCLoss(0.5, process_group=pg),
        lambda pg: P.RelaxedTPAUCLoss("poly", gamma=0.5, process_group=pg),
        lambda pg: P.RelaxedTPAUCLoss("exp", auc_type="OP", margin=None, process_group=pg),
        lambda pg: P.InsRelaxedPAUCLoss(0.5, auc_type="TP", process_group=pg),
        lambda pg: P.PAUCILoss(0.3, min_tpr=0.2, process_group=pg),
    ):

        def fn(s, y, pg, module=module):
            m = module(pg)
            if isinstance(m, P.InsRelaxedPAUCLoss):
                with torch.no_grad():
                    m.a.fill_(0.3), m.b.fill_(0.2)
            return m(s, y)

        _check_loss(type(module(None)).__name__, fn, [p, y], sizes, rank, group)
    # InsRelaxedPAUCLoss: its 8 statistics in one all_reduce; the warm-up loss on the gathered batch
    ins = P.InsRelaxedPAUCLoss(0.5, auc_type="TP", process_group=group)
    _, calls = _collectives(lambda: ins(_mine(p, sizes, rank), _mine(y, sizes, rank)))
    assert calls == {**dict.fromkeys(calls, 0), "all_reduce": 1}, f"InsRelaxedPAUCLoss collectives {calls}"
    bce = torch.nn.functional.binary_cross_entropy
    warm = lambda pg: P.InsRelaxedPAUCLoss(0.5, warmup_epochs=1, warmup_loss=bce, process_group=pg)  # noqa: E731
    _check_loss("InsRelaxedPAUCLoss warm-up", lambda s, y, pg: warm(pg)(s, y, epoch=0), [p, y], sizes, rank, group)
    # LibAUC drop-ins: values, gradients and the per-sample state after two steps
    idx = torch.randperm(n, generator=g)
    for cls in (L.pAUC_CVaR_Loss, L.pAUC_DRO_Loss, L.tpAUC_KL_Loss):
        ref_m, dist_m = cls(data_len=n, device="cpu"), cls(data_len=n, device="cpu", process_group=group)
        for step in range(2):
            x = torch.sigmoid(s + step)
            _check_loss(
                cls.__name__,
                lambda s, y, i, pg: (dist_m if pg is not None else ref_m)(s, y, i),
                [x, y, idx],
                sizes,
                rank,
                group,
            )
        for k, v in ref_m.state_dict().items():
            torch.testing.assert_close(dist_m.state_dict()[k], v, **TOL, msg=lambda m: f"{cls.__name__} {k}: {m}")
    # multiclass and AUCSeg pixel losses (ignore_index, absent classes)
    C = 5
    X = torch.randn(n, C, generator=g, dtype=torch.float64).round(decimals=1)
    Y = torch.randint(0, C - 1, (n,), generator=g)  # class C - 1 absent
    Y[::7] = 255
    for sur in ("square", "exp", "linear", "hinge"):
        for mode in ("ovo", "ova"):
            for norm in ("present", "xcurve"):
                _check_loss(
                    f"multiclass {sur} {mode} {norm}",
                    lambda x, y, pg, sur=sur, mode=mode, norm=norm: M.multiclass_auc_loss(
                        x,
                        y,
                        surrogate=sur,
                        mode=mode,
                        margin=0.8,
                        ignore_index=255,
                        normalization=norm,
                        process_group=pg,
                    ),
                    [X, Y],
                    sizes,
                    rank,
                    group,
                )
    B = 2 * world + 1
    logits = torch.randn(B, C, 3, 4, generator=g, dtype=torch.float64)
    seg = torch.randint(0, C, (B, 3, 4), generator=g)
    seg[0, 0] = 255
    bsizes = _split(B, world, 2)
    for sur in ("square", "exp", "hinge"):
        _check_loss(
            f"AUCSegLoss {sur}",
            lambda x, y, pg, sur=sur: M.AUCSegLoss(
                C, loss_weight=4.0, surrogate=sur, ignore_index=255, process_group=pg
            )(x, y),
            [logits, seg],
            bsizes,
            rank,
            group,
        )
    assert torchauc  # imported for the ops


def _check_module(name, make, inputs, sizes, rank, group, grad_of=(0,), params="same", steps=1, call=None):
    """make(pg) -> module (the same initial state for any pg): for each step, the value and the input
    gradients as in _check_loss; parameter gradients equal the single-process ones on every rank
    (params="same": loss-owned) or summed over the ranks (params="sum": model parameters replicated by
    DDP); afterwards the state (parameters and buffers) equals the single-process module's."""
    call = call or (lambda m, *xs: m(*xs))
    ref_m, dist_m = make(None), make(group)
    for step in range(steps):
        for m in (ref_m, dist_m):
            m.zero_grad(set_to_none=True)
        full = [t.clone().requires_grad_(i in grad_of) for i, t in enumerate(inputs)]
        ref = call(ref_m, *full)
        ref.backward()
        local = [_mine(t, sizes, rank).clone().requires_grad_(i in grad_of) for i, t in enumerate(inputs)]
        got = call(dist_m, *local)
        got.backward()
        what = f"{name} step {step}"
        torch.testing.assert_close(got, ref.detach(), **TOL, msg=lambda m: f"{what} value: {m}")
        for i in grad_of:
            torch.testing.assert_close(
                local[i].grad, _mine(full[i].grad, sizes, rank), **TOL, msg=lambda m: f"{what} grad {i}: {m}"
            )
        for (k, p_ref), p in zip(ref_m.named_parameters(), dist_m.parameters()):
            g = torch.zeros_like(p) if p.grad is None else p.grad.clone()
            if params == "sum":
                dist.all_reduce(g, group=group)
            want = torch.zeros_like(p_ref) if p_ref.grad is None else p_ref.grad
            torch.testing.assert_close(g, want, **TOL, msg=lambda m: f"{what} grad {k}: {m}")
        with torch.no_grad():  # a plain step, so later steps see moved parameters
            for p_ref, p in zip(ref_m.parameters(), dist_m.parameters()):
                if p_ref.grad is not None:
                    p_ref.sub_(0.1 * p_ref.grad)
                    p.sub_(0.1 * p_ref.grad)
    for k, v in ref_m.state_dict().items():
        got = dist_m.state_dict()[k]
        torch.testing.assert_close(got, v, **TOL, msg=lambda m: f"{name} state {k}: {m}")
        every = [torch.empty_like(got) for _ in range(world_of(group))]
        dist.all_gather(every, got.contiguous(), group=group)
        assert all(torch.equal(e, got) for e in every), f"{name} state {k} differs across ranks"


def world_of(group):
    return dist.get_world_size(group)


def _losses_new(rank, world, group):
    """The loss families merged after the first distributed round (issue 14's every-loss bullet)."""
    from torch import nn

    from torchauc import adauc as A
    from torchauc import autkc as K
    from torchauc import openworld as OW
    from torchauc import partial_auc as P
    from torchauc.auprc import ListStableAUPRCLoss
    from torchauc.cml import losses as CL
    from torchauc.cml import models as CM
    from torchauc.compat import libauc as L
    from torchauc.compat import xcurve as XC
    from torchauc.open_auc import OpenAUCLoss
    from torchauc.sod import frames as sod_frames
    from torchauc.sod.loss import SILoss

    g = torch.Generator().manual_seed(17)
    n = 37
    s = torch.randn(n, generator=g, dtype=torch.float64).round(decimals=1)
    p = torch.sigmoid(s)
    y = (torch.rand(n, generator=g) < 0.4).long()
    idx = torch.randperm(n, generator=g)
    sizes = _split(n, world, 5)
    # AdAUC: a, b, alpha (and the multipliers) are loss-owned: the global gradient on every rank
    for form in ("canonical", "xcurve"):
        _check_module(f"AdAUCLoss {form}", lambda pg, form=form: A.AdAUCLoss(form=form, process_group=pg).double(),
                      [p, y], sizes, rank, group)  # fmt: skip
    _check_module("RegAdAUCLoss", lambda pg: A.RegAdAUCLoss(imratio=0.3, process_group=pg).double(), [p, y], sizes,
                  rank, group)  # fmt: skip
    # LibAUC AUC-M family: moments all-reduced, a, b, alpha synchronised over several steps;
    # Compositional alternates CE and AUC-M steps; LibAUC's literal v2 gathers
    for version, semantics in (("v1", "fixed"), ("v2", "fixed"), ("v1", "libauc"), ("v2", "libauc")):
        _check_module(f"AUCMLoss {version} {semantics}", lambda pg, v=version, sem=semantics: L.AUCMLoss(
            version=v, device="cpu", semantics=sem, process_group=pg).double(), [p, y], sizes, rank, group,
            steps=2)  # fmt: skip
    for version in ("v1", "v2"):
        _check_module(f"CompositionalAUCLoss {version}", lambda pg, v=version: L.CompositionalAUCLoss(
            version=v, device="cpu", process_group=pg).double(), [p, y], sizes, rank, group, steps=4)  # fmt: skip
    C = 3
    PM = torch.sigmoid(torch.randn(n, C, generator=g, dtype=torch.float64).round(decimals=1))
    YM = (torch.rand(n, C, generator=g) < 0.4).long()
    YM[:, 2] = 0  # a label without positives
    for version in ("v1", "v2"):
        _check_module(f"MultiLabelAUCMLoss {version}", lambda pg, v=version: L.MultiLabelAUCMLoss(
            version=v, num_labels=C, device="cpu", process_group=pg).double(), [PM, YM], sizes, rank, group,
            steps=2)  # fmt: skip
    # the moments travel in one all_reduce of 6 C + 1 numbers, nothing is gathered
    aucm = L.MultiLabelAUCMLoss(num_labels=C, device="cpu", process_group=group).double()
    _, calls = _collectives(lambda: aucm(_mine(PM, sizes, rank), _mine(YM, sizes, rank)).backward())
    assert calls == {**dict.fromkeys(calls, 0), "all_reduce": 1}, f"MultiLabelAUCMLoss collectives {calls}"
    _xcurve_names(rank, world, group, p, y, sizes, g)
    # index-state drop-ins: the same touched entries updated on every rank
    _check_module("APLoss", lambda pg: L.APLoss(n, device="cpu", process_group=pg), [p, y, idx], sizes, rank,
                  group, steps=2)  # fmt: skip
    _check_module("meanAveragePrecisionLoss", lambda pg: L.meanAveragePrecisionLoss(n, C, top_k=2, device="cpu",
                  process_group=pg), [PM, YM, idx], sizes, rank, group, steps=2)  # fmt: skip
    for mode in ("1w", "2w"):
        make = lambda pg, mode=mode: L.MultiLabelpAUCLoss(  # noqa: E731
            mode, num_labels=C, data_len=n, device="cpu", process_group=pg
        )
        _check_module(f"MultiLabelpAUCLoss {mode}", make, [PM, YM, idx], sizes, rank, group, steps=2)
    # UPAUCI: the global batch's weights c, the same ids and gradient on every rank
    for min_tpr in (None, 0.3):

        def upauci(m, s, y, i):
            loss = m(s, y, i)
            return loss + (m.batch_c * torch.arange(1.0, 1 + m.batch_c.numel()).double()).sum() * 0

        _check_module(f"UPAUCILoss {min_tpr}", lambda pg, t=min_tpr: P.UPAUCILoss(n, 0.4, t, process_group=pg),
                      [p, y, idx], sizes, rank, group, call=upauci)  # fmt: skip
        ref_m, dist_m = P.UPAUCILoss(n, 0.4, min_tpr), P.UPAUCILoss(n, 0.4, min_tpr, process_group=group)
        ref_m(p.clone().requires_grad_(), y, idx).backward()
        dist_m(
            _mine(p, sizes, rank).clone().requires_grad_(), _mine(y, sizes, rank), _mine(idx, sizes, rank)
        ).backward()
        assert torch.equal(dist_m.batch_ids, ref_m.batch_ids), "UPAUCILoss batch_ids"
        torch.testing.assert_close(dist_m.batch_c.grad, ref_m.batch_c.grad, **TOL)
    # top-k losses: per-row terms, a global mean (uneven and empty ranks)
    X = torch.randn(n, 6, generator=g, dtype=torch.float64).round(decimals=1)
    T = torch.randint(0, 6, (n,), generator=g)
    for name, fn in (
        ("autkc_loss square", lambda x, t, pg: K.autkc_loss(x, t, k=2, process_group=pg)),
        ("autkc_loss hinge", lambda x, t, pg: K.autkc_loss(x, t, k=3, surrogate="hinge", process_group=pg)),
        ("ce_topk_loss", lambda x, t, pg: K.ce_topk_loss(x, t, k=2, process_group=pg)),
        ("hinge_topk_loss l3", lambda x, t, pg: K.hinge_topk_loss(x, t, k=2, loss_type="l3", process_group=pg)),
        (
            "StandardAUTKCLoss warm-up",
            lambda x, t, pg: K.StandardAUTKCLoss(K=2, epoch_to_paced=1, process_group=pg)(x, t),
        ),  # fmt: skip
        ("CETopKLoss", lambda x, t, pg: K.CETopKLoss(3, process_group=pg)(x, t)),
        ("HingeTopKLoss l1", lambda x, t, pg: K.HingeTopKLoss(2, process_group=pg)(x, t)),
        ("xcurve StandardAUTKCLoss", lambda x, t, pg: XC.StandardAUTKCLoss("Sq", 2, 0, process_group=pg)(x, t)),
        (
            "GMoP",
            lambda x, t, pg: OW.gmop_loss(
                x, [x[:, [1, 2, 4, 5]] * 2, x[:, [0, 2, 3, 5]], x[:, [0, 1, 3, 4]]], t, x.flip(1), process_group=pg
            ),
        ),  # fmt: skip
    ):
        _check_loss(name, fn, [X, T], sizes, rank, group)
    _check_loss("GMoPLoss", lambda x, t, pg: OW.GMoPLoss(2, process_group=pg)(x, [x[:, [1, 3, 5]], x[:, [0, 2, 4]]],
                t, x), [X, T], sizes, rank, group)  # fmt: skip
    # OpenAUC: the global halves and mix-up pairs; f_post's gradient shared out over the ranks
    Mf = torch.randn(n, 4, generator=g, dtype=torch.float64)
    X2 = X.clone()
    X2[::3, 0] = 5.0  # some correctly classified real samples
    perm, lam = torch.randperm(n // 2, generator=g), 0.3

    def open_auc(pg):
        m = OpenAUCLoss(lambd=0.7, process_group=pg)
        m.head = nn.Linear(4, 6).double()
        with torch.no_grad():
            m.head.weight.copy_(torch.arange(24.0).reshape(6, 4).double().sin())
            m.head.bias.copy_(torch.arange(6.0).double().cos())
        return m

    _check_module("OpenAUCLoss", open_auc, [X2, T, Mf], sizes, rank, group, grad_of=(0, 2), params="sum",
                  call=lambda m, x, t, f: m(x, t, m.head, f, perm=perm, lam=lam))  # fmt: skip
    # ListStable AUPRC: whole identities per rank (some ranks none); v and prior identical everywhere
    ns, nc = 3, 2 * world + 1
    ids = torch.randperm(10, generator=g)[:nc].repeat_interleave(ns)
    F = torch.nn.functional.normalize(torch.randn(nc * ns, 5, generator=g, dtype=torch.float64), dim=1)
    isizes = [ns * k for k in _split(nc, world, 6)]
    _check_module("ListStableAUPRCLoss", lambda pg: ListStableAUPRCLoss(num_sample_per_id=ns, cnt_per_id=[3] * 10,
                  process_group=pg), [F, ids], isizes, rank, group, steps=2)  # fmt: skip
    # SOD SI loss: per-image terms, a global mean; the warm-up loss from all-reduced sums
    B = 2 * world + 1
    pred = torch.sigmoid(torch.randn(B, 2, 12, 12, generator=g, dtype=torch.float64))
    tgt = torch.zeros(B, 12, 12, dtype=torch.float64)
    tgt[:, 2:5, 3:8] = 1
    tgt[1::2, 8:11, 8:11] = 1
    tgt[2] = 0  # an image without frames
    bsizes = _split(B, world, 7)
    for base in ("bce", "dice", "bce+dice"):
        for epoch in (0, 5):
            _check_loss(f"SILoss {base} {epoch}", lambda x, t, pg, base=base, e=epoch: SILoss(
                base, warmup_epochs=3, process_group=pg)(x, t, sod_frames(t, min_area=1), epoch=e),
                [pred, tgt], bsizes, rank, group)  # fmt: skip
    # CML: triplet sums / means, SFCML per-user means; tables are model parameters (summed gradients)
    Kv, d, J = 3, 4, 2
    U = torch.randn(n, Kv, d, generator=g, dtype=torch.float64)
    Pv, Nv = torch.randn(n, d, generator=g, dtype=torch.float64), torch.randn(n, J, d, generator=g, dtype=torch.float64)
    for red in ("sum", "mean"):
        _check_loss(f"triplet_loss {red}", lambda u, a, b, pg, red=red: CL.triplet_loss(
            u, a, b, margin=2.0, reduction=red, process_group=pg), [U, Pv, Nv], sizes, rank, group,
            grad_of=(0, 1, 2))  # fmt: skip
    M, N = 9, 11
    users = torch.randint(0, M, (n,), generator=g)
    pos_i, neg_i = torch.randint(0, N, (n,), generator=g), torch.randint(0, N, (n, J), generator=g)

    def dpcml(pg, dcrs_users):
        torch.manual_seed(0)
        return CM.DPCML(M, N, d, Kv, margin=1.5, reg=0.5, m1=0.5, m2=1.5, dcrs_users=dcrs_users, reduction="mean",
                        process_group=pg).double()  # fmt: skip

    for dcrs_users in ("all", "batch"):
        _check_module(f"DPCML {dcrs_users}", lambda pg, du=dcrs_users: dpcml(pg, du), [users, pos_i, neg_i], sizes,
                      rank, group, grad_of=(), params="sum", steps=2)  # fmt: skip
    indptr = torch.tensor([0, 2, 5, 5, 7, 11, 12, 14, 16, 20])
    indices = torch.tensor([0, 3, 1, 2, 3, 4, 5, 0, 1, 2, 3, 10, 6, 7, 8, 9, 0, 5, 9, 10])

    def sfcml(pg):
        torch.manual_seed(1)
        return CM.SFCML(M, N, d, margin=0.5, process_group=pg).double()

    _check_module("SFCML", sfcml, [users], sizes, rank, group, grad_of=(), params="sum", steps=2,
                  call=lambda m, u: m(u, indptr, indices))  # fmt: skip


def _xcurve_names(rank, world, group, p, y, sizes, g):
    """The XCurve-named losses pass process_group to the loss they wrap: one of each kind."""
    from torchauc.compat import xcurve as XC

    C = 3
    X = torch.randn(p.numel(), C, generator=g, dtype=torch.float64).round(decimals=1)
    T = torch.arange(p.numel()) % C  # every class present

    def ins_relaxed(pg):
        m = XC.InsRelaxedPAUCLoss(0.5, process_group=pg)
        with torch.no_grad():
            m.a.fill_(0.3), m.b.fill_(0.2)
        return m

    for name, make, inputs in (
        ("SquareAUCLoss binary", lambda pg: XC.SquareAUCLoss(2, process_group=pg), [p, y]),
        ("ExpAUCLoss ova", lambda pg: XC.ExpAUCLoss(C, transform="ova", process_group=pg), [X, T]),
        ("HingeAUCLoss ovo", lambda pg: XC.HingeAUCLoss(C, process_group=pg), [X, T]),
        (
            "HingeAUCLoss binary xcurve",
            lambda pg: XC.HingeAUCLoss(2, normalization="xcurve", process_group=pg),
            [p, y],
        ),
        (
            "HingeAUCLoss ovo xcurve",
            lambda pg: XC.HingeAUCLoss(C, normalization="xcurve", process_group=pg),
            [X, T],
        ),
        (
            "HingeAUCLoss ova xcurve",
            lambda pg: XC.HingeAUCLoss(C, transform="ova", normalization="xcurve", process_group=pg),
            [X, T],
        ),
        ("RelaxedPAUCLoss sum", lambda pg: XC.RelaxedPAUCLoss(reduction="sum", process_group=pg), [p, y]),
        ("InsRelaxedPAUCLoss", ins_relaxed, [p, y]),
        ("UnbiasedPAUCLoss", lambda pg: XC.UnbiasedPAUCLoss(0.7, 0.4, process_group=pg).double(), [p, y]),
        ("AdvAUROCLoss", lambda pg: XC.AdvAUROCLoss(0.3, process_group=pg).double(), [p, y]),
        ("RegAdvAUROCLoss", lambda pg: XC.RegAdvAUROCLoss(0.3, process_group=pg).double(), [p, y]),
        ("BaseHingeLoss", lambda pg: XC.BaseHingeLoss(process_group=pg), [X, T]),
    ):
        _check_module(f"xcurve {name}", make, inputs, sizes, rank, group)


def _memory_bank(rank, world, group):
    """Shared banks: after steps on uneven per-rank batches every rank's bank equals one bank that
    stored the concatenated batches (same seed, same draws); the default stays per rank."""
    from torchauc import TMemoryBank

    g = torch.Generator().manual_seed(21)
    kw = dict(num_classes=6, tail_classes=[3, 4, 5], memory_size=2, p_sample=1.0, p_resize=0.5, seed=3)
    bank = TMemoryBank(**kw, process_group=group)
    ref = TMemoryBank(**kw)
    for step in range(3):
        B = 2 * world + 1
        images = torch.randint(0, 256, (B, 3, 12, 10), generator=g, dtype=torch.uint8)
        labels = torch.randint(0, 3, (B, 12, 10), generator=g)
        labels[:, 2:6, 3:7] = torch.randint(3, 6, (B, 1, 1), generator=g)  # one tail object per image
        sizes = _split(B, world, 10 + step)
        mine_i, mine_l = _mine(images, sizes, rank).clone(), _mine(labels, sizes, rank).clone()
        bank(mine_i, mine_l)
        ref.update(images, labels)
        torch.randint(2**62, (1,), generator=ref._generator)  # the draw that seeds the paste streams
    got, want = bank.get_extra_state(), ref.get_extra_state()
    for key in ("sizes", "meta", "pool_img", "pool_mask", "generator"):
        assert torch.equal(got[key], want[key]), f"shared TMemoryBank {key} differs from the global-batch bank"


def _worker(rank, world, init, checks):
    dist.init_process_group("gloo", init_method=init, rank=rank, world_size=world)
    try:
        torch.set_num_threads(1)
        group = dist.group.WORLD
        for check in checks:
            globals()[check](rank, world, group)
    finally:
        dist.destroy_process_group()


def _spawn(world, checks):
    mp.spawn(_worker, args=(world, f"tcp://127.0.0.1:{_free_port()}", checks), nprocs=world, join=True)


def _metrics(rank, world, group):
    import numpy as np
    from sklearn.metrics import roc_auc_score

    from torchauc.auroc import distributed as DA
    from torchauc.auroc import functional as F

    g = torch.Generator().manual_seed(11)
    n = 203
    s = torch.randint(0, 9, (n,), generator=g).double() / 8  # heavy ties, spread over every rank
    s[:5] = torch.tensor([float("inf"), -float("inf"), 0.5, 0.5, 0.5], dtype=torch.float64)
    y = (torch.rand(n, generator=g) < 0.3).long()
    w = torch.rand(n, generator=g, dtype=torch.float64) * 1e3
    sizes = _split(n, world, 3)
    mine = lambda t: _mine(t, sizes, rank)  # noqa: E731
    sk_s = np.nan_to_num(s.numpy(), posinf=1e300, neginf=-1e300)

    def close(got, want, what):
        torch.testing.assert_close(
            torch.as_tensor(got, dtype=torch.float64),
            torch.as_tensor(want, dtype=torch.float64),
            **TOL,
            equal_nan=True,
            msg=lambda m: f"{what}: {m}",
        )

    close(DA.auroc(mine(s), mine(y), process_group=group), roc_auc_score(y.numpy(), sk_s), "binary")
    close(F.auroc(mine(s), mine(y), process_group=group), roc_auc_score(y.numpy(), sk_s), "functional binary")
    close(
        DA.auroc(mine(s), mine(y), sample_weights=mine(w), process_group=group),
        roc_auc_score(y.numpy(), sk_s, sample_weight=w.numpy()),
        "binary weighted",
    )
    # mixed: ranks 0 (and 2) weighted, the others not (count 1 per sample); today's gather deadlocks
    mixed = mine(w) if rank % 2 == 0 else None
    w_mixed = torch.cat([_mine(w, sizes, r) if r % 2 == 0 else torch.ones(sizes[r]).double() for r in range(world)])
    close(
        DA.auroc(mine(s), mine(y), sample_weights=mixed, process_group=group),
        roc_auc_score(y.numpy(), sk_s, sample_weight=w_mixed.numpy()),
        "binary mixed weights",
    )
    # DistributedSampler padding: the first samples repeated at the end (same index, same score)
    idx = torch.arange(n)
    pad = 3
    s_pad, y_pad, i_pad = torch.cat([s, s[:pad]]), torch.cat([y, y[:pad]]), torch.cat([idx, idx[:pad]])
    psizes = _split(n + pad, world, 4)
    close(
        DA.auroc(
            _mine(s_pad, psizes, rank),
            _mine(y_pad, psizes, rank),
            sample_index=_mine(i_pad, psizes, rank),
            process_group=group,
        ),
        roc_auc_score(y.numpy(), sk_s),
        "binary dedup",
    )
    # partial (two-way, counts) vs the single-process metric on the concatenation
    for mf, mt in ((0.3, 0.0), (0.5, 0.4), (1.0, 0.0)):
        for norm in (True, False):
            close(
                DA.partial_auroc(mine(s), mine(y), max_fpr=mf, min_tpr=mt, normalize=norm, process_group=group),
                F.partial_auroc(s, y, max_fpr=mf, min_tpr=mt, normalize=norm),
                f"partial {mf} {mt} {norm}",
            )
    # multilabel
    L = 4
    S = torch.randint(0, 5, (n, L), generator=g).double()
    Y = (torch.rand(n, L, generator=g) < 0.4).long()
    for avg in ("macro", "weighted", "micro", "none", "samples"):
        want = F.multilabel_auroc(S, Y, average=avg, sample_weights=w, on_undefined="nan")
        got = DA.multilabel_auroc(
            mine(S), mine(Y), average=avg, sample_weights=mine(w), process_group=group, on_undefined="nan"
        )
        close(got, want, f"multilabel {avg}")
    close(
        DA.multilabel_auroc(mine(S), mine(Y), average="none", process_group=group),
        roc_auc_score(Y.numpy(), S.numpy(), average=None),
        "multilabel vs sklearn",
    )
    # multiclass: ovo / ova, weights, ignore_index, classes
    C = 4
    P = torch.softmax(torch.randint(0, 4, (n, C), generator=g).double(), 1)
    T = torch.randint(0, C, (n,), generator=g)
    close(
        DA.multiclass_auroc(mine(P), mine(T), mode="ovo", process_group=group),
        roc_auc_score(T.numpy(), P.numpy(), multi_class="ovo"),
        "multiclass ovo sklearn",
    )
    close(
        DA.multiclass_auroc(mine(P), mine(T), mode="ova", sample_weights=mine(w), process_group=group),
        roc_auc_score(T.numpy(), P.numpy(), multi_class="ovr", sample_weight=w.numpy()),
        "ova sklearn",
    )
    T2 = T.clone()
    T2[::5] = -1
    for mode, avg in (("ovo", "weighted"), ("ovo", "none"), ("ova", "micro"), ("ova", "none"), ("ova", "weighted")):
        want = F.multiclass_auroc(
            P,
            T2 + 10,
            mode=mode,
            average=avg,
            ignore_index=9,
            classes=torch.arange(10, 14),
            sample_weights=w if mode == "ova" else None,
        )
        got = DA.multiclass_auroc(
            mine(P),
            mine(T2) + 10,
            mode=mode,
            average=avg,
            ignore_index=9,
            classes=torch.arange(10, 14),
            sample_weights=mine(w) if mode == "ova" else None,
            process_group=group,
        )
        close(got, want, f"multiclass {mode} {avg}")
    # the multi-column paths with mixed weighted / unweighted ranks and with DistributedSampler padding
    close(
        DA.multiclass_auroc(mine(P), mine(T), mode="ova", sample_weights=mixed, process_group=group),
        roc_auc_score(T.numpy(), P.numpy(), multi_class="ovr", sample_weight=w_mixed.numpy()),
        "ova mixed weights",
    )
    close(
        DA.multilabel_auroc(mine(S), mine(Y), average="none", sample_weights=mixed, process_group=group),
        roc_auc_score(Y.numpy(), S.numpy(), average=None, sample_weight=w_mixed.numpy()),
        "multilabel mixed weights",
    )
    padded = [torch.cat([t, t[:pad]]) for t in (P, T, S, Y, idx)]
    P_pad, T_pad, S_pad, Y_pad, i_pad = (_mine(t, psizes, rank) for t in padded)
    close(
        DA.multiclass_auroc(P_pad, T_pad, mode="ovo", sample_index=i_pad, process_group=group),
        roc_auc_score(T.numpy(), P.numpy(), multi_class="ovo"),
        "multiclass ovo dedup",
    )
    close(
        DA.multilabel_auroc(S_pad, Y_pad, average="micro", sample_index=i_pad, process_group=group),
        roc_auc_score(Y.numpy(), S.numpy(), average="micro"),
        "multilabel micro dedup",
    )
    # an invalid input on one rank raises on every rank (no rank left waiting in a collective)
    bs, by = mine(s), mine(y)
    if rank == world - 1:
        bs, by = torch.cat([bs, torch.zeros(1).double()]), torch.cat([by, torch.tensor([2])])
    with pytest.raises(ValueError, match="labels|another rank"):
        DA.auroc(bs, by, process_group=group)
    _modules(rank, world, group, s, y, w, sizes, sk_s, close)


def _modules(rank, world, group, s, y, w, sizes, sk_s, close):
    from sklearn.metrics import roc_auc_score

    from torchauc.auroc import modules as MM

    for sync in ("sort", "gather"):
        m = MM.AUROC(dist_sync_mode=sync)
        mine = _mine(s, sizes, rank)
        half = mine.numel() // 2
        ym, wm = _mine(y, sizes, rank), _mine(w, sizes, rank)
        m.update(mine[:half], ym[:half], sample_weights=wm[:half])
        m.update(mine[half:], ym[half:])  # mixed weighted / unweighted updates
        w_mixed = torch.cat(
            [
                torch.cat([_mine(w, sizes, r)[: sizes[r] // 2], torch.ones(sizes[r] - sizes[r] // 2).double()])
                for r in range(world)
            ]
        )
        close(m.compute(), roc_auc_score(y.numpy(), sk_s, sample_weight=w_mixed.numpy()), f"AUROC module {sync}")
    # pixel AUROC (one-vs-rest per class) over uneven batches per rank, with ignore_index
    g = torch.Generator().manual_seed(5)
    logits = torch.randint(0, 4, (2 * world + 1, 3, 4, 5), generator=g).double()
    seg = torch.randint(0, 3, (2 * world + 1, 4, 5), generator=g)
    seg[0, 0] = 255
    bs = _split(2 * world + 1, world, 6)
    for sync in ("sort", "gather"):
        m = MM.PixelAUROC(ignore_index=255, average="weighted", dist_sync_mode=sync)
        if bs[rank]:
            m.update(_mine(logits, bs, rank), _mine(seg, bs, rank))
        else:
            m.update(logits[:0], seg[:0])
        want = MM.PixelAUROC(ignore_index=255, average="weighted", dist_sync=False)
        want.update(logits, seg)
        close(m.compute(), want.compute(), f"PixelAUROC {sync}")
    m = MM.AUROC(bins=16, score_range=(0.0, 1.0))
    m.update(_mine(s, sizes, rank).clamp(0, 1), _mine(y, sizes, rank))
    ref = MM.AUROC(bins=16, score_range=(0.0, 1.0), dist_sync=False)
    ref.update(s.clamp(0, 1), y)
    got, calls = _collectives(m.compute)
    close(got, ref.compute(), "binned AUROC")
    assert calls == {**dict.fromkeys(calls, 0), "all_reduce": 1}, f"binned AUROC collectives {calls}"
    # weights of a different scale on every rank: still one all_reduce; a rank with weights beyond
    # 2^960 sets the flag and every rank takes the rescaling round (same value)
    for what, scale, reduces in (
        ("scaled", lambda r: 10.0 ** (3 * r), 1),
        ("extreme", lambda r: 1e300 if r == 0 else 1.0, 3),
    ):
        wb = torch.cat([_mine(w, sizes, r) * scale(r) for r in range(world)])
        m = MM.AUROC(bins=16, score_range=(0.0, 1.0))
        m.update(_mine(s, sizes, rank).clamp(0, 1), _mine(y, sizes, rank), sample_weights=_mine(wb, sizes, rank))
        ref = MM.AUROC(bins=16, score_range=(0.0, 1.0), dist_sync=False)
        ref.update(s.clamp(0, 1), y, sample_weights=wb)
        got, calls = _collectives(m.compute)
        close(got, ref.compute(), f"binned AUROC {what} weights")
        assert calls == {**dict.fromkeys(calls, 0), "all_reduce": reduces}, f"binned AUROC {what}: {calls}"
        close(m.error_bound(), ref.error_bound(), f"binned AUROC {what} error bound")


def _collectives(fn):
    """fn()'s value and how many collectives of each kind it ran (torch.distributed's functions
    wrapped for the call; the library looks them up at call time)."""
    saved = {k: getattr(dist, k) for k in ("all_reduce", "all_gather", "all_to_all_single", "broadcast")}
    calls = dict.fromkeys(saved, 0)

    def counting(name):
        def call(*args, **kwargs):
            calls[name] += 1
            return saved[name](*args, **kwargs)

        return call

    try:
        for k in saved:
            setattr(dist, k, counting(k))
        return fn(), calls
    finally:
        for k, v in saved.items():
            setattr(dist, k, v)


@pytest.mark.parametrize("world", [2, 4])
def test_distributed(world):
    """Every loss, every distributed metric and the shared memory bank, in one spawn per world size."""
    _spawn(world, ["_losses", "_losses_new", "_metrics", "_memory_bank"])


def test_ddp_example_runs_with_torchrun():
    import pathlib
    import subprocess
    import sys

    script = pathlib.Path(__file__).resolve().parents[1] / "examples" / "ddp_training.py"
    cmd = [sys.executable, "-m", "torch.distributed.run", "--standalone", "--nproc_per_node=2", str(script),
           "--samples", "512", "--epochs", "1"]  # fmt: skip
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert "test AUROC" in proc.stdout


def test_process_group_without_init_is_an_error():
    import torchauc
    from torchauc.compat import xcurve

    s, y = torch.randn(8), torch.arange(8) % 2
    with pytest.raises(ValueError, match="process_group"):
        torchauc.pairwise.pairwise_auc_loss(s, y, process_group=object())
    with pytest.raises(ValueError, match="process_group"):
        torchauc.multiclass.MultiClassAUCLoss(2, process_group=object())(torch.rand(8, 2), y)
    with pytest.raises(ValueError, match="process_group"):
        torchauc.autkc.autkc_loss(torch.rand(8, 3), y, k=1, process_group=object())
    with pytest.raises(ValueError, match="process_group"):
        xcurve.HingeTopKLoss(1, "l1", xcurve_broadcast=True, process_group=object())
