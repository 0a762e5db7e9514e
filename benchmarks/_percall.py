"""Timing helpers shared by the per-call benchmarks (percall_*.py): batched medians of sub-millisecond calls."""

import statistics
import time


def per_call_us(fn, batch_s=0.02, batches=9):
    """Median over `batches` of the mean time of one call in a batch of >= batch_s seconds."""
    fn()
    reps, t = 1, 0.0
    while t < batch_s:
        reps *= 2
        t0 = time.perf_counter()
        for _ in range(reps):
            fn()
        t = time.perf_counter() - t0
    out = []
    for _ in range(batches):
        t0 = time.perf_counter()
        for _ in range(reps):
            fn()
        out.append((time.perf_counter() - t0) / reps * 1e6)
    return statistics.median(out)


def fwd_bwd(loss_fn, *leaves):
    """One forward+backward on the given leaves (their .grad reset every call)."""

    def run():
        for t in leaves:
            t.grad = None
        loss_fn().backward()

    return run
