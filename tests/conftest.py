import os

import pytest
import torch
from hypothesis import settings

import torchauc

# CI replays the same generated examples on every run (a red CI blocks landing, so a new
# counterexample must come from a developer's run, where examples stay random, not from chance).
settings.register_profile("ci", derandomize=True, print_blob=True)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "default"))

DEVICES = ["cpu"] + (["cuda"] if torch.cuda.is_available() and torchauc.cuda_available() else [])


@pytest.fixture(params=DEVICES)
def device(request):
    return request.param


def pytest_report_header(config):
    return f"torchauc devices: {DEVICES}; torch {torch.__version__}; threads {torch.get_num_threads()}"
