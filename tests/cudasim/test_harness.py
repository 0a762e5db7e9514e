"""The CUDA simulation harness itself (csrc/cudasim): what it reports on deliberately broken kernels
(tests/cudasim/selftest.cu), that the schedules change the thread order, and bit-exact fp16/bf16."""

import _simlib
import pytest
import torch

if _simlib.DEVICE == "cuda":
    pytest.skip("harness self-tests run in the simulation only", allow_module_level=True)


def selftest(name, schedule="forward"):
    torch.ops.cudasim.configure(schedule, 1)
    try:
        return torch.ops.cudasim.selftest(name)
    finally:
        torch.ops.cudasim.configure("forward", 0)


@pytest.mark.parametrize(
    "name,expected",
    [
        ("grid_y", "grid.y = 70000 outside [1, 65535]"),
        ("block_size", "block.x = 2048 outside [1, 1024]"),
        ("zero_grid", "grid.x = 0 outside"),
        ("grid_truncation", "grid.x = 4294967297 outside"),  # a GPU launch would truncate it to 1 block
        ("shmem", "dynamic shared memory 65536 bytes"),
        ("divergent_barrier", "barrier divergence: 16 threads wait at __syncthreads()"),
        ("two_barriers", "barrier divergence: thread"),
        ("big_shared", "static __shared__ memory of the block exceeds 48 KiB"),
        ("shared_overflow", "bytes past the end of a 128-byte __shared__ variable"),
        ("misaligned_atomic", "misaligned address in an atomic operation"),
    ],
)
def test_harness_reports(name, expected):
    msg = selftest(name)
    assert expected in msg, msg
    assert "selftest.cu:" in msg  # the launch site in the .cu source


def test_launch_errors_name_the_kernel_and_are_sticky_until_read():
    msg = selftest("grid_y")
    assert msg.startswith("invalid configuration argument (cudasim: nothing launched at")
    assert torch.ops.cudasim.take_pending_error() == ""  # the self-test read it with cudaGetLastError


def test_unwritten_shared_memory_reads_as_nan():
    vals = [float(v) for v in selftest("uninit_shared").split(",")]
    assert vals[:32] == [1.0] * 32
    assert all(v != v for v in vals[32:])


def test_schedules_expose_a_missing_barrier():
    fwd, rev = selftest("missing_barrier", "forward"), selftest("missing_barrier", "reverse")
    rnd = {selftest("missing_barrier", "random") for _ in range(2)}
    assert fwd != rev
    assert len(rnd) == 1  # the random order is a function of the seed


def test_fp16_bf16_conversions_are_bit_exact():
    g = torch.Generator().manual_seed(0)
    bits = torch.randint(-(2**31), 2**31, (200_000,), generator=g, dtype=torch.int64).to(torch.int32)
    x = torch.cat(
        [
            bits.view(torch.float32),
            torch.tensor(
                [0.0, -0.0, 65504.0, 65520.0, 65519.99, 2.0**-25, 2.0**-24, 3 * 2.0**-26, float("inf"), -float("inf")]
            ),
        ]
    )
    x = torch.cat([x, torch.randn(100_000, generator=g) * 1e-5, torch.randn(100_000, generator=g) * 1e4])
    for bf16, dt in [(False, torch.float16), (True, torch.bfloat16)]:
        ours = torch.ops.cudasim.to_half_bits(x, bf16)
        ref = x.to(dt).view(torch.int16)
        nan = x.isnan()
        assert torch.equal(ours[~nan], ref[~nan]), dt
        assert (ours[nan] == 0x7FFF).all()  # CUDA's canonical NaN
        every = torch.arange(-(2**15), 2**15, dtype=torch.int32).to(torch.int16)
        back = torch.ops.cudasim.from_half_bits(every, bf16)
        want = every.view(dt).float()
        keep = ~want.isnan()
        assert torch.equal(back[keep].view(torch.int32), want[keep].view(torch.int32)), dt
        assert back[~keep].isnan().all()
