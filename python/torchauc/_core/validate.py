"""Python-side argument checks shared by every loss and metric; each error names the argument.
C++ re-checks shapes and values (labels, sizes) where the data is."""

import math

import torch

from . import devices


def tensor(x, name):
    if not isinstance(x, torch.Tensor):
        raise TypeError(f"{name} must be a torch.Tensor, got {type(x).__name__}")
    return x


def optional_tensor(x, name):
    return None if x is None else tensor(x, name)


def option(value, opt):
    """value if it is one of the choices of ``opt`` (an entry of options.TABLE), else ValueError."""
    if value not in opt.choices:
        raise ValueError(f"{opt.name} must be one of {', '.join(map(repr, opt.choices))}; got {value!r}")
    return value


def finite_float(value, name):
    try:
        v = float(value)
    except (TypeError, ValueError):
        raise TypeError(f"{name} must be a real number, got {type(value).__name__}") from None
    if not math.isfinite(v):
        raise ValueError(f"{name} must be finite, got {value}")
    return v


def fraction(value, name, low_open=False, high_open=False):
    """A float in [0, 1]; low_open / high_open exclude 0 / 1."""
    v = finite_float(value, name)
    if v < 0.0 or v > 1.0 or (low_open and v == 0.0) or (high_open and v == 1.0):
        raise ValueError(f"{name} must be in {'(' if low_open else '['}0, 1{')' if high_open else ']'}, got {value}")
    return v


def optional_int(value, name):
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int):
        raise TypeError(f"{name} must be an int or None, got {type(value).__name__}")
    return value


# The ops take ignore_index as an int; this value, which no label of any real dtype reaches, means
# "ignore nothing".
NO_IGNORE = -(2**62)


def ignore_arg(ignore_index):
    """ignore_index (int or None) as the ops take it."""
    return NO_IGNORE if ignore_index is None else int(ignore_index)


def needs_grad(*tensors):
    """Whether a fused op must also compute gradients (static under torch.compile). A loop, not
    ``any`` over a generator: this runs on every loss call."""
    if not torch.is_grad_enabled():
        return False
    for t in tensors:
        if t is not None and t.requires_grad:
            return True
    return False


def data_check(ok, message):
    """A check of the data, ``ok`` a 0-dim bool tensor: a ``ValueError(message)`` where reading the verdict
    on the host is free (CPU), a device-side assert otherwise (CUDA: no host sync; a failed check stops the
    stream at the next synchronisation)."""
    if not devices.host_reads_free(ok):
        torch.ops.aten._assert_async.msg(ok, message + " (device-side check)")
    elif not bool(ok):
        raise ValueError(message)


def index_range(index, size, message):
    """Every entry of the integer tensor ``index`` in [0, size), a :func:`data_check`."""
    data_check(((index >= 0) & (index < size)).all(), message)
