"""One training step of every loss, through the public API: the inputs are made first (with any
setup that may synchronise, e.g. SOD's frames, which are computed once per image with the data),
then `step()` runs forward and backward, the part that must not wait for the GPU. Used by
test_host_syncs.py: in the simulation with the loss ops routed to the simulated CUDA kernels and
the host syncs recorded, on a GPU (benchmarks/gpu.sh) under torch.cuda.set_sync_debug_mode("error")."""

import torch

import torchauc.functional as F
from torchauc import TMemoryBank
from torchauc import losses as L
from torchauc.cml.losses import triplet_loss
from torchauc.compat import libauc
from torchauc.compat import xcurve as xc
from torchauc.sod import frames as sod_frames
from torchauc.sod.loss import si_loss


def _binary(g, n, device):
    s = torch.randn(n, generator=g).to(device).requires_grad_()
    y = (torch.rand(n, generator=g) < 0.3).long().to(device)
    return s, y


def pairwise(surrogate):
    def make(g, device):
        s, y = _binary(g, 300, device)
        w = torch.rand(300, generator=g).to(device).requires_grad_()
        return lambda: F.pairwise_auc_loss(s, y, surrogate=surrogate, pos_weights=w, neg_weights=w), [s, w]

    return make


def partial_auc(g, device):
    s, y = _binary(g, 300, device)
    return lambda: F.partial_auc_loss(s, y, max_fpr=0.3, min_tpr=0.2, surrogate="square"), [s]


def upauci(g, device):
    s, y = _binary(g, 300, device)
    s = torch.sigmoid(s.detach()).requires_grad_()
    w = torch.rand(300, generator=g).to(device).requires_grad_()
    p = torch.rand(7, generator=g, dtype=torch.float64).to(device).requires_grad_()
    return lambda: F.upauci_loss(s, y, w, p, max_fpr=0.3, min_tpr=0.2), [s, w, p]


def libauc_pauc(cls, per_positive=False):  # the LibAUC pAUC drop-ins: a training step updates their state
    def make(g, device):
        s, y = _binary(g, 300, device)
        s = torch.sigmoid(s.detach()).requires_grad_()
        index = torch.randperm(300, generator=g)
        if per_positive:  # one dataset index per positive (sized with the data, on the host)
            index = index[: int(y.sum())]
        loss = cls(data_len=300, device=device)
        index = index.to(device)
        return lambda: loss(s, y, index), [s]

    return make


def libauc_multilabel_pauc(mode, semantics="fixed", task_id=()):
    def make(g, device):
        x = torch.rand(64, 5, generator=g)
        y = (torch.rand(64, 5, generator=g) < 0.3).float()
        y[:, 3] = 1  # a label without negatives: skipped
        x, y = x.to(device).requires_grad_(), y.to(device)
        index = torch.randperm(200, generator=g)[:64].to(device)
        loss = libauc.MultiLabelpAUCLoss(mode=mode, num_labels=5, data_len=200, device=device, semantics=semantics)
        tasks = torch.tensor(task_id, dtype=torch.long, device=device) if task_id else ()  # on the device
        return lambda: loss(x, y, index, tasks), [x]

    return make


def libauc_ap(surr_loss, margin=1.0, per_positive=False):
    """APLoss, 300 samples: the sort + scan for the polynomial surrogates, the tiled kernel for the logistic."""

    def make(g, device):
        s, y = _binary(g, 300, device)
        index = torch.randperm(400, generator=g)[:300]
        if per_positive:  # one dataset index per positive (sized with the data, on the host)
            index = index[: int(y.sum())]
        loss = libauc.APLoss(data_len=400, margin=margin, surr_loss=surr_loss, device=device)
        index = index.to(device)
        return lambda: loss(s, y, index), [s]

    return make


def libauc_map(surr_loss, margin=1.0, top_k=-1, task_id=()):
    """mAPLoss, 100 samples x 4 labels (one without positives), tasks on the device."""

    def make(g, device):
        x = torch.rand(100, 4, generator=g)
        y = (torch.rand(100, 4, generator=g) < 0.3).float()
        y[:, 2] = 0
        x, y = x.to(device).requires_grad_(), y.to(device)
        index = torch.randperm(250, generator=g)[:100].to(device)
        loss = libauc.mAPLoss(250, 4, margin=margin, top_k=top_k, surr_loss=surr_loss, device=device)
        tasks = torch.tensor(task_id, dtype=torch.long, device=device) if task_id else ()
        return lambda: loss(x, y, index, tasks), [x]

    return make


