"""One training step of every loss, through the public API: the inputs are made first (with any
setup that may synchronise, e.g. SOD's frames, which are computed once per image with the data),
then `step()` runs forward and backward, the part that must not wait for the GPU. Used by
test_host_syncs.py: in the simulation with the loss ops routed to the simulated CUDA kernels and
the host syncs recorded, on a GPU (benchmarks/gpu.sh) under torch.cuda.set_sync_debug_mode("error")."""

import torch

import torchauc.functional as F
from torchauc.cml.losses import triplet_loss
from torchauc.compat import libauc
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
}


def prepare(name, device):
    """(step, leaves): step() runs the loss forward and backward; leaves get the gradients."""
    loss, leaves = STEPS[name](torch.Generator().manual_seed(0), device)

    def step():
        loss().backward()

    return step, leaves
