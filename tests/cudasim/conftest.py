import _simlib
import pytest
import torch

_simlib.load()
SEED = _simlib.seed()
SCHEDULES = ["gpu"] if _simlib.DEVICE == "cuda" else ["forward", "reverse", f"random-{SEED}"]


@pytest.fixture(params=SCHEDULES)
def schedule(request):
    """Every simulated launch of the test runs under this schedule (thread and block order)."""
    if request.param == "gpu":
        yield "gpu"
        return
    name, _, seed = request.param.partition("-")
    torch.ops.cudasim.configure(name, int(seed or 0))
    yield request.param
    torch.ops.cudasim.configure("forward", 0)


def pytest_report_header(config):
    if _simlib.DEVICE == "cuda":
        return "differential cases: CPU kernels vs the real CUDA kernels"
    return f"cudasim: {_simlib.LIB}; random schedule seed {SEED} (TORCHAUC_CUDASIM_SEED={SEED} to repeat)"
