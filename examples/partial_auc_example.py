"""Train a small classifier on an imbalanced generated dataset with BCE vs partial AUC losses and report
the held-out one-way (FPR <= 0.3) and two-way (FPR <= 0.3, TPR >= 0.7) partial AUROC of each.

    .venv/bin/python examples/partial_auc_example.py       (about 10-30 s on 2 CPU cores)
"""
import torch
from sklearn.datasets import make_classification
from sklearn.metrics import roc_auc_score
from sklearn.model_selection import train_test_split

import torchauc
from torchauc import libauc_compat, losses


def tpauc(y, s, max_fpr=0.3, min_tpr=0.7):
    """Normalised two-way pAUC: AUROC on the selected hard positives x hard negatives."""
    mask = torchauc.functional.partial_auc_select(torch.as_tensor(s), torch.as_tensor(y), max_fpr, min_tpr)
    return roc_auc_score(y[mask.numpy()], s[mask.numpy()])


def train(kind, Xtr, ytr, epochs=30, seed=0):
    torch.manual_seed(seed)
    model = torch.nn.Sequential(torch.nn.Linear(Xtr.shape[1], 32), torch.nn.ReLU(), torch.nn.Linear(32, 1))
    opt = torch.optim.Adam(model.parameters(), lr=1e-2, weight_decay=1e-4)
    n = len(ytr)
    loss_fn = {
        "bce": torch.nn.BCEWithLogitsLoss(),
        "opauc top-k": losses.PartialAUCLoss(max_fpr=0.3, surrogate="squared_hinge"),
        "tpauc top-k": losses.PartialAUCLoss(max_fpr=0.3, min_tpr=0.7, surrogate="squared_hinge"),
        "relaxed tpauc": losses.RelaxedTPAUCLoss("poly", gamma=0.5, auc_type="TP"),
        "sopa-s (libauc drop-in)": libauc_compat.pAUC_DRO_Loss(data_len=n, Lambda=1.0, device="cpu"),
    }[kind]
    for _ in range(epochs):
        perm = torch.randperm(n)
        for b in range(0, n, 256):
            idx = perm[b:b + 256]
            logit = model(Xtr[idx]).reshape(-1)
            if kind == "bce":
                loss = loss_fn(logit, ytr[idx].float())
            elif kind.startswith("sopa"):
                loss = loss_fn(torch.sigmoid(logit), ytr[idx], idx)
            else:
                loss = loss_fn(torch.sigmoid(logit), ytr[idx])
            opt.zero_grad()
            loss.backward()
            opt.step()
    return model


def main():
    X, y = make_classification(n_samples=12000, n_features=20, n_informative=6, weights=[0.95, 0.05], flip_y=0.02,
                               class_sep=0.8, random_state=0)
    Xtr, Xte, ytr, yte = train_test_split(X, y, test_size=0.4, stratify=y, random_state=0)
    Xtr, Xte = torch.tensor(Xtr, dtype=torch.float32), torch.tensor(Xte, dtype=torch.float32)
    ytr = torch.tensor(ytr)
    print(f"train {len(ytr)} ({int(ytr.sum())} positives), test {len(yte)} ({int(yte.sum())} positives)")
    print(f"{'loss':26s} {'AUROC':>7s} {'OPAUC(0.3)':>11s} {'TPAUC(0.3,0.7)':>15s}")
    for kind in ("bce", "opauc top-k", "tpauc top-k", "relaxed tpauc", "sopa-s (libauc drop-in)"):
        model = train(kind, Xtr, ytr)
        with torch.no_grad():
            s = model(Xte).reshape(-1).numpy()
        # OPAUC: sklearn's McClish-standardised partial AUROC; TPAUC: normalised on the hard subset
        print(f"{kind:26s} {roc_auc_score(yte, s):7.4f} {roc_auc_score(yte, s, max_fpr=0.3):11.4f} "
              f"{tpauc(yte, s):15.4f}")


if __name__ == "__main__":
    main()
