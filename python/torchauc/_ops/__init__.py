"""Fake (shape-only) impls of the compiled ops, one module per op family (``_ops/<family>.py``; their
autograd is C++: csrc/<family>/autograd.cpp); every module here is imported, so a new family only adds its file."""

import importlib
import pkgutil

for _module in pkgutil.iter_modules(__path__):
    importlib.import_module(f"{__name__}.{_module.name}")
