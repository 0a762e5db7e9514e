"""Benchmark harness shared by every benchmarks/bench_*.py module.

A module exposes ``cases(device, quick)`` returning ``Case`` objects: one op at one size, our
implementation and named baselines (callables that run forward+backward, or whatever the case times).
Each callable is timed in this process (median of repeats after a warm-up; a call shorter than
``MIN_SAMPLE_S`` is timed in batches, see :func:`measure`) with its peak memory, and
``check`` (if given) compares the values so a speed-up never hides a wrong number. ``floor`` (if
given, built with :mod:`.floors` from the case's own inputs) is the least work of the op's kind,
timed beside it: the table prints it and ours / floor."""

import dataclasses
import math
import os
import platform
import statistics
import time
from collections.abc import Callable
from typing import Any

import torch


@dataclasses.dataclass
class Case:
    family: str
    op: str
    size: str
    ours: Callable[[], object]
    baselines: dict[str, Callable[[], object] | None]
    repeats: int = 5
    note: str = ""
    # a baseline set to None is reported as skipped (too large to run here), with `skip_reason`
    skip_reason: str = "pair matrix too large"
    # relative tolerance for value agreement of every baseline with ours (None: no check)
    rtol: float | None = 1e-4
    # repeats for the baselines (default min(repeats, 3)); 1 times a single cold call, for baselines
    # that take minutes or gigabytes
    baseline_repeats: int | None = None
    # the floor of this op on these inputs (floors.elementwise / radix_sort / fma), timed in the same
    # run with `repeats`; None: no floor column for this row
    floor: Callable[[], object] | None = None
    # pairs this case evaluates (tiled pairwise ops): the table's note adds ours in pairs per second
    pairs: int | None = None


def _rss_kib(field):
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith(field):
                return int(line.split()[1])
    return 0


def _reset_peak():
    try:
        with open("/proc/self/clear_refs", "w") as f:
            f.write("5")  # resets VmHWM (peak RSS) of this process
    except OSError:
        pass


def _peak_start(device):
    if device == "cuda":
        torch.cuda.synchronize()
        torch.cuda.reset_peak_memory_stats()
        return torch.cuda.memory_allocated()
    _reset_peak()
    return _rss_kib("VmRSS:") * 1024


def _peak_end(device, base):
    if device == "cuda":
        return max(torch.cuda.max_memory_allocated() - base, 0)
    return max(_rss_kib("VmHWM:") * 1024 - base, 0)


# A timed sample lasts at least this long: a sub-millisecond call timed alone is at the mercy of the
# scheduler on a shared machine (one preemption or a sleeping worker thread doubles it), so such calls
# are timed in batches and each sample is the batch's mean per call.
MIN_SAMPLE_S = 0.02
# The most calls in one sample (a no-op would otherwise be called millions of times).
MAX_CALLS_PER_SAMPLE = 10_000


def _sync(device):
    if device == "cuda":
        torch.cuda.synchronize()


def _timed(fn, device, calls=1):
    """Seconds per call of ``calls`` back-to-back calls of fn, and the last value."""
    t0 = time.perf_counter()
    value = fn()
    for _ in range(calls - 1):
        value = fn()
    _sync(device)
    return (time.perf_counter() - t0) / calls, value


def calls_per_sample(seconds_per_call: float) -> int:
    """How many calls one sample times so that it lasts MIN_SAMPLE_S."""
    if seconds_per_call >= MIN_SAMPLE_S:
        return 1
    return min(MAX_CALLS_PER_SAMPLE, math.ceil(MIN_SAMPLE_S / max(seconds_per_call, 1e-9)))


def measure(fn: Callable[..., Any], repeats: int, device: torch.device | str | None) -> tuple[float, Any, Any]:
    """Median seconds per call and peak extra memory (bytes) of fn(); also returns its first value.
    repeats == 1 times one cold call (no warm-up). Otherwise the first call (the value) and one timed
    call are the warm-up, which also sizes the samples: each of the ``repeats`` samples times enough
    back-to-back calls to last MIN_SAMPLE_S (one call when a call is longer), and one such untimed
    batch first brings caches, allocator and worker threads to their steady state."""
    if repeats <= 1:
        base = _peak_start(device)
        elapsed, value = _timed(fn, device)
        return elapsed, _peak_end(device, base), value
    value = fn()  # warm-up (also the value used for the agreement check)
    calls = calls_per_sample(_timed(fn, device)[0])
    if calls > 1:
        _timed(fn, device, calls)
    base = _peak_start(device)
    times = [_timed(fn, device, calls)[0] for _ in range(repeats)]
    return statistics.median(times), _peak_end(device, base), value


def as_float(v: Any) -> float:
    if isinstance(v, torch.Tensor):
        return float(v.detach().double().reshape(-1)[0])
    if isinstance(v, (tuple, list)):
        return as_float(v[0])
    return float(v)


def machine_name(device: torch.device | str | None) -> str:
    if device == "cuda":
        return torch.cuda.get_device_name().replace(" ", "-")
    model = platform.processor() or "cpu"
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    model = line.split(":", 1)[1].strip()
                    break
    except OSError:
        pass
    return f"{model.replace(' ', '-')}-{os.cpu_count()}cores"


def fmt_time(t: float | None) -> str:
    if t is None:
        return "-"
    return f"{t * 1e3:.3g} ms" if t < 1 else f"{t:.3g} s"


def fmt_mem(b: float | None) -> str | None:
    if b is None:
        return "-"
    for unit in ("B", "KiB", "MiB", "GiB"):
        if b < 1024 or unit == "GiB":
            return f"{b:.0f} {unit}" if unit == "B" else f"{b:.1f} {unit}"
        b /= 1024
