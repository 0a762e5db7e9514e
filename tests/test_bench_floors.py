"""The benchmark floors (torchauc.bench.floors, csrc/bench/floors.cpp): each does the work it
claims (so a floor cannot be vacuously fast), passes opcheck, and the table prints its column."""

import pytest
import torch

from torchauc.bench import floors, harness
from torchauc.bench import run as bench_run

OPS = torch.ops.torchauc_bench


def test_elementwise_reads_every_input_and_writes_each_output():
    g = torch.Generator().manual_seed(0)
    s = torch.randn(5000, generator=g)
    y = torch.rand(5000, generator=g) < 0.3
    w = torch.rand(5000, generator=g, dtype=torch.float64)
    side = torch.arange(7)  # another size: read in its own pass (sum 21)
    outs = OPS.floor_elementwise([s, y, w, side], 2)
    want = s.double() + y.double() + w + 21.0
    assert len(outs) == 2 and all(o.dtype == s.dtype and o.shape == s.shape for o in outs)
    torch.testing.assert_close(outs[0], want.float())
    torch.testing.assert_close(outs[1], (2 * want).float())
    assert floors.elementwise(s, y)() is not None


def test_elementwise_without_writes_reads_every_input():
    g = torch.Generator().manual_seed(1)
    s = torch.randn(300_000, generator=g)  # several blocks, both threads
    y = torch.randint(0, 5, (300,), generator=g)  # another size: its own pass
    (total,) = OPS.floor_elementwise([s, y], 0)
    assert total.dtype == torch.float64 and total.dim() == 0
    assert float(total) == pytest.approx(float(s.double().sum() + y.sum()), rel=1e-9, abs=1e-6)
    torch.library.opcheck(OPS.floor_elementwise.default, ([s[:100], y], 0))


@pytest.mark.parametrize("dtype", [torch.float32, torch.float64])
@pytest.mark.parametrize("n", [1000, 300_000])  # both digit widths of the radix sort
def test_radix_sort_is_a_stable_sort(dtype, n):
    keys = torch.randint(-50, 50, (n,), generator=torch.Generator().manual_seed(n)).to(dtype) / 4
    keys[3] = -0.0
    got, idx = OPS.floor_radix_sort(keys, True)
    want, widx = torch.sort(keys, stable=True)
    assert torch.equal(got, want) and torch.equal(idx, widx)
    assert OPS.floor_radix_sort(keys, False)[1].numel() == 0


def test_fma_does_one_multiply_add_per_pair():
    rows, cols = 37, 5000
    a, b = torch.linspace(0, 1, rows), torch.linspace(0, 1, cols)
    want = (a.double().sum() * b.double().sum()).item()  # sum_ij a_i b_j = rows cols / 4
    assert OPS.floor_fma(rows, cols).item() == pytest.approx(want, rel=1e-5)


def test_opcheck():
    s, y = torch.randn(100), torch.rand(100) < 0.5
    torch.library.opcheck(OPS.floor_elementwise.default, ([s, y], 1))
    torch.library.opcheck(OPS.floor_radix_sort.default, (s, True))
    torch.library.opcheck(OPS.floor_fma.default, (3, 10))


def test_table_prints_the_floor_and_the_ratio():
    case = harness.Case("f", "op", "n=1", lambda: 0, {"base": lambda: 0})
    rows = [dict(case=case, ours=(0.004, 0), floor=0.002, base={"base": (0.008, 0)}),
            dict(case=case, ours=(0.004, 0), base={"base": (0.008, 0)})]  # fmt: skip
    text = bench_run.table(rows, "machine", "cpu", True)
    assert "| f | op | n=1 | 4 ms | 0 B | 2 ms | 2.00x | base | 8 ms |" in text
    assert "| f | op | n=1 | 4 ms | 0 B | - | - | base | 8 ms |" in text
