"""Long-tailed digits: a small CNN trained with SGD, SAM, ImbSAM and SSE-SAM; head / tail accuracy.

scikit-learn's 8x8 digits (shipped with scikit-learn, no download), training classes subsampled to an
exponential profile (class c keeps about n_max * imbalance^(-c/9) images: classes 0-4 are the head,
5-9 the tail), tested on a balanced held-out split. Every optimizer starts from the same weights and
sees the same batches. Prints a table and writes a bar plot (--plot PATH).

    .venv/bin/python examples/long_tail_sam.py            (about a minute on 2 CPU cores)
    .venv/bin/python examples/long_tail_sam.py --quick    (a few seconds: the smoke test)
"""

import argparse
import functools

import torch
import torch.nn.functional as F
from sklearn.datasets import load_digits
from sklearn.model_selection import train_test_split

from torchauc.optim import SAM, SSESAM, ImbSAM, split_head_tail

TAIL = torch.arange(5, 10)


def long_tailed_digits(imbalance, seed=0):
    X, y = load_digits(return_X_y=True)
    X = torch.tensor(X, dtype=torch.float32).view(-1, 1, 8, 8) / 16.0
    y = torch.tensor(y)
    Xtr, Xte, ytr, yte = train_test_split(X, y, test_size=0.4, stratify=y, random_state=seed)
    g = torch.Generator().manual_seed(seed)
    n_max = int((ytr == 0).sum())
    keep = []
    for c in range(10):
        idx = (ytr == c).nonzero().view(-1)
        n_c = max(2, int(n_max * imbalance ** (-c / 9)))
        keep.append(idx[torch.randperm(len(idx), generator=g)[:n_c]])
    keep = torch.cat(keep)
    return Xtr[keep], ytr[keep], Xte, yte


class SmallCNN(torch.nn.Module):
    def __init__(self):
        super().__init__()
        self.conv1 = torch.nn.Conv2d(1, 16, 3, padding=1)
        self.conv2 = torch.nn.Conv2d(16, 32, 3, padding=1)
        self.fc = torch.nn.Linear(32 * 2 * 2, 10)

    def forward(self, x):
        x = F.max_pool2d(F.relu(self.conv1(x)), 2)
        return self.fc(F.max_pool2d(F.relu(self.conv2(x)), 2).flatten(1))


def make_optimizer(name, model, lr, epochs):
    sgd = functools.partial(torch.optim.SGD, lr=lr, momentum=0.9, weight_decay=5e-4)
    if name == "SGD":
        return sgd(model.parameters())
    if name == "SAM":
        return SAM(model.parameters(), sgd, rho=0.05)
    if name == "ImbSAM":
        return ImbSAM(model.parameters(), sgd, rho=0.1)
    return SSESAM(model.parameters(), sgd, rho_head=0.05, rho_tail=0.1, switch_epoch=int(0.7 * epochs))


def train(name, init, data, epochs, batch, lr, seed):
    Xtr, ytr, _, _ = data
    model = SmallCNN()
    model.load_state_dict(init)
    opt = make_optimizer(name, model, lr, epochs)
    g = torch.Generator().manual_seed(seed)
    norm = "imbsam" if name == "ImbSAM" else "batch"
    for _ in range(epochs):
        for idx in torch.randperm(len(ytr), generator=g).split(batch):
            x, y = Xtr[idx], ytr[idx]
            if name == "SGD":
                opt.zero_grad()
                F.cross_entropy(model(x), y).backward()
                opt.step()
            elif name == "SAM":
                F.cross_entropy(model(x), y).backward()
                opt.step(lambda x=x, y=y: F.cross_entropy(model(x), y).backward())
                opt.zero_grad()
            else:
                losses = functools.partial(F.cross_entropy, reduction="none")
                opt.step(lambda x=x, y=y: split_head_tail(losses(model(x), y), y, TAIL, normalization=norm))
        if name == "SSE-SAM":
            opt.update_rho()
    return model


@torch.no_grad()
def head_tail_accuracy(model, X, y):
    correct = model(X).argmax(1) == y
    tail = torch.isin(y, TAIL)
    return correct[~tail].float().mean().item(), correct[tail].float().mean().item(), correct.float().mean().item()


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="tiny run (smoke test)")
    ap.add_argument("--epochs", type=int, default=None)
    ap.add_argument("--imbalance", type=float, default=20.0)
    ap.add_argument("--plot", default="long_tail_sam.png", help="output PNG ('' to skip)")
    args = ap.parse_args(argv)
    epochs = args.epochs or (2 if args.quick else 40)
    torch.manual_seed(0)
    data = long_tailed_digits(args.imbalance)
    init = SmallCNN().state_dict()
    results = {}
    for name in ("SGD", "SAM", "ImbSAM", "SSE-SAM"):
        model = train(name, init, data, epochs, batch=32, lr=0.05, seed=1)
        results[name] = head_tail_accuracy(model, data[2], data[3])
    print(
        f"train {len(data[1])} images (long-tailed, imbalance {args.imbalance:g}), test {len(data[3])}; {epochs} epochs"
    )
    print(f"{'optimizer':<9} {'head':>6} {'tail':>6} {'all':>6}")
    for name, (h, t, a) in results.items():
        print(f"{name:<9} {h:6.3f} {t:6.3f} {a:6.3f}")
    if args.plot:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt

        fig, ax = plt.subplots(figsize=(6, 3.5))
        names = list(results)
        for k, label in enumerate(("head", "tail", "all")):
            ax.bar([i + 0.27 * (k - 1) for i in range(len(names))], [results[n][k] for n in names], 0.27, label=label)
        ax.set_xticks(range(len(names)), names)
        ax.set_ylabel("test accuracy")
        ax.set_ylim(0, 1)
        ax.legend()
        ax.set_title("long-tailed digits")
        fig.tight_layout()
        fig.savefig(args.plot, dpi=120)
        print(f"plot: {args.plot}")
    return results


if __name__ == "__main__":
    main()
