// Launchers of the CUDA AUC-M kernels (raw pointers only: shared by the nvcc-compiled .cu and the
// torch-facing glue).
#pragma once
#include <cuda_runtime.h>

#include <cstdint>

#include "core/dtype.h"

namespace torchauc::aucm {
namespace cuda {

// Doubles `work` must hold for the launchers over a (rows, cols) batch.
int64_t aucm_work_size(int64_t rows, int64_t cols);

// The batch's moments vector (aucm_moments: 6 cols + 1 doubles) into `out`. s: rows x cols of the
// floating `dtype`; y: the labels, of the same dtype or (labels_double) double.
void launch_aucm_moments(Dtype dtype, bool labels_double, const void* s, const void* y, int64_t rows, int64_t cols,
                         double* work, double* out, cudaStream_t stream);

// The fused loss: params (5, cols) doubles (aucm/math.h LabelParams rows); moments: a moments vector
// of a larger batch, or null for this batch's. Writes out[0] = the weighted loss, out[1 ..) =
// grad_a, grad_b, grad_alpha (cols each), and d loss / d score into grad_s unless it is null.
void launch_aucm_loss(Dtype dtype, bool labels_double, const void* s, const void* y, int64_t rows, int64_t cols,
                      const double* params, const double* moments, double margin, bool v2, bool batch_prior,
                      double* work, double* out, void* grad_s, cudaStream_t stream);

}  // namespace cuda
}  // namespace torchauc::aucm
