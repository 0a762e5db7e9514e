"""What the differential tests compare. Default: torch.ops.torchauc (the CPU kernels, _C.so of the
installed package, loaded without importing the Python package) against torch.ops.torchauc_cudasim
(the CUDA glue and kernels run on the CPU by csrc/cudasim, built by `make test-cuda-sim` into
build/cudasim/; TORCHAUC_CUDASIM_LIB points elsewhere, e.g. at a mutant). With
TORCHAUC_DIFF_DEVICE=cuda (benchmarks/gpu.sh on a GPU machine) the same cases compare the CPU
kernels against the real CUDA kernels instead."""

import importlib.util
import os
from pathlib import Path

import pytest
import torch

ROOT = Path(__file__).resolve().parents[2]
LIB = Path(os.environ.get("TORCHAUC_CUDASIM_LIB", ROOT / "build" / "cudasim" / "libtorchauc_cudasim.so"))
DEVICE = os.environ.get("TORCHAUC_DIFF_DEVICE", "sim")
_loaded = False


def load():
    global _loaded
    if _loaded:
        return
    if not hasattr(torch.ops.torchauc, "pairwise_auc_loss"):
        spec = importlib.util.find_spec("torchauc")
        folder = next(iter(spec.submodule_search_locations))
        torch.ops.load_library(next(str(p) for p in sorted(Path(folder).glob("_C*.so"))))
    if DEVICE == "cuda":
        if not torch.cuda.is_available():
            pytest.skip("TORCHAUC_DIFF_DEVICE=cuda but no GPU", allow_module_level=True)
    elif not LIB.exists():
        if os.environ.get("TORCHAUC_CUDASIM_REQUIRED"):
            raise FileNotFoundError(f"CUDA simulation library {LIB} not built (make test-cuda-sim)")
        pytest.skip(f"CUDA simulation library not built ({LIB}); run `make test-cuda-sim`", allow_module_level=True)
    else:
        torch.ops.load_library(str(LIB))
    _loaded = True


def cuda_op_names():
    """Every op with a CUDA kernel: the ops of the simulated library, or on a GPU the torchauc ops
    with a CUDA kernel registered."""
    names = {n.split("::")[1].split(".")[0] for n in torch._C._dispatch_get_all_op_names()}
    if DEVICE == "cuda":
        return sorted(n for n in names if torch._C._dispatch_has_kernel_for_dispatch_key(f"torchauc::{n}", "CUDA"))
    # every schema is re-registered under torchauc_cudasim; a CPU-only op (e.g. ap_loss_step) has no glue there
    return sorted(
        n.split("::")[1].split(".")[0]
        for n in torch._C._dispatch_get_all_op_names()
        if n.startswith("torchauc_cudasim::") and torch._C._dispatch_has_kernel_for_dispatch_key(n, "CPU")
    )


def _to(x, device):
    if isinstance(x, torch.Tensor):
        return x.to(device)
    if isinstance(x, (tuple, list)):
        return type(x)(_to(v, device) for v in x)
    return x


def call_cuda(name, args):
    """The op's CUDA implementation on args (CPU tensors): (outputs, the tensor arguments after the
    call, for ops that write in place), all on the CPU."""
    if DEVICE == "cuda":
        dev = tuple(_to(a, "cuda") for a in args)
        out = getattr(torch.ops.torchauc, name)(*dev)
        return _to(out, "cpu"), [a.cpu() for a in tensors_of(dev)]
    out = getattr(torch.ops.torchauc_cudasim, name)(*args)
    return out, tensors_of(args)


def tensors_of(args):
    """The tensor arguments, tensor lists flattened: what an op may have written in place."""
    flat = []
    for a in args:
        flat.extend(a if isinstance(a, list) else [a])
    return [a for a in flat if isinstance(a, torch.Tensor)]


def seed():
    """The random schedule's seed: TORCHAUC_CUDASIM_SEED, else a fresh one per session (in test ids)."""
    return int(os.environ.get("TORCHAUC_CUDASIM_SEED", int.from_bytes(os.urandom(3), "little")))
