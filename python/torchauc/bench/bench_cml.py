"""Collaborative metric learning at the ML-1M shape (6,040 users x 3,706 items, ~1M interactions,
d = 100, K = 5; generated long-tail data, 3:1:1 split) and at 10,000 x 20,000: ours vs the official
formulations (statusrank/DPCML, LibCML) re-implemented in torchauc.reference.cml.

* one epoch of negative sampling (10 per train positive) vs the official per-pair Python loop, both
  giving 10 negatives per (user, positive) pair (``layout="hard"``: the loop's output, not the
  uniform layout's 10-fold copies of the users and positives);
* a DPCML training step (batch 256, 10 hard candidates, DCRS over all users, Adam) vs the official
  (B, K, J, d) differences and (M, K, K, d) DCRS tensor;
* an SFCML step (batch 256, Adagrad) vs the official dense-target step: the target densified from
  a scipy dok_matrix on the CPU each step as LibCML does, and the same (B x N) target built by torch;
* evaluation of all users vs the dense pure-PyTorch full sort (scores matrix + sort + masks) and,
  at ML-1M, the official 100-user (100, K, N, d) difference predict."""

import random

import torch

from torchauc import cml
from torchauc.reference import cml as R

from . import harness


def _data(M, N, mean, clusters=30, seed=0):
    u, i, _ = cml.data.synthetic_long_tail(M, N, mean_interactions=mean, num_clusters=clusters, alpha=0.8, seed=seed)
    return cml.data.split_per_user(u, i, M, N, seed=seed)


def _sampling(data, device, quick, size):
    ptr, idx = (t.to(device) for t in data.train)
    g = torch.Generator().manual_seed(0)
    counts = (data.train[0][1:] - data.train[0][:-1]).tolist()
    sets = [set(data.train[1][s : s + c].tolist()) for s, c in zip(data.train[0][:-1].tolist(), counts)]
    pairs = [(u, 0) for u, c in enumerate(counts) for _ in range(c)]

    def ours():
        return cml.triplets(ptr, idx, data.num_items, 10, layout="hard", generator=g)[2].numel()

    def official():
        return len(R.sample_negatives_official(sets, data.num_items, pairs, 10, random.Random(0))) * 10

    return harness.Case(
        "cml",
        "negative sampling epoch",
        size,
        ours,
        {"official Python loop (CPU)": official},
        repeats=3 if quick else 5,
        baseline_repeats=1,
        rtol=None,
        note=f"{len(pairs)} positives x 10 (pairs, negatives)",
    )


def _adam_step(model, opt, loss):
    opt.zero_grad(set_to_none=True)
    loss.backward()
    opt.step()
    return loss.detach()


def _dpcml_step(data, device, quick, size, d, K):
    torch.manual_seed(0)
    ours_m = cml.DPCML(data.num_users, data.num_items, dim=d, num_vectors=K, reg=10.0, m1=0.05, m2=0.25).to(device)
    ref_m = cml.DPCML(data.num_users, data.num_items, dim=d, num_vectors=K).to(device)
    ref_m.load_state_dict(ours_m.state_dict())
    opt_o, opt_r = torch.optim.Adam(ours_m.parameters(), 1e-3), torch.optim.Adam(ref_m.parameters(), 1e-3)
    u, p, n = cml.triplets(
        *(t.to(device) for t in data.train),
        data.num_items,
        10,
        layout="hard",
        generator=torch.Generator().manual_seed(1),
    )
    b = torch.randperm(u.numel(), generator=torch.Generator().manual_seed(2))[:256].to(device)
    u, p, n = u[b], p[b], n[b]

    def ours():
        out = _adam_step(ours_m, opt_o, ours_m(u, p, n))
        ours_m.renorm_()
        return out

    def official():  # model/model.py HarCML + DCRS over the whole table
        users = ref_m.user_embeddings(u).view(-1, K, d)
        items = ref_m.item_embeddings  # max_norm=1 lookups
        loss = R.triplet_loss(users, items(p), items(n), 1.0)
        loss = loss + 10.0 * R.dcrs_official(ref_m.user_embeddings.weight.view(-1, K, d), 0.05, 0.25)
        out = _adam_step(ref_m, opt_r, loss)
        ref_m.renorm_()
        return out

    return harness.Case(
        "cml",
        "DPCML train step",
        size,
        ours,
        {"official formulation": official},
        repeats=5 if quick else 15,
        rtol=1e-3,
        note=f"B=256, K={K}, J=10, d={d}, DCRS all users",
    )


