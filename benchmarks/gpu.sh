#!/usr/bin/env bash
# One call on a GPU machine (no network; torch, pytest, hypothesis, scikit-learn there already):
# build against that torch with CUDA required, check the CUDA kernels are registered, run the whole
# test suite (every device-parametrised test runs on cuda too), then the GPU benchmarks.
# Results go to $OUT (the device tool's folder) or benchmarks/results/.
set -euo pipefail
cd "$(dirname "$0")/.."
PY=${PYTHON:-python3}
DEST=${OUT:-benchmarks/results}
mkdir -p "$DEST"
export PYTHONUNBUFFERED=1
nvidia-smi -L || true
TORCHAUC_REQUIRE_CUDA=ON $PY -m pip install -q --no-build-isolation --no-deps --no-index . 2>&1 | tail -5
$PY - <<'PY'
import torch, torchauc
ops = torchauc.op_names()
missing = [n for n in ops if not torch._C._dispatch_has_kernel_for_dispatch_key(f"torchauc::{n}", "CUDA")]
print("torch", torch.__version__, "device", torch.cuda.get_device_name(), "ops", ops)
assert torchauc.cuda_available() and not missing, f"CUDA kernels missing for {missing}"
PY
set +e
$PY -m pytest -q -x -p no:cacheprovider tests 2>&1 | tee "$DEST/gpu-tests.log" | tail -25
tests_rc=${PIPESTATUS[0]}
set -e
$PY benchmarks/run.py --device cuda ${BENCH_ARGS:-} --out "$DEST/gpu-$($PY -c 'import torch; print(torch.cuda.get_device_name().replace(" ", "-"))').md"
exit "$tests_rc"
