"""The benchmark timer (torchauc.bench.harness.measure): sub-sample calls are timed in batches (a
single sub-millisecond call is within the scheduler's noise), long ones and cold baselines one call
at a time, and the value returned is the first call's."""

import itertools

from torchauc.bench import harness


def _counting(value_of_call):
    calls = itertools.count()

    def fn():
        return value_of_call(next(calls))

    return fn, calls


def test_fast_calls_are_timed_in_batches(monkeypatch):
    monkeypatch.setattr(harness, "MIN_SAMPLE_S", 1.0)  # every call is far below a 1 s sample
    monkeypatch.setattr(harness, "MAX_CALLS_PER_SAMPLE", 50)
    fn, calls = _counting(lambda i: i)
    seconds, _, value = harness.measure(fn, 3, "cpu")
    # warm-up value, one sizing call, one untimed batch, then 3 timed batches of 50 calls each
    assert value == 0 and next(calls) == 1 + 1 + 50 + 3 * 50
    assert 0 < seconds < 1.0


def test_slow_calls_are_timed_one_at_a_time(monkeypatch):
    monkeypatch.setattr(harness, "MIN_SAMPLE_S", 0.0)  # every call is a sample of its own
    fn, calls = _counting(lambda i: i)
    harness.measure(fn, 5, "cpu")
    assert next(calls) == 1 + 1 + 5


def test_one_repeat_is_one_cold_call(monkeypatch):
    monkeypatch.setattr(harness, "MIN_SAMPLE_S", 1.0)
    fn, calls = _counting(lambda i: i + 7)
    _, _, value = harness.measure(fn, 1, "cpu")
    assert value == 7 and next(calls) == 1


def test_calls_per_sample():
    assert harness.calls_per_sample(harness.MIN_SAMPLE_S) == 1
    assert harness.calls_per_sample(2 * harness.MIN_SAMPLE_S) == 1
    assert harness.calls_per_sample(harness.MIN_SAMPLE_S / 4) == 4
    assert harness.calls_per_sample(0.0) == harness.MAX_CALLS_PER_SAMPLE