def multiclass(surrogate):
    def make(g, device):
        s = torch.randn(200, 5, generator=g).to(device).requires_grad_()
        y = torch.randint(0, 5, (200,), generator=g).to(device)
        return lambda: F.multiclass_auc_loss(s, y, surrogate=surrogate), [s]

    return make


def pixel(g, device):  # the AUCSeg loss
    x = torch.randn(2, 4, 9, 11, generator=g).to(device).requires_grad_()
    y = torch.randint(0, 4, (2, 9, 11), generator=g)
    y[0, :2] = 255
    y = y.to(device)
    return lambda: F.pixel_auc_loss(x, y, ignore_index=255), [x]


def adauc(g, device):
    s, y = _binary(g, 300, device)
    a, b, alpha = (torch.rand((), generator=g, dtype=torch.float64).to(device).requires_grad_() for _ in range(3))
    return lambda: F.adauc_loss(s, y, a, b, alpha, imratio=0.3), [s, a, b, alpha]


def libauc_aucm(version="v1", semantics="fixed", task_id=()):
    def make(g, device):
        from torchauc.compat.libauc import MultiLabelAUCMLoss

        x = torch.rand(64, 4, generator=g).to(device).requires_grad_()
        y = (torch.rand(64, 4, generator=g) < 0.3).float().to(device)
        loss = MultiLabelAUCMLoss(num_labels=4, device=device, version=version, semantics=semantics)
        tasks = torch.tensor(task_id, dtype=torch.long, device=device) if task_id else ()  # on the device
        return lambda: loss(x, y, tasks), [x, loss.a, loss.alpha]

    return make


def autkc(g, device):
    x = torch.randn(40, 10, generator=g).to(device).requires_grad_()
    y = torch.randint(0, 10, (40,), generator=g).to(device)
    return lambda: F.autkc_loss(x, y, k=3), [x]


def sod(g, device):
    masks = (torch.rand(2, 24, 24, generator=g) < 0.3).to(device)
    fr = sod_frames(masks, min_area=2)  # with the data (one host sync sizes the boxes)
    pred = torch.randn(2, 1, 24, 24, generator=g).to(device).requires_grad_()
    return lambda: si_loss(pred, masks.float(), fr), [pred]


def cml_triplet(g, device):
    users = torch.randn(30, 3, 8, generator=g).to(device).requires_grad_()
    items = torch.randn(50, 8, generator=g).to(device).requires_grad_()
    ui = torch.randint(0, 30, (64,), generator=g).to(device)
    pi = torch.randint(0, 50, (64,), generator=g).to(device)
    ni = torch.randint(0, 50, (64, 4), generator=g).to(device)
    return lambda: triplet_loss(users, items, items, users_idx=ui, pos_idx=pi, neg_idx=ni), [users, items]


# ------------------------------------------------------------------ the public loss modules
# Each module with its default options, plus the options that take another code path. Their
# `process_group` paths are left out: those synchronise by design (all-reduced label checks).


def _probs(g, n, device):
    s, y = _binary(g, n, device)
    return torch.sigmoid(s.detach()).requires_grad_(), y


def _trained(loss):
    """The module's parameters that a step gives a gradient (one-way PAUCI has no s_p, lam_a terms)."""
    unused = ("s_p", "lam_a") if isinstance(loss, L.PAUCILoss) and not loss.two_way else ()
    return [p for n, p in loss.named_parameters() if p.requires_grad and n not in unused]


def binary_module(factory, probs=False, epoch=None):
    """A binary loss module on 300 scores (sigmoid probabilities where `probs`); `epoch` is passed
    to the losses with a warm-up."""

    def make(g, device):
        s, y = (_probs if probs else _binary)(g, 300, device)
        loss = factory(device)
        kw = {} if epoch is None else {"epoch": epoch}
        return lambda: loss(s, y, **kw), [s, *_trained(loss)]

    return make


def compositional(auc_phase):
    """CompositionalAUCLoss (k=1): the warm-up step takes the other phase, the recorded one `auc_phase`."""

    def make(g, device):
        s, y = _probs(g, 300, device)
        loss = L.CompositionalAUCLoss(device=device)
        if not auc_phase:
            loss.step.fill_(1)  # warm-up: an AUC step (step 1), recorded: a cross-entropy step (step 2)
        return lambda: loss(s, y), [s]

    return make


