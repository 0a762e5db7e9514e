"""Fake (shape-only) impls and autograd registrations, one module per op family."""
from . import pairwise  # noqa: F401
from . import metrics  # noqa: F401  (AUROC metric ops, issue 3)
