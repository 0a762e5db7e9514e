"""CML evaluation (tiled full-catalogue ranking metrics) against a brute-force per-user oracle, the
MovieLens loaders on shipped tiny files, the synthetic long-tail generator and the example."""

import math
import subprocess
import sys
from pathlib import Path

import pytest
import torch

from torchauc import cml
from torchauc.reference import cml as R

DATA = Path(__file__).parent / "data" / "movielens_tiny"
ROOT = Path(__file__).resolve().parents[1]


def _problem(seed, M=11, N=23, K=3, d=2, n=140, ties=True):
    g = torch.Generator().manual_seed(seed)
    if ties:  # a coarse grid: many exactly tied scores, all arithmetic exact in float64
        uv = torch.randint(-2, 3, (M, K, d), generator=g).double() / 2
        iv = torch.randint(-2, 3, (N, d), generator=g).double() / 2
    else:
        uv, iv = (
            torch.randn(M, K, d, generator=g, dtype=torch.float64),
            torch.randn(N, d, generator=g, dtype=torch.float64),
        )
    u, i = torch.randint(0, M, (n,), generator=g), torch.randint(0, N, (n,), generator=g)
    return uv, iv, cml.data.split_per_user(u, i, M, N, seed=seed)


def _check(got, want):
    assert set(got) == set(want)
    for k in want:
        torch.testing.assert_close(got[k], want[k], rtol=0, atol=1e-12, equal_nan=True, msg=k)


@pytest.mark.parametrize("K", [1, 3])
@pytest.mark.parametrize("tile", [1 << 22, 37])  # one tile; many user and item tiles
@pytest.mark.parametrize("seed", [0, 1])
def test_evaluate_equals_bruteforce_with_ties(device, K, tile, seed):
    uv, iv, data = _problem(seed, K=K)
    want = R.evaluate_bruteforce(uv, iv, data.test, data.train)
    d = data.to(device)
    got = cml.evaluate(uv.to(device), iv.to(device), d.test, d.train, reduce=False, tile_elements=tile)
    _check({k: v.cpu() for k, v in got.items()}, want)


def test_evaluate_single_vector_no_train_subset_and_means():
    uv, iv, data = _problem(3, K=1, ties=False)
    want = R.evaluate_bruteforce(uv, iv, data.test, None, ks=(2, 7))
    got = cml.evaluate(uv[:, 0], iv, data.test, None, ks=(2, 7), reduce=False)
    _check(got, want)
    users = torch.tensor([5, 0, 5])
    sub = cml.evaluate(uv, iv, data.test, data.train, users=users, reduce=False)
    full = cml.evaluate(uv, iv, data.test, data.train, reduce=False)
    _check(sub, {k: v[users] for k, v in full.items()})
    means = cml.evaluate(uv, iv, data.test, data.train)
    for k, v in full.items():
        assert math.isclose(means[k], float(v.nanmean()), rel_tol=1e-12)


def test_evaluate_undefined_users_and_errors():
    uv = torch.randn(3, 1, 2, dtype=torch.float64)
    iv = torch.randn(4, 2, dtype=torch.float64)
    test = (torch.tensor([0, 0, 1, 2]), torch.tensor([1, 2]))
    train = (torch.tensor([0, 0, 3, 3]), torch.tensor([0, 2, 3]))
    got = cml.evaluate(uv, iv, test, train, reduce=False)
    assert math.isnan(float(got["P@3"][0]))  # no test items
    assert math.isnan(float(got["AUC"][1]))  # every other item is in train: no candidate
    assert float(got["R@3"][1]) == 1.0
    with pytest.raises(ValueError, match="share d"):
        cml.evaluate(uv, iv[:, :1], test, train)
    with pytest.raises(ValueError, match="ks"):
        cml.evaluate(uv, iv, test, train, ks=(0,))
    with pytest.raises(ValueError, match="indptr"):
        cml.evaluate(uv, iv, (test[0][:-1], test[1]), train)


def test_dense_full_sort_baseline_agrees():
    uv, iv, data = _problem(4, K=2, ties=False, N=30)
    want = R.evaluate_bruteforce(uv, iv, data.test, data.train, ks=(10,))
    base = R.evaluate_full_sort(R.scores_dense(uv, iv), data.test, data.train, ks=(10,))
    has = ~want["P@10"].isnan()
    for k in ("P@10", "R@10", "NDCG@10", "AUC"):
        torch.testing.assert_close(base[k][has], want[k][has], rtol=0, atol=1e-12)


# ------------------------------------------------------------------ data
@pytest.mark.parametrize("name", ["u.data", "ratings.dat", "ratings.csv"])
def test_movielens_loaders_agree(name):
    d = cml.data.load_movielens(DATA / name, seed=3)
    ref = cml.data.load_movielens(DATA / "u.data", seed=3)
    for a, b in zip(d.train + d.val + d.test, ref.train + ref.val + ref.test):
        assert torch.equal(a, b)
    lines = [line.split("\t") for line in (DATA / "u.data").read_text().splitlines()]
    pos = {(int(u), int(i)) for u, i, r, _ in lines if int(r) >= 4}
    per_user = {}
    for u, i in pos:
        per_user.setdefault(u, set()).add(i)
    kept = {u: s for u, s in per_user.items() if len(s) >= 5}
    assert d.num_users == len(kept) and d.num_items == len({i for s in kept.values() for i in s})
    total = sum(int(p[-1]) for p in (d.train[0], d.val[0], d.test[0]))
    assert total == sum(len(s) for s in kept.values())
    n = d.train[0][1:] - d.train[0][:-1] + d.val[0][1:] - d.val[0][:-1] + d.test[0][1:] - d.test[0][:-1]
    assert torch.equal(d.train[0][1:] - d.train[0][:-1], n * 3 // 5)
    assert torch.equal(d.val[0][1:] - d.val[0][:-1], n // 5)


def test_split_is_seeded_and_disjoint():
    u, i, _ = cml.data.synthetic_long_tail(50, 200, seed=1)
    a = cml.data.split_per_user(u, i, 50, 200, seed=7)
    b = cml.data.split_per_user(u, i, 50, 200, seed=7)
    c = cml.data.split_per_user(u, i, 50, 200, seed=8)
    assert torch.equal(a.test[1], b.test[1]) and not torch.equal(a.test[1], c.test[1])
    dense = sum(R.dense_target(*s, 200) for s in (a.train, a.val, a.test))
    assert float(dense.max()) == 1.0 and int(dense.sum()) == u.numel()


def test_synthetic_long_tail_shape():
    u, i, share = cml.data.synthetic_long_tail(400, 1000, mean_interactions=20, alpha=1.0, seed=0)
    counts = torch.bincount(u, minlength=400)
    assert int(counts.min()) >= 1 and 10 < float(counts.double().mean()) < 30  # >= 5 draws, repeats merged
    pop = torch.bincount(i, minlength=1000).sort(descending=True).values
    assert float(pop[:100].sum()) > 0.3 * i.numel()  # head items take a large share: long tail
    assert share.shape == (400,) and 0.15 < float(share.mean()) < 0.45
    assert torch.equal(torch.unique(u * 1000 + i), u * 1000 + i)  # unique, sorted pairs


def test_example_runs_quick():
    out = subprocess.run(
        [sys.executable, str(ROOT / "examples" / "recommendation_dpcml.py"), "--quick", "--no-plot"],
        capture_output=True,
        text=True,
        timeout=240,
    )
    assert out.returncode == 0, out.stderr
    assert "recall@10" in out.stdout and "DPCML" in out.stdout