def upauci_module(min_tpr):
    def make(g, device):
        s, y = _probs(g, 300, device)
        loss = L.UPAUCILoss(500, 0.3, min_tpr).to(device)
        ids = torch.randperm(500, generator=g)[:300].to(device)
        return lambda: loss(s, y, ids), [s, *_trained(loss)]

    return make


def multiclass_module(factory, n=200, classes=5):
    def make(g, device):
        s = torch.rand(n, classes, generator=g).to(device).requires_grad_()
        y = torch.randint(0, classes, (n,), generator=g).to(device)
        loss = factory()
        return lambda: loss(s, y), [s]

    return make


def topk_module(factory, **kw):
    """A top-k loss on (40, 10) logits."""

    def make(g, device):
        x = torch.randn(40, 10, generator=g).to(device).requires_grad_()
        y = torch.randint(0, 10, (40,), generator=g).to(device)
        loss = factory()
        return lambda: loss(x, y, **kw), [x]

    return make


def aucseg_memory_bank(g, device):
    """AUCSegLoss on a batch augmented by the T-Memory Bank (with the data: the bank reads its tail
    classes' table on the host once per call), then the loss step."""
    images = torch.rand(2, 3, 12, 10, generator=g).to(device)
    labels = torch.randint(0, 4, (2, 12, 10), generator=g)
    labels[1, :3] = 255
    labels = labels.to(device)
    bank = TMemoryBank(4, [2, 3], memory_size=2, p_resize=0.5, ignore_index=255, seed=0)
    bank(images, labels)
    logits = torch.randn(2, 4, 12, 10, generator=g).to(device).requires_grad_()
    loss = L.AUCSegLoss(4, ignore_index=255, loss_weight=4.0)
    return lambda: loss(logits, labels), [logits]


def gmop(g, device):
    B, C, K = 48, 9, 3
    logits = torch.randn(B, C, generator=g).to(device).requires_grad_()
    dets = [torch.randn(B, C - len(range(k, C, K)), generator=g).to(device).requires_grad_() for k in range(K)]
    y = torch.randint(0, C, (B,), generator=g).to(device)
    clip = torch.randn(B, C, generator=g).to(device)
    loss = L.GMoPLoss(K)
    return lambda: loss(logits, dets, y, clip), [logits, *dets]


def auprc(factory, ns=4, nc=4):
    """ListStableAUPRCLoss: nc identities x ns samples (ns - 1 > 8 positives: the sorted form)."""

    def make(g, device):
        feats = torch.nn.functional.normalize(torch.randn(nc * ns, 8, generator=g), dim=1)
        feats = feats.to(device).requires_grad_()
        ids = torch.randperm(10, generator=g)[:nc].repeat_interleave(ns).to(device)
        loss = factory(num_sample_per_id=ns).to(device)
        loss.update_cnt_per_id(torch.arange(1, 11))
        return lambda: loss(feats, ids), [feats]

    return make


def open_auc(xcurve=False, given_draws=False):
    """OpenAUCLoss (or XCurve's StandardOpenAUCLoss) on 16 samples of a linear head: the draws of the
    loss's CPU generator (a host computation) or given."""

    def make(g, device):
        head = torch.nn.Linear(8, 5).to(device)
        manifolds = torch.randn(16, 8, generator=g).to(device).requires_grad_()
        y = torch.randint(0, 5, (16,), generator=g).to(device)
        gen = torch.Generator().manual_seed(1)
        if xcurve:
            loss = xc.StandardOpenAUCLoss(xc.Softmax(temp=1.0, label_smoothing=0.1), 1.0, 0.1, generator=gen)
        else:
            loss = L.OpenAUCLoss(generator=gen)
        kw = dict(perm=torch.randperm(8, generator=g).to(device), lam=0.3) if given_draws else {}

        def step():
            out = loss(head(manifolds), y, head, manifolds, **kw)
            return out[1] if xcurve else out

        return step, [manifolds, head.weight]

    return make


