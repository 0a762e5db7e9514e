"""Python-side argument checks shared by functional losses and metrics (C++ re-checks values)."""
import torch

SURROGATES = ("square", "exp", "hinge", "squared_hinge", "logistic", "sigmoid")
REDUCTIONS = ("mean", "sum")


def tensor(x, name):
    if not isinstance(x, torch.Tensor):
        raise TypeError(f"{name} must be a torch.Tensor, got {type(x).__name__}")
    return x


def optional_tensor(x, name):
    return None if x is None else tensor(x, name)


def choice(value, options, name):
    if value not in options:
        raise ValueError(f"{name} must be one of {', '.join(map(repr, options))}; got {value!r}")
    return value


def finite_float(value, name):
    try:
        v = float(value)
    except (TypeError, ValueError):
        raise TypeError(f"{name} must be a real number, got {type(value).__name__}") from None
    if v != v or v in (float("inf"), float("-inf")):
        raise ValueError(f"{name} must be finite, got {value}")
    return v


def needs_grad(*tensors):
    """Whether a fused op must also compute gradients (static under torch.compile)."""
    return torch.is_grad_enabled() and any(t is not None and t.requires_grad for t in tensors)


# ---- multiclass / pixel-level AUC loss (multiclass branch)
MC_SURROGATES = ("square", "exp", "hinge", "linear")
MC_MODES = ("ovo", "ova")
MC_NORMALIZATIONS = ("present", "xcurve")
MC_ACTIVATIONS = ("none", "sigmoid")


def optional_int(value, name):
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int):
        raise TypeError(f"{name} must be an int or None, got {type(value).__name__}")
    return value
