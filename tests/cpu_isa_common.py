"""The per-ISA CPU kernels (core/cpu_isa.h) in a subprocess with TORCHAUC_CPU_ISA set: how the tests run
the AVX2 and baseline clones on an AVX-512 machine ("best" = no cap)."""

import os
import subprocess
import sys

import torch


def run_with_isa(script, isa, inputs, tmp_path):
    """What `script` saves to argv[2] after reading `inputs` from argv[1], run with TORCHAUC_CPU_ISA=isa."""
    src, dst = tmp_path / "in.pt", tmp_path / f"out_{isa}.pt"
    torch.save(inputs, src)
    env = dict(os.environ, TORCHAUC_CPU_ISA=isa)
    subprocess.run([sys.executable, "-c", script, str(src), str(dst)], env=env, check=True)
    return torch.load(dst)
