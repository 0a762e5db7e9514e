#!/usr/bin/env python3
"""Writes a copy of a kernel source with one deliberate bug, for the check that the CUDA simulation
suite catches such bugs (tools/cudasim_mutants.sh). Each mutation must match exactly once.

Usage: cudasim_mutate.py MUTATION SRC DST
"""

import os
import sys

MUTATIONS = {
    # block_reduce (core/launch.cuh) without the barrier between two levels of its tree
    "missing_barrier": (
        "    if (threadIdx.x < w) sh[threadIdx.x] = op(sh[threadIdx.x], sh[threadIdx.x + w]);\n    __syncthreads();\n",
        "    if (threadIdx.x < w) sh[threadIdx.x] = op(sh[threadIdx.x], sh[threadIdx.x + w]);\n",
    ),
    # block_reduce with its active-thread bound widened by one (reads past the shared array)
    "wide_bound": (
        "    if (threadIdx.x < w) sh[threadIdx.x]",
        "    if (threadIdx.x <= w) sh[threadIdx.x]",
    ),
}

name, src, dst = sys.argv[1:4]
old, new = MUTATIONS[name]
text = open(src).read()
if text.count(old) != 1:
    sys.exit(f"cudasim_mutate: mutation {name!r} matches {text.count(old)} times in {src} (expected 1)")
os.makedirs(os.path.dirname(dst), exist_ok=True)
with open(dst, "w") as f:
    f.write(text.replace(old, new))
