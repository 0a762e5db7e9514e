"""Train a small classifier with a global-batch AUC loss under DDP and evaluate it with the exact
distributed AUROC.

    torchrun --standalone --nproc_per_node=2 examples/ddp_training.py            # one node, CPU (gloo)
    torchrun --nnodes=2 --node_rank=R --nproc_per_node=8 --master_addr=HOST --master_port=29500 \\
        examples/ddp_training.py --backend nccl                                  # two nodes, 8 GPUs each

Each rank sees its shard of every batch (DistributedSampler). The loss is computed over the global
batch (``process_group=``): the square surrogate all-reduces six numbers per step. DDP averages the
gradients over the ranks while the gradient of the global loss is their sum, so the loss is
multiplied by the world size: every step is the one a single device takes on the whole batch.
The evaluation AUROC is exact over every rank (sample sort) and counts the samples that the
sampler repeats to pad the last shard once (``sample_index``).
"""

import argparse
import os

import torch
import torch.distributed as dist
from torch.nn.parallel import DistributedDataParallel as DDP
from torch.utils.data import DataLoader, TensorDataset
from torch.utils.data.distributed import DistributedSampler

import torchauc


def data(n, dim, seed):
    g = torch.Generator().manual_seed(seed)
    y = (torch.rand(n, generator=g) < 0.1).float()  # 10% positives
    x = torch.randn(n, dim, generator=g) + 0.8 * y[:, None] * torch.linspace(-1, 1, dim)
    return TensorDataset(x, y, torch.arange(n))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--samples", type=int, default=8192)
    ap.add_argument("--dim", type=int, default=32)
    ap.add_argument("--batch", type=int, default=256, help="global batch size")
    ap.add_argument("--epochs", type=int, default=3)
    ap.add_argument("--lr", type=float, default=0.05)
    ap.add_argument("--backend", default="gloo")
    args = ap.parse_args()

    dist.init_process_group(args.backend)
    rank, world = dist.get_rank(), dist.get_world_size()
    device = torch.device(f"cuda:{int(os.environ.get('LOCAL_RANK', 0))}" if args.backend == "nccl" else "cpu")
    torch.manual_seed(0)  # the same initial model on every rank
    model = torch.nn.Sequential(torch.nn.Linear(args.dim, 64), torch.nn.ReLU(), torch.nn.Linear(64, 1)).to(device)
    model = DDP(model)
    loss_fn = torchauc.pairwise.AUCLoss("square", process_group=dist.group.WORLD)
    opt = torch.optim.SGD(model.parameters(), lr=args.lr)

    train, test = data(args.samples, args.dim, 1), data(args.samples // 4 + 3, args.dim, 2)  # odd size: padded shards
    sampler = DistributedSampler(train, shuffle=True, seed=0)
    loader = DataLoader(train, batch_size=args.batch // world, sampler=sampler)
    for epoch in range(args.epochs):
        sampler.set_epoch(epoch)
        model.train()
        for x, y, _ in loader:
            scores = torch.sigmoid(model(x.to(device))).reshape(-1)
            loss = loss_fn(scores, y.to(device))  # the loss of the global batch, the same on every rank
            opt.zero_grad()
            (loss * world).backward()  # DDP averages over ranks: scale to the global-batch gradient
            opt.step()

        metric = torchauc.auroc.AUROC()  # exact over every rank at compute()
        model.eval()
        test_loader = DataLoader(test, batch_size=512, sampler=DistributedSampler(test, shuffle=False))
        with torch.no_grad():
            for x, y, idx in test_loader:
                metric.update(model(x.to(device)).reshape(-1), y.to(device), sample_index=idx.to(device))
        value = metric.compute()
        if rank == 0:
            print(f"epoch {epoch}: last global-batch loss {loss.item():.4f}, test AUROC {value.item():.4f}")
    dist.destroy_process_group()


if __name__ == "__main__":
    main()
