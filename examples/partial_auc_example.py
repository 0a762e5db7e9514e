"""Train a small classifier on an imbalanced generated dataset with BCE vs partial AUC losses and report
the held-out one-way (FPR <= 0.3) and two-way (FPR <= 0.3, TPR >= 0.7) partial AUROC of each.

As in the papers (SOPA/SOTA, TPAUC), every AUC loss starts from a BCE warm-up: partial AUC losses look
only at the hardest pairs, which are meaningless for a random network. The warm-up is trained once;
then BCE keeps training (the baseline) and each AUC loss fine-tunes a copy for the same number of steps.
PAUCI and its exactly unbiased form UPAUCI (per-sample weights c indexed by the sample ids) train with
their minimax optimizer ASGDA (two gradients per step); the other losses with Adam.

    .venv/bin/python examples/partial_auc_example.py       (under a minute on 2 CPU cores)
"""

import copy

import torch
from sklearn.datasets import make_classification
from sklearn.metrics import roc_auc_score
from sklearn.model_selection import train_test_split

import torchauc
from torchauc import libauc_compat, losses
from torchauc.optim import ASGDA

MAX_FPR, MIN_TPR = 0.3, 0.7


def tpauc(y, s, max_fpr=MAX_FPR, min_tpr=MIN_TPR):
    """Normalised two-way pAUC: AUROC on the selected hard positives x hard negatives."""
    mask = torchauc.functional.partial_auc_select(
        torch.as_tensor(s), torch.as_tensor(y), max_fpr=max_fpr, min_tpr=min_tpr
    ).numpy()
    return roc_auc_score(y[mask], s[mask])


def make_loss(kind, n):
    return {
        "bce": torch.nn.BCEWithLogitsLoss(),
        "opauc top-k": losses.PartialAUCLoss(max_fpr=MAX_FPR, surrogate="squared_hinge"),
        "tpauc top-k": losses.PartialAUCLoss(max_fpr=MAX_FPR, min_tpr=MIN_TPR, surrogate="squared_hinge"),
        "relaxed tpauc": losses.RelaxedTPAUCLoss("poly", gamma=0.5, margin=0.5, auc_type="TP"),
        "sopa-s (libauc drop-in)": libauc_compat.pAUC_DRO_Loss(data_len=n, Lambda=1.0, device="cpu"),
        "sota-s (libauc drop-in)": libauc_compat.tpAUC_KL_Loss(data_len=n, Lambda=1.0, tau=1.0, device="cpu"),
    }[kind]


def fit(model, kind, Xtr, ytr, epochs, lr, batch, seed):
    torch.manual_seed(seed)
    n = len(ytr)
    loss_fn = make_loss(kind, n)
    opt = torch.optim.Adam(model.parameters(), lr=lr, weight_decay=1e-4)
    for _ in range(epochs):
        perm = torch.randperm(n)
        for b in range(0, n, batch):
            idx = perm[b : b + batch]
            logit = model(Xtr[idx]).reshape(-1)
            if kind == "bce":
                loss = loss_fn(logit, ytr[idx].float())
            elif "libauc" in kind:
                loss = loss_fn(torch.sigmoid(logit), ytr[idx], idx)
            else:
                loss = loss_fn(torch.sigmoid(logit), ytr[idx])
            opt.zero_grad()
            loss.backward()
            opt.step()
    return model


def fit_asgda(model, kind, Xtr, ytr, epochs, batch, seed):
    """PAUCI / UPAUCI with ASGDA: descent on the model and the min scalars, ascent on gamma (and c)."""
    torch.manual_seed(seed)
    n = len(ytr)
    min_tpr = MIN_TPR if kind.startswith("tp") else None
    if "upauci" in kind:
        loss_fn = losses.UPAUCILoss(n, MAX_FPR, min_tpr=min_tpr, omega=0.1)
        extra = dict(instance_weights=loss_fn, lam=0.1)
    else:
        loss_fn = losses.PAUCILoss(MAX_FPR, min_tpr=min_tpr or 0.0)
        extra = {}
    groups = [dict(params=model.parameters(), name="net")] + loss_fn.asgda_groups()
    opt = ASGDA(groups, nu=0.1, k=1.0, m=100.0, weight_decay=1e-5, **extra)
    for _ in range(epochs):
        perm = torch.randperm(n)
        for b in range(0, n, batch):
            idx = perm[b : b + batch]
            for pre in (True, False):  # the STORM estimator needs two gradients on the same batch
                s = torch.sigmoid(model(Xtr[idx])).reshape(-1)
                loss = loss_fn(s, ytr[idx], idx) if "upauci" in kind else loss_fn(s, ytr[idx])
                opt.zero_grad()
                loss.backward()
                opt.step(pre=pre)
    return model


def main():
    X, y = make_classification(
        n_samples=12000, n_features=20, n_informative=6, weights=[0.95, 0.05], flip_y=0.0, class_sep=0.8, random_state=0
    )
    Xtr, Xte, ytr, yte = train_test_split(X, y, test_size=0.4, stratify=y, random_state=0)
    Xtr, Xte = torch.tensor(Xtr, dtype=torch.float32), torch.tensor(Xte, dtype=torch.float32)
    ytr = torch.tensor(ytr)
    print(f"train {len(ytr)} ({int(ytr.sum())} positives), test {len(yte)} ({int(yte.sum())} positives)")
    torch.manual_seed(0)
    net = torch.nn.Sequential(torch.nn.Linear(Xtr.shape[1], 32), torch.nn.ReLU(), torch.nn.Linear(32, 1))
    warm = fit(net, "bce", Xtr, ytr, epochs=8, lr=1e-2, batch=256, seed=0)  # shared BCE warm-up
    print(f"{'loss (after BCE warm-up)':26s} {'AUROC':>7s} {'OPAUC(0.3)':>11s} {'TPAUC(0.3,0.7)':>15s}")
    for kind in (
        "bce",
        "opauc top-k",
        "tpauc top-k",
        "relaxed tpauc",
        "sopa-s (libauc drop-in)",
        "sota-s (libauc drop-in)",
        "opauc pauci (asgda)",
        "opauc upauci (asgda)",
        "tpauc pauci (asgda)",
        "tpauc upauci (asgda)",
    ):
        if "asgda" in kind:
            model = fit_asgda(copy.deepcopy(warm), kind, Xtr, ytr, epochs=10, batch=512, seed=1)
        else:
            model = fit(copy.deepcopy(warm), kind, Xtr, ytr, epochs=10, lr=1e-3, batch=512, seed=1)
        with torch.no_grad():
            s = model(Xte).reshape(-1).numpy()
        # OPAUC: sklearn's McClish-standardised partial AUROC; TPAUC: normalised on the hard subset
        print(
            f"{kind:26s} {roc_auc_score(yte, s):7.4f} {roc_auc_score(yte, s, max_fpr=MAX_FPR):11.4f} "
            f"{tpauc(yte, s):15.4f}"
        )


if __name__ == "__main__":
    main()
