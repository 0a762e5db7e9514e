// Forced include (-include) of every CUDA glue and schema file in the cudasim build: their
// TORCH_LIBRARY_FRAGMENT(torchauc, ...) and TORCH_LIBRARY_IMPL(torchauc, CUDA, ...) blocks register
// into the torchauc_cudasim namespace on the CPU key instead, so the unchanged glue runs the
// simulated kernels on CPU tensors beside the real torchauc ops.
#pragma once
#include <torch/library.h>

// core/labels.cpp: the device path of the label checks (the simulated tensors are CPU tensors)
#define TORCHAUC_CUDASIM_GLUE 1

#undef TORCH_LIBRARY_FRAGMENT
#define TORCH_LIBRARY_FRAGMENT(ns, m) _TORCH_LIBRARY_FRAGMENT(torchauc_cudasim, m, C10_UID)
#undef TORCH_LIBRARY_IMPL
#define TORCH_LIBRARY_IMPL(ns, k, m) _TORCH_LIBRARY_IMPL(torchauc_cudasim, CPU, m, C10_UID)
