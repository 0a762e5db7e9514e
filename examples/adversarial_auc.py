"""Adversarial AUC training (AdAUC) vs adversarial BCE training on a long-tailed binary task.

scikit-learn's 8x8 digits (no download): the digit 8 is the rare positive class (about 1:10 in
training). Both models train on PGD examples (torchauc.adversarial.pgd, L-inf eps 0.1 in [0, 1] pixel
units): BCE on its logits, AdAUC (torchauc.losses.AdAUCLoss with torchauc.optim.AdAUCOptimizer)
on sigmoid scores. Reported: clean AUROC and robust AUROC, the test AUROC after a PGD-10 attack that
pushes every positive down and every negative up (per-sample BCE on the logits).

    .venv/bin/python examples/adversarial_auc.py          (about a minute on 2 CPU cores)
    .venv/bin/python examples/adversarial_auc.py --quick  (a few seconds: the smoke test)
"""

import argparse

import torch
import torch.nn.functional as F
from sklearn.datasets import load_digits
from sklearn.model_selection import train_test_split

from torchauc.adversarial import pgd
from torchauc.losses import AdAUCLoss
from torchauc.metrics.functional import auroc
from torchauc.optim import AdAUCOptimizer

EPS, STEP = 0.1, 0.025


def data(seed=0):
    X, y = load_digits(return_X_y=True)
    X = torch.tensor(X, dtype=torch.float32).view(-1, 1, 8, 8) / 16.0
    y = torch.tensor(y == 8).long()
    Xtr, Xte, ytr, yte = train_test_split(X, y, test_size=0.4, stratify=y, random_state=seed)
    g = torch.Generator().manual_seed(seed)
    pos, neg = (ytr == 1).nonzero().view(-1), (ytr == 0).nonzero().view(-1)
    keep = torch.cat([pos[torch.randperm(len(pos), generator=g)[: len(neg) // 10]], neg])
    return Xtr[keep], ytr[keep], Xte, yte


def net():
    return torch.nn.Sequential(
        torch.nn.Conv2d(1, 16, 3, padding=1), torch.nn.ReLU(), torch.nn.MaxPool2d(2),
        torch.nn.Conv2d(16, 32, 3, padding=1), torch.nn.ReLU(), torch.nn.MaxPool2d(2), torch.nn.Flatten(),
        torch.nn.Linear(32 * 2 * 2, 1),
    )  # fmt: skip


def bce_per_sample(logits, y):
    return F.binary_cross_entropy_with_logits(logits, y.float(), reduction="none")


def train(kind, init, Xtr, ytr, epochs, steps, seed):
    model = net()
    model.load_state_dict(init)
    imratio = ytr.float().mean().item()
    crit = AdAUCLoss(imratio=imratio)
    if kind == "AdAUC":
        opt = AdAUCOptimizer([{"params": model.parameters()}, *crit.param_groups()], lr=0.05, weight_decay=1e-4)
    else:
        opt = torch.optim.SGD(model.parameters(), lr=0.05, momentum=0.9, weight_decay=1e-4)
    g = torch.Generator().manual_seed(seed)
    for _ in range(epochs):
        for idx in torch.randperm(len(ytr), generator=g).split(64):
            x, y = Xtr[idx], ytr[idx]
            if kind == "AdAUC":
                delta = pgd(model, x, y, crit.per_sample, eps=EPS, step=STEP, steps=steps, generator=g)
                loss = crit(torch.sigmoid(model(x + delta)).view(-1), y)
            else:
                delta = pgd(model, x, y, bce_per_sample, eps=EPS, step=STEP, steps=steps, target="logit", generator=g)
                loss = bce_per_sample(model(x + delta).view(-1), y).mean()
            opt.zero_grad()
            loss.backward()
            opt.step()
    return model


def evaluate(model, X, y, steps):
    model.eval()
    with torch.no_grad():
        clean = auroc(model(X).view(-1), y).item()
    g = torch.Generator().manual_seed(123)
    delta = pgd(model, X, y, bce_per_sample, eps=EPS, step=STEP, steps=steps, target="logit", generator=g)
    with torch.no_grad():
        robust = auroc(model(X + delta).view(-1), y).item()
    return clean, robust


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="tiny run (smoke test)")
    ap.add_argument("--epochs", type=int, default=None)
    args = ap.parse_args(argv)
    epochs = args.epochs or (1 if args.quick else 30)
    steps = 2 if args.quick else 5
    torch.manual_seed(0)
    Xtr, ytr, Xte, yte = data()
    init = net().state_dict()
    print(f"train {len(ytr)} ({int(ytr.sum())} positives), test {len(yte)} ({int(yte.sum())} positives); "
          f"PGD eps {EPS}, {epochs} epochs")  # fmt: skip
    print(f"{'training':<10} {'clean AUROC':>12} {'robust AUROC':>13}")
    results = {}
    for kind in ("BCE", "AdAUC"):
        model = train(kind, init, Xtr, ytr, epochs, steps, seed=1)
        results[kind] = evaluate(model, Xte, yte, steps=2 if args.quick else 10)
        print(f"{kind:<10} {results[kind][0]:12.4f} {results[kind][1]:13.4f}")
    return results


if __name__ == "__main__":
    main()
