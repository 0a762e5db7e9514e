"""Build-system behaviour that users rely on: loud failures instead of silent CPU-only builds."""

import os
import shutil
import subprocess
import sys
from pathlib import Path

import torch

ROOT = Path(__file__).resolve().parents[1]


def configure(tmp_path, *defines, python=sys.executable):
    bindir = os.path.dirname(sys.executable)
    cmake = shutil.which("cmake", path=bindir) or shutil.which("cmake")
    env = dict(os.environ, PATH=bindir + os.pathsep + os.environ.get("PATH", ""))
    cmd = [cmake, "-S", str(ROOT), "-B", str(tmp_path / "b"), f"-DPython_EXECUTABLE={python}", *defines]
    return subprocess.run(cmd, capture_output=True, text=True, env=env, timeout=300)


def test_require_cuda_is_loud(tmp_path):
    res = configure(tmp_path, "-DTORCHAUC_REQUIRE_CUDA=ON")
    can_build_cuda = bool(torch.version.cuda) and shutil.which("nvcc") is not None
    if can_build_cuda:
        assert res.returncode == 0, res.stdout + res.stderr
    else:
        assert res.returncode != 0
        assert "TORCHAUC_REQUIRE_CUDA is on but CUDA kernels cannot be built" in res.stdout + res.stderr


def test_build_without_torch_says_how(tmp_path):
    # an isolated build runs CMake with an interpreter that has no torch: it must stop at once and
    # tell the user to build with --no-build-isolation
    bare = tmp_path / "bare-venv"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(bare)], check=True, timeout=120)
    res = configure(tmp_path, python=str(bare / "bin" / "python"))
    assert res.returncode != 0
    assert "--no-build-isolation" in res.stdout + res.stderr
