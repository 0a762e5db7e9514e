import pytest
import torch

import torchauc

DEVICES = ["cpu"] + (["cuda"] if torch.cuda.is_available() and torchauc.cuda_available() else [])


@pytest.fixture(params=DEVICES)
def device(request):
    return request.param


def pytest_report_header(config):
    return f"torchauc devices: {DEVICES}; torch {torch.__version__}; threads {torch.get_num_threads()}"
