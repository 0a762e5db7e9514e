"""Fake (shape-only) impls and autograd registrations, one module per op family."""
from . import pairwise  # noqa: F401
from . import memory_bank  # noqa: F401
