// Launchers of the CUDA AdAUC kernels (raw pointers only: shared by the nvcc-compiled .cu and the
// torch-facing glue).
#pragma once
#include <cuda_runtime.h>

#include <cstdint>

#include "core/dtype.h"

namespace torchauc::adauc {
namespace cuda {

// Doubles `partials` must hold for launch_adauc_loss.
int64_t adauc_partials_size(int64_t n);

// params = (a, b, alpha) as doubles on the device. Writes out[0..3] = (loss, grad_a, grad_b,
// grad_alpha) as doubles and, when grad_s is not null, d loss / d score (same dtype as s).
void launch_adauc_loss(Dtype dtype, const void* s, const int8_t* y, int64_t n, const double* params, double imratio,
                       double margin, int form, double* partials, double* out, void* grad_s, cudaStream_t stream);

// One PGD step over rows x cols elements (x, d, g, out contiguous, of the floating dtype).
void launch_pgd_step(Dtype dtype, int norm, const void* x, const void* d, const void* g, void* out, int64_t rows,
                     int64_t cols, double eps, double step, double lower, double upper, cudaStream_t stream);

}  // namespace cuda
}  // namespace torchauc::adauc
