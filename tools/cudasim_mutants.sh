#!/usr/bin/env bash
# Proof that the CUDA simulation suite catches kernel bugs: builds the simulation library with one
# deliberate bug in core/launch.cuh's block_reduce (tools/cudasim_mutate.py: a deleted
# __syncthreads(), a bound widened by one), runs the differential cases of the kernels that use it,
# and fails unless every mutant is caught (some test fails). Also checks that the TSan driver
# reports the missing barrier of tests/cudasim/selftest.cu as a race between named CUDA threads.
# Usage: tools/cudasim_mutants.sh BUILD_DIR PYTHON
set -uo pipefail
build=$1 py=$2
status=0
for m in missing_barrier wide_bound; do
  cmake --build "$build" --target "torchauc_cudasim_mutant_$m" >/dev/null || { echo "mutant $m: build failed"; exit 1; }
  out=$(TORCHAUC_CUDASIM_LIB="$build/libtorchauc_cudasim_mutant_$m.so" TORCHAUC_CUDASIM_REQUIRED=1 \
        "$py" -m pytest -q -p no:cacheprovider tests/cudasim/test_differential.py \
        -k "pairwise_auc_loss and (square or exp) or partial_auc_exp_rows" 2>&1)
  rc=$?
  summary=$(echo "$out" | tail -1)
  if [ $rc -eq 1 ]; then
    echo "mutant $m: caught ($summary)"
  else
    echo "mutant $m: NOT caught (pytest exit $rc: $summary)"
    status=1
  fi
done
out=$("$build/cudasim_driver_tsan" --selftest missing_barrier 2>&1)
if echo "$out" | grep -q "WARNING: ThreadSanitizer: data race" && echo "$out" | grep -q "cuda block (0,0,0) thread"; then
  echo "tsan: missing barrier reported as a race between CUDA threads"
else
  echo "tsan: the missing barrier of selftest.cu was NOT reported"
  echo "$out" | tail -20
  status=1
fi
exit $status
