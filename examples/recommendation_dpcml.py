"""Train CML (one vector per user) and DPCML (K = 5 vectors per user, DCRS) on generated long-tail
implicit feedback (or a MovieLens ratings file), with device-side negative sampling, and report
recall@10 / NDCG@10 per epoch and the test per-user AUC split by the users' minority-interest share.

    .venv/bin/python examples/recommendation_dpcml.py                 (a few minutes on 2 CPU cores)
    .venv/bin/python examples/recommendation_dpcml.py --quick         (seconds: the smoke test)
    .venv/bin/python examples/recommendation_dpcml.py --data ml-1m/ratings.dat

Users with several interest clusters are where one vector per user struggles: DPCML's K vectors
can sit near each cluster, so its gain shows most for users whose minority interests are large.
"""

import argparse
import time

import torch

from torchauc import cml


def train(name, model, data, args, log):
    opt = torch.optim.Adam(model.parameters(), lr=args.lr)
    g = torch.Generator().manual_seed(args.seed)
    curve = []
    for epoch in range(1, args.epochs + 1):
        t0 = time.perf_counter()
        users, pos, neg = cml.triplets(*data.train, data.num_items, args.negatives, layout="hard", generator=g)
        order = torch.randperm(users.numel(), generator=g)
        steps = range(0, users.numel(), args.batch)
        total = 0.0
        for k, s in enumerate(steps):
            b = order[s : s + args.batch]
            loss = model(users[b], pos[b], neg[b])
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()
            model.renorm_()
            total += float(loss)
            if k % max(1, len(steps) // 20) == 0 or k == len(steps) - 1:  # progress bar
                bar = "#" * (20 * (k + 1) // len(steps))
                print(f"\r{name} epoch {epoch:2d} [{bar:<20}] loss {total / (k + 1):8.3f}", end="", flush=True)
        m = cml.evaluate(
            model.user_vectors.detach(), model.item_embeddings.weight.detach(), data.val, data.train, ks=(10,)
        )
        curve.append((m["R@10"], m["NDCG@10"]))
        print(f"  val recall@10 {m['R@10']:.4f} NDCG@10 {m['NDCG@10']:.4f}  ({time.perf_counter() - t0:.1f} s)")
        log.append((name, epoch, m["R@10"], m["NDCG@10"]))
    return curve


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--data", help="a MovieLens u.data / ratings.dat / ratings.csv (default: generated)")
    ap.add_argument("--users", type=int, default=2000)
    ap.add_argument("--items", type=int, default=3000)
    ap.add_argument("--epochs", type=int, default=10)
    ap.add_argument("--dim", type=int, default=64)
    ap.add_argument("--batch", type=int, default=256)
    ap.add_argument("--negatives", type=int, default=10)
    ap.add_argument("--lr", type=float, default=1e-3)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--quick", action="store_true", help="a tiny run (smoke test)")
    ap.add_argument("--no-plot", action="store_true")
    args = ap.parse_args()
    if args.quick:
        args.users, args.items, args.epochs, args.dim = 150, 300, 2, 16
    torch.manual_seed(args.seed)

    if args.data:
        data, share = cml.data.load_movielens(args.data, seed=args.seed), None
    else:
        u, i, share = cml.data.synthetic_long_tail(args.users, args.items, num_clusters=12, seed=args.seed)
        data = cml.data.split_per_user(u, i, args.users, args.items, seed=args.seed)
    print(f"{data.num_users} users, {data.num_items} items, {int(data.train[0][-1])} train interactions")

    log, curves, aucs = [], {}, {}
    train_val = _merge(data.train, data.val, data.num_items)
    for name, k, m1, m2, reg in (("CML", 1, 0.0, 0.0, 0.0), ("DPCML", 5, 0.05, 0.25, 10.0)):
        model = cml.DPCML(
            data.num_users, data.num_items, dim=args.dim, num_vectors=k, reg=reg, m1=m1, m2=m2, dcrs_users="batch"
        )
        model.renorm_()
        curves[name] = train(name, model, data, args, log)
        per = cml.evaluate(
            model.user_vectors.detach(),
            model.item_embeddings.weight.detach(),
            data.test,
            train_val,
            ks=(10,),
            reduce=False,
        )
        aucs[name] = per["AUC"]
        print(
            f"{name} test: recall@10 {float(per['R@10'].nanmean()):.4f} NDCG@10 {float(per['NDCG@10'].nanmean()):.4f}"
            f" AUC {float(per['AUC'].nanmean()):.4f}"
        )

    if share is not None:
        print("\nper-user test AUC by minority-interest share (quartiles of the users' share)")
        q = torch.quantile(share, torch.tensor([0.25, 0.5, 0.75]))
        group = torch.bucketize(share, q)
        print("share group  " + "  ".join(f"{n:>7}" for n in aucs))
        for gi in range(4):
            sel = group == gi
            print(
                f"  Q{gi + 1} ({float(share[sel].mean()):.2f})  "
                + "  ".join(f"{float(a[sel].nanmean()):7.4f}" for a in aucs.values())
            )
    if not args.no_plot:
        _plot(curves)


def _merge(a, b, num_items):
    """The union of two CSR matrices (train + validation: the items masked at test time)."""
    rows = [torch.repeat_interleave(torch.arange(p.numel() - 1), p[1:] - p[:-1]) for p, _ in (a, b)]
    return cml.data.to_csr(torch.cat(rows), torch.cat([a[1], b[1]]), a[0].numel() - 1)


def _plot(curves):
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        print("(matplotlib not installed: no plot)")
        return
    fig, axes = plt.subplots(1, 2, figsize=(9, 3.5))
    for name, c in curves.items():
        for ax, j, label in ((axes[0], 0, "recall@10"), (axes[1], 1, "NDCG@10")):
            ax.plot(range(1, len(c) + 1), [x[j] for x in c], marker="o", label=name)
            ax.set_xlabel("epoch")
            ax.set_ylabel(f"validation {label}")
    axes[0].legend()
    fig.tight_layout()
    fig.savefig("recommendation_dpcml.png", dpi=120)
    print("plot: recommendation_dpcml.png")


if __name__ == "__main__":
    main()
