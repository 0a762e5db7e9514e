#!/usr/bin/env bash
# `make gpu-check`: one call on a lent GPU machine (no network; torch, nvcc, cmake, ninja, pytest,
# hypothesis, scikit-learn there already), inside 8 minutes:
#   1. build against that torch with CUDA required, for this GPU's architecture only, all cores
#   2. check that every op has a CUDA kernel
#   3. the differential cases of tests/cudasim against the CPU kernels on the real GPU
#      (TORCHAUC_DIFF_DEVICE=cuda), then every loss op and every loss's forward + backward through the
#      public API under torch.cuda.set_sync_debug_mode("error") (tests/cudasim/test_host_syncs.py: no
#      host sync), then the whole test suite (every device test runs on cuda too)
#   4. the differential cases under compute-sanitizer memcheck, then racecheck
#   5. the quick GPU benchmarks, one family at a time
# and, after step 2, the CUDA wheel (incremental on the step-1 build; auditwheel-repaired when auditwheel
# is there), its file name (version +torchX.Y.cuNNN and platform tag) recorded in the report
# Each step has a time limit and appends its outcome and duration to $DEST/gpu-check-<gpu>.md as it
# ends, and every log goes to $DEST, so a run cut short still leaves its results. DEST is $OUT (the
# device tool's folder) or benchmarks/results/. GPU_CHECK_DRY=1 (the rehearsal on a machine without a
# GPU) runs the build and skips the steps that need a GPU.
set -uo pipefail
cd "$(dirname "$0")/.."
PY=${PYTHON:-python3}
DEST=${OUT:-benchmarks/results}
mkdir -p "$DEST"
export PYTHONUNBUFFERED=1
DRY=${GPU_CHECK_DRY:-0}
START=$(date +%s)
if [ "$DRY" = 1 ]; then
  GPU=dry-run
  ARCH=${GPU_ARCH:-90}
else
  GPU=$(nvidia-smi --query-gpu=name --format=csv,noheader | head -1 | tr ' ' '-')
  ARCH=$(nvidia-smi --query-gpu=compute_cap --format=csv,noheader | head -1 | tr -d '.')
fi
REPORT="$DEST/gpu-check-$GPU.md"
printf '# gpu-check on %s (sm_%s)\n\n| step | result | seconds |\n|---|---|---|\n' "$GPU" "$ARCH" >"$REPORT"
status=0

BUDGET=${GPU_CHECK_BUDGET:-470}  # seconds for all steps (the device tool allows 10 minutes a call)
# step NAME LIMIT_S CMD...: runs CMD with a time limit (never past the budget), logs to
# $DEST/gpu-check-NAME.log, reports.
step() {
  local name=$1 limit=$2
  shift 2
  local t0=$(date +%s) rc left=$(( BUDGET - ($(date +%s) - START) ))
  [ "$limit" -gt "$left" ] && limit=$left
  if [ "$limit" -lt 15 ]; then
    echo "| $name | not run (out of time) | 0 |" >>"$REPORT"
    status=1
    return 1
  fi
  echo "== $name (limit ${limit}s, $(( $(date +%s) - START ))s elapsed)"
  timeout --kill-after=10 "$limit" "$@" >"$DEST/gpu-check-$name.log" 2>&1
  rc=$?
  tail -5 "$DEST/gpu-check-$name.log"
  local result=ok
  [ $rc -eq 124 ] || [ $rc -eq 137 ] && result="timed out"
  [ $rc -ne 0 ] && [ "$result" = ok ] && result="failed (exit $rc)"
  [ $rc -ne 0 ] && status=1
  echo "| $name | $result | $(( $(date +%s) - t0 )) |" >>"$REPORT"
  return $rc
}
skip() { echo "| $1 | skipped (no GPU) | 0 |" >>"$REPORT"; }

nvidia-smi -L 2>/dev/null || true
step build "${GPU_CHECK_BUILD_LIMIT:-200}" env TORCHAUC_REQUIRE_CUDA=ON CMAKE_ARGS="-DCMAKE_CUDA_ARCHITECTURES=$ARCH" \
  CMAKE_BUILD_PARALLEL_LEVEL="$(nproc)" $PY -m pip install -v --no-build-isolation --no-deps --no-index . || exit 1
step registered 30 $PY -c '
import torch, torchauc
ops = torchauc.op_names()
missing = [n for n in ops if not torch._C._dispatch_has_kernel_for_dispatch_key(f"torchauc::{n}", "CUDA")]
print("torch", torch.__version__, "ops", ops)
assert torchauc.cuda_available() and not missing, f"CUDA kernels missing for {missing}"
' || exit 1
# The CUDA wheel from the build of step 1 (same CMAKE_ARGS: no reconfigure), repaired to a manylinux
# tag with torch's and CUDA's libraries excluded when auditwheel is installed; its name goes in the report.
cuda_wheel() {
  rm -rf "$DEST/wheel"
  step wheel 120 env TORCHAUC_REQUIRE_CUDA=ON CMAKE_ARGS="-DCMAKE_CUDA_ARCHITECTURES=$ARCH" \
    CMAKE_BUILD_PARALLEL_LEVEL="$(nproc)" $PY -m pip wheel --no-build-isolation --no-deps --no-index . \
    -w "$DEST/wheel/raw" || return
  if $PY -m auditwheel --version >/dev/null 2>&1; then
    step auditwheel 60 $PY -m auditwheel repair -w "$DEST/wheel" --exclude 'libtorch*.so' --exclude 'libc10*.so' \
      --exclude 'libgomp.so.1' --exclude 'libcudart.so.*' "$DEST"/wheel/raw/*.whl
  fi
  for w in "$DEST"/wheel/*.whl "$DEST"/wheel/raw/*.whl; do
    [ -e "$w" ] && echo "| wheel file | $(basename "$w") | - |" >>"$REPORT"
  done
}

DIFF="tests/cudasim/test_differential.py"
cuda_wheel  # early: the incremental rebuild takes seconds, and the tag is recorded even if a later step runs long
if [ "$DRY" = 1 ]; then
  for s in differential no-sync tests memcheck racecheck bench; do skip $s; done
  echo "dry run: $(( $(date +%s) - START ))s; $REPORT"
  exit $status
fi
export TORCHAUC_DIFF_DEVICE=cuda
step differential 60 $PY -m pytest -q -p no:cacheprovider "$DIFF"
step no-sync 45 $PY -m pytest -q -p no:cacheprovider tests/cudasim/test_host_syncs.py
step tests 120 $PY -m pytest -q -p no:cacheprovider --ignore=tests/cudasim tests
step memcheck 60 compute-sanitizer --tool memcheck --error-exitcode 3 $PY -m pytest -q -x -p no:cacheprovider "$DIFF"
step racecheck 45 compute-sanitizer --tool racecheck --error-exitcode 3 $PY -m pytest -q -x -p no:cacheprovider \
  "$DIFF" -k "pairwise or partial_auc_exp or multiclass"
for fam in $($PY -m torchauc.bench --list); do
  step "bench-$fam" 120 $PY benchmarks/run.py --device cuda --quick --only "$fam" --no-progress \
    --out "$DEST/gpu-$GPU-$fam.md"
done
echo "gpu-check: $(( $(date +%s) - START ))s, exit $status; $REPORT"
exit $status