STEPS = {
    **{f"pairwise-{s}": pairwise(s) for s in ["square", "exp", "hinge", "squared_hinge", "logistic", "sigmoid"]},
    "partial_auc": partial_auc,
    "upauci": upauci,
    "libauc-pAUC_CVaR": libauc_pauc(libauc.pAUC_CVaR_Loss),
    "libauc-pAUC_CVaR-per_positive": libauc_pauc(libauc.pAUC_CVaR_Loss, per_positive=True),
    "libauc-pAUC_DRO": libauc_pauc(libauc.pAUC_DRO_Loss),
    "libauc-pAUC_DRO-per_positive": libauc_pauc(libauc.pAUC_DRO_Loss, per_positive=True),
    "libauc-tpAUC_KL": libauc_pauc(libauc.tpAUC_KL_Loss),
    "libauc-tpAUC_KL-per_positive": libauc_pauc(libauc.tpAUC_KL_Loss, per_positive=True),
    "libauc-multilabel_pAUC-1w": libauc_multilabel_pauc("1w"),
    "libauc-multilabel_pAUC-2w": libauc_multilabel_pauc("2w"),
    "libauc-multilabel_pAUC-2w-libauc": libauc_multilabel_pauc("2w", semantics="libauc"),
    "libauc-multilabel_pAUC-SOPA": libauc_multilabel_pauc("SOPA"),
    "libauc-multilabel_pAUC-2w-libauc-task_id": libauc_multilabel_pauc("2w", "libauc", task_id=(4, 0, 3, 0)),
    "libauc-multilabel_pAUC-SOPA-task_id": libauc_multilabel_pauc("SOPA", task_id=(2, 3)),
    "libauc-AP-squared_hinge": libauc_ap("squared_hinge"),
    "libauc-AP-barrier_hinge-per_positive": libauc_ap("barrier_hinge", (1.0, 2.0), per_positive=True),
    "libauc-AP-logistic": libauc_ap("logistic"),
    "libauc-mAP-squared_hinge-top_k-task_id": libauc_map("squared_hinge", top_k=5, task_id=(3, 0, 2)),
    "libauc-mAP-logistic": libauc_map("logistic"),
    **{f"multiclass-{s}": multiclass(s) for s in ["square", "exp", "hinge"]},
    "aucseg_pixel": pixel,
    "adauc": adauc,
    "libauc_aucm": libauc_aucm(),
    "libauc_aucm-task_id": libauc_aucm(task_id=(3, 0, 3)),
    "libauc_aucm-v2-libauc-task_id": libauc_aucm("v2", "libauc", task_id=(2, 1)),
    "autkc": autkc,
    "sod_si": sod,
    "cml_triplet": cml_triplet,
    # the public loss modules
    "AUCLoss": binary_module(lambda d: L.AUCLoss()),
    "AUCLoss-logistic": binary_module(lambda d: L.AUCLoss("logistic")),
    "AdAUCLoss": binary_module(lambda d: L.AdAUCLoss().to(d), probs=True),
    "RegAdAUCLoss": binary_module(lambda d: L.RegAdAUCLoss(0.3).to(d), probs=True),
    "AUCMLoss": binary_module(lambda d: L.AUCMLoss(device=d), probs=True),
    "AUCMLoss-imratio": binary_module(lambda d: L.AUCMLoss(imratio=0.3, device=d), probs=True),
    "AUCMLoss-v2": binary_module(lambda d: L.AUCMLoss(version="v2", device=d), probs=True),
    "AUCMLoss-v2-libauc": binary_module(lambda d: L.AUCMLoss(version="v2", device=d, semantics="libauc"), probs=True),
    "CompositionalAUCLoss-auc": compositional(True),
    "CompositionalAUCLoss-ce": compositional(False),
    "PartialAUCLoss": binary_module(lambda d: L.PartialAUCLoss(0.3)),
    "PartialAUCLoss-two_way-hinge": binary_module(lambda d: L.PartialAUCLoss(0.3, min_tpr=0.2, surrogate="hinge")),
    "RelaxedTPAUCLoss": binary_module(lambda d: L.RelaxedTPAUCLoss(), probs=True),
    "RelaxedTPAUCLoss-OP-exp": binary_module(lambda d: L.RelaxedTPAUCLoss("exp", auc_type="OP"), probs=True),
    "RelaxedTPAUCLoss-warmup": binary_module(lambda d: L.RelaxedTPAUCLoss(warmup_epochs=2), probs=True, epoch=0),
    "InsRelaxedPAUCLoss": binary_module(lambda d: L.InsRelaxedPAUCLoss().to(d), probs=True),
    "InsRelaxedPAUCLoss-TP-poly": binary_module(
        lambda d: L.InsRelaxedPAUCLoss(weight="poly", auc_type="TP", reg_a=0.1, reg_b=0.1).to(d), probs=True
    ),
    "PAUCILoss": binary_module(lambda d: L.PAUCILoss(0.3).to(d), probs=True),
    "PAUCILoss-two_way": binary_module(lambda d: L.PAUCILoss(0.3, min_tpr=0.2).to(d), probs=True),
    "UPAUCILoss": upauci_module(None),
    "UPAUCILoss-two_way": upauci_module(0.2),
    "MultiClassAUCLoss": multiclass_module(lambda: L.MultiClassAUCLoss(5)),
    "MultiClassAUCLoss-hinge-ova": multiclass_module(lambda: L.MultiClassAUCLoss(surrogate="hinge", mode="ova")),
    "AUCSegLoss-memory_bank": aucseg_memory_bank,
    "StandardAUTKCLoss": topk_module(lambda: L.StandardAUTKCLoss(K=3)),
    "StandardAUTKCLoss-warmup": topk_module(lambda: L.StandardAUTKCLoss(K=3, epoch_to_paced=2), epoch=0),
    "CETopKLoss": topk_module(lambda: L.CETopKLoss(3)),
    **{f"HingeTopKLoss-{t}": topk_module(lambda t=t: L.HingeTopKLoss(3, t)) for t in ["l1", "l2", "l3", "l4", "l5"]},
    "HingeTopKLoss-l1-zero": topk_module(lambda: L.HingeTopKLoss(3, "l1", label="zero")),
    "GMoPLoss": gmop,
    "ListStableAUPRCLoss": auprc(L.ListStableAUPRCLoss),
    "ListStableAUPRCLoss-sorted": auprc(L.ListStableAUPRCLoss, ns=10, nc=3),
    "OpenAUCLoss": open_auc(),
    "OpenAUCLoss-given_draws": open_auc(given_draws=True),
    # XCurve's drop-ins
    "xcurve-AdvAUROCLoss": binary_module(lambda d: xc.AdvAUROCLoss(form="xcurve").to(d), probs=True),
    "xcurve-RegAdvAUROCLoss": binary_module(lambda d: xc.RegAdvAUROCLoss(0.3).to(d), probs=True),
    **{
        f"xcurve-{cls.__name__}-binary": binary_module(lambda d, cls=cls: cls(2))
        for cls in (xc.SquareAUCLoss, xc.ExpAUCLoss, xc.HingeAUCLoss)
    },
    **{
        f"xcurve-{cls.__name__}-multiclass": multiclass_module(lambda cls=cls: cls(5))
        for cls in (xc.SquareAUCLoss, xc.ExpAUCLoss, xc.HingeAUCLoss)
    },
    "xcurve-HingeAUCLoss-multiclass-xcurve": multiclass_module(lambda: xc.HingeAUCLoss(5, normalization="xcurve")),
    "xcurve-HingeAUCLoss-binary-xcurve": binary_module(lambda d: xc.HingeAUCLoss(2, normalization="xcurve")),
    "xcurve-RelaxedPAUCLoss": binary_module(lambda d: xc.RelaxedPAUCLoss(), probs=True),
    "xcurve-RelaxedPAUCLoss-sum": binary_module(
        lambda d: xc.RelaxedPAUCLoss(reduction="sum", AUC_type="TP"), probs=True
    ),
    "xcurve-InsRelaxedPAUCLoss": binary_module(lambda d: xc.InsRelaxedPAUCLoss().to(d), probs=True),
    "xcurve-UnbiasedPAUCLoss": binary_module(lambda d: xc.UnbiasedPAUCLoss(0.8, 0.3, d), probs=True),
    "xcurve-StandardAUTKCLoss": topk_module(lambda: xc.StandardAUTKCLoss("Sq", 3, 0, terms="xcurve")),
    "xcurve-HingeTopKLoss-l4-broadcast": topk_module(
        lambda: xc.HingeTopKLoss(3, "l4", label="zero", xcurve_broadcast=True)
    ),
    "xcurve-BaseHingeLoss": topk_module(xc.BaseHingeLoss),
    "xcurve-ListStableAUPRC": auprc(xc.ListStableAUPRC),
    "xcurve-StandardOpenAUCLoss": open_auc(xcurve=True),
}


def prepare(name, device):
    """(step, leaves): step() runs the loss forward and backward; leaves get the gradients."""
    loss, leaves = STEPS[name](torch.Generator().manual_seed(0), device)

    def step():
        loss().backward()

    return step, leaves