def _sfcml_step(data, device, quick, size, d):
    torch.manual_seed(0)
    ours_m = cml.SFCML(data.num_users, data.num_items, dim=d).to(device)
    ref_m = cml.SFCML(data.num_users, data.num_items, dim=d).to(device)
    ref_m.load_state_dict(ours_m.state_dict())
    opt_o = torch.optim.Adagrad(ours_m.parameters(), 0.05, weight_decay=1e-5)
    indptr, indices = data.train
    has = torch.nonzero(indptr[1:] > indptr[:-1]).squeeze(1)
    users = has[torch.randperm(has.numel(), generator=torch.Generator().manual_seed(3))[:256]]
    dev_ptr, dev_idx, dev_users = indptr.to(device), indices.to(device), users.to(device)

    def ours():
        out = _adam_step(ours_m, opt_o, ours_m(dev_users, dev_ptr, dev_idx))
        ours_m.renorm_()
        return out

    def stepper():  # a fresh copy of the reference model per baseline: the values stay comparable
        m = cml.SFCML(data.num_users, data.num_items, dim=d).to(device)
        m.load_state_dict(ref_m.state_dict())
        opt = torch.optim.Adagrad(m.parameters(), 0.05, weight_decay=1e-5)

        def step(target):
            loss = R.sfcml_loss_official(m.user_embeddings(dev_users), m.item_embeddings.weight, target, 1.0)
            out = _adam_step(m, opt, loss)
            m.renorm_()
            return out

        return step

    dense_step = stepper()

    def dense():  # the official dense (B, N) target, built from CSR by torch ops (no scipy)
        t = R.dense_target(*cml.csr_rows(indptr, indices, users), data.num_items, torch.float32).to(device)
        return dense_step(t)

    base = {"dense target (torch)": dense}
    try:
        import numpy as np
        from scipy import sparse
    except ImportError:  # scipy is optional: only the torch dense target then
        pass
    else:
        # LibCML as shipped: train_example.py hands SFCML a scipy dok_matrix; model/SFCML.py indexes
        # its batch rows and densifies them on the CPU every step, then copies to the device
        counts = (indptr[1:] - indptr[:-1]).numpy()
        rows = np.repeat(np.arange(data.num_users), counts)
        ones = np.ones(indices.numel(), dtype=np.float32)
        dok = sparse.dok_matrix(
            sparse.coo_matrix((ones, (rows, indices.numpy())), shape=(data.num_users, data.num_items))
        )
        users_np, official_step = users.numpy(), stepper()

        def official():
            return official_step(torch.from_numpy(dok[users_np].todense().astype(np.float32)).to(device))

        base["official (scipy dok rows densified)"] = official

    return harness.Case(
        "cml",
        "SFCML train step",
        size,
        ours,
        base,
        repeats=5 if quick else 15,
        rtol=1e-3,
        note=f"B=256, d={d}, CSR target: gathered dots + d x d Gram, no B x N tensor",
    )


def _evaluation(data, device, quick, size, d, K, official_chunks):
    g = torch.Generator().manual_seed(4)
    uv = torch.nn.functional.normalize(torch.randn(data.num_users, K, d, generator=g), dim=-1).to(device)
    iv = torch.nn.functional.normalize(torch.randn(data.num_items, d, generator=g), dim=-1).to(device)
    test, train = (tuple(t.to(device) for t in s) for s in (data.test, data.train))

    def ours():
        return cml.evaluate(uv, iv, test, train, ks=(10,))["R@10"]

    def dense():
        scores = -torch.cdist(uv.reshape(-1, d), iv).pow(2).view(data.num_users, K, -1).amin(1)
        return float(R.evaluate_full_sort(scores, test, train, ks=(10,))["R@10"][test[0][1:] > test[0][:-1]].mean())

    def official():  # model.predict: (100, K, N, d) differences per chunk of 100 users
        scores = torch.cat([R.scores_dense(uv[s : s + 100], iv) for s in range(0, data.num_users, 100)])
        return float(R.evaluate_full_sort(scores, test, train, ks=(10,))["R@10"][test[0][1:] > test[0][:-1]].mean())

    base = {"dense full sort": dense}
    if official_chunks:
        base["official predict (100 users x K x N x d)"] = official
    return harness.Case(
        "cml",
        "evaluate all users",
        size,
        ours,
        base,
        repeats=3,
        baseline_repeats=1,
        rtol=1e-3,
        note=f"K={K}, d={d}; P/R/NDCG@10, MAP, MRR, AUC",
    )


def cases(device: torch.device | str | None, quick: bool):
    if quick:
        small = _data(600, 400, 30)
        size = "600x400"
        return [
            _sampling(small, device, quick, size),
            _dpcml_step(small, device, quick, size, 32, 5),
            _sfcml_step(small, device, quick, size, 32),
            _evaluation(small, device, quick, size, 32, 5, True),
        ]
    ml1m = _data(6040, 3706, 340, clusters=8)  # ~1M unique interactions, 60% of them train
    size = "ML-1M shape 6040x3706"
    big = _data(10_000, 20_000, 60)  # ~470k interactions
    return [
        _sampling(ml1m, device, quick, size),
        _dpcml_step(ml1m, device, quick, size, 100, 5),
        _sfcml_step(ml1m, device, quick, size, 100),
        _evaluation(ml1m, device, quick, size, 100, 5, True),
        _evaluation(big, device, quick, "10000x20000", 100, 1, False),
    ]
