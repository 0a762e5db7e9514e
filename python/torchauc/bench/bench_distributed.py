"""torch.distributed on this machine (gloo, W = 1, 2, 4 worker processes, each with its shard):
the exact AUROC by the sample sort vs gathering every score to every rank, and the global-batch square
loss and LibAUC's AUCMLoss by their moment all-reduce vs gathering the batch. Times are measured by
this (driver) process around one command to the pool of workers (a few pipe messages of overhead); the note gives the
payload bytes each rank sends and receives, the largest over the ranks (all_gather: (W - 1) x its
tensor; all_reduce: 2 (W - 1) / W x the tensor, a ring; all_to_all: the rows for the other ranks)."""

import atexit
import multiprocessing as mp
import socket

import torch

from .harness import Case

N_FULL, N_QUICK = 1 << 22, 1 << 16


def _free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _count_bytes(world, rank, tally):
    """Wraps the collectives to add the payload bytes this rank sends to tally[0] and receives to
    tally[1] (the same for all_gather and all_reduce)."""
    import torch.distributed as dist

    ag, ata, ar = dist.all_gather, dist.all_to_all_single, dist.all_reduce

    def all_gather(out, t, *a, **k):
        tally[0] += t.nbytes * (world - 1)
        tally[1] += sum(o.nbytes for o in out) - t.nbytes
        return ag(out, t, *a, **k)

    def all_to_all_single(out, inp, out_split=None, in_split=None, *a, **k):
        row = inp[0].nbytes if inp.dim() > 1 else inp.element_size()
        own = inp.nbytes // world
        tally[0] += (sum(in_split) - in_split[rank]) * row if in_split else inp.nbytes - own
        tally[1] += (sum(out_split) - out_split[rank]) * row if out_split else out.nbytes - own
        return ata(out, inp, out_split, in_split, *a, **k)

    def all_reduce(t, *a, **k):
        tally[0] += 2 * t.nbytes * (world - 1) // world
        tally[1] += 2 * t.nbytes * (world - 1) // world
        return ar(t, *a, **k)

    dist.all_gather, dist.all_to_all_single, dist.all_reduce = all_gather, all_to_all_single, all_reduce


def _worker(rank, world, port, n, threads, conn):
    import torch.distributed as dist

    import torchauc
    from torchauc._core import distributed as D
    from torchauc.compat import libauc as L

    torch.set_num_threads(threads)
    dist.init_process_group("gloo", init_method=f"tcp://127.0.0.1:{port}", rank=rank, world_size=world)
    tally = [0, 0]
    _count_bytes(world, rank, tally)
    g = torch.Generator().manual_seed(100 + rank)
    m = n // world
    s = torch.randn(m, generator=g)
    y = torch.rand(m, generator=g) < 0.1
    group = dist.group.WORLD
    aucm = {"aucm allreduce": L.AUCMLoss(device="cpu", process_group=group), "aucm gather": L.AUCMLoss(device="cpu")}

    def run(cmd):
        if cmd == "auroc sort":
            return torchauc.auroc.auroc(s, y, process_group=group)
        if cmd == "auroc gather":
            return torchauc.auroc.auroc(D.gather_cat(s), D.gather_cat(y))
        x = s.double().requires_grad_()
        if cmd == "aucm allreduce":
            loss = aucm[cmd](torch.sigmoid(x), y)
        elif cmd == "aucm gather":
            xs, ys = D.gather_batch(group, x, y)
            loss = aucm[cmd](torch.sigmoid(xs), ys)
        elif cmd == "loss allreduce":
            loss = torchauc.pairwise.pairwise_auc_loss(x, y, process_group=group)
        else:  # gather the batch, the local op on it
            xs, ys = D.gather_batch(group, x, y)
            loss = torchauc.pairwise.pairwise_auc_loss(xs, ys)
        loss.backward()
        return loss.detach()

    while True:
        cmd = conn.recv()
        if cmd is None:
            break
        tally[:] = [0, 0]
        value = float(run(cmd))
        dist.barrier()
        conn.send((value, tuple(tally)))
    dist.destroy_process_group()


class Pool:
    """W worker processes of one gloo group; call(cmd) runs cmd on every rank and returns (value,
    (max bytes sent, max bytes received) over the ranks)."""

    def __init__(self, world, n, threads) -> None:
        ctx = mp.get_context("spawn")
        port = _free_port()
        self.conns, self.procs = [], []
        for r in range(world):
            a, b = ctx.Pipe()
            p = ctx.Process(target=_worker, args=(r, world, port, n, threads, b), daemon=True)
            p.start()
            self.conns.append(a)
            self.procs.append(p)
        atexit.register(self.close)

    def call(self, cmd):
        for c in self.conns:
            c.send(cmd)
        out = [c.recv() for c in self.conns]
        return out[0][0], tuple(max(b[i] for _, b in out) for i in range(2))

    def close(self) -> None:
        for c, p in zip(self.conns, self.procs):
            if p.is_alive():
                c.send(None)
                p.join(timeout=10)


def _mib(b):
    return f"{b / 2**20:.2f} MiB" if b >= 2**16 else f"{b} B"


def _io(b):
    return f"{_mib(b[0])} sent / {_mib(b[1])} received"


def cases(device: torch.device | str | None, quick: bool):
    if device != "cpu":
        return []
    n = N_QUICK if quick else N_FULL
    threads = torch.get_num_threads()
    out = []
    for world in (1, 2, 4):
        pool = Pool(world, n, max(1, threads // world))
        commands = ("auroc sort", "auroc gather", "loss allreduce", "loss gather", "aucm allreduce", "aucm gather")
        sent = {cmd: pool.call(cmd)[1] for cmd in commands}
        size = f"N=2^{n.bit_length() - 1}, W={world}"
        out.append(
            Case(
                "distributed",
                "auroc (sample sort)",
                size,
                lambda pool=pool: pool.call("auroc sort")[0],
                {"all_gather + auroc": lambda pool=pool: pool.call("auroc gather")[0]},
                repeats=3 if quick else 5,
                rtol=1e-12,
                note=f"per rank (max): {_io(sent['auroc sort'])}; gather: {_io(sent['auroc gather'])}",
            )
        )
        out.append(
            Case(
                "distributed",
                "pairwise_auc_loss square, global batch (fwd+bwd)",
                size,
                lambda pool=pool: pool.call("loss allreduce")[0],
                {"gather batch + loss": lambda pool=pool: pool.call("loss gather")[0]},
                repeats=3 if quick else 5,
                rtol=1e-9,
                note=f"per rank (max): {_io(sent['loss allreduce'])}; gather: {_io(sent['loss gather'])}",
            )
        )
        out.append(
            Case(
                "distributed",
                "compat.libauc AUCMLoss v1, global batch (fwd+bwd)",
                size,
                lambda pool=pool: pool.call("aucm allreduce")[0],
                {"gather batch + loss": lambda pool=pool: pool.call("aucm gather")[0]},
                repeats=3 if quick else 5,
                rtol=1e-9,
                note=f"per rank (max): {_io(sent['aucm allreduce'])}; gather: {_io(sent['aucm gather'])}",
            )
        )
    return out
