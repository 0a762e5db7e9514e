"""Fake (shape-only) impls and autograd registrations, one module per op family."""
from . import pairwise  # noqa: F401
from . import pauc  # noqa: F401  (partial AUC family)
from . import memory_bank  # noqa: F401
from . import multiclass  # noqa: F401  (multiclass branch)
from . import metrics  # noqa: F401  (AUROC metric ops, issue 3)
