// Launcher of the CUDA top-k selection kernel (raw pointers only, no torch types).
#pragma once
#include <cuda_runtime.h>

#include <cstdint>

#include "core/dtype.h"

namespace torchauc::autkc {
namespace cuda {

// scores (B, C) contiguous of dtype `type`, labels int32 (B,); out int64 (B, k), vals float64 (B, k)
// scratch. One thread per row (rows are independent and k is small).
cudaError_t launch_topk(const void* scores, Dtype type, const int32_t* labels, int64_t B, int64_t C, int64_t k,
                        double margin, bool include_label, int64_t* out, double* vals, cudaStream_t stream);

// autkc_loss_rows: logits (B, C) contiguous of dtype `type`, labels int32 (B,); loss (B,) and, when
// grad is not null, grad (B, C) in that dtype, each row's gradient times grad_scale. Scratch: p (B, C) in the
// accumulation type (float, or double for F64), vals and cols (B, m), g (B, m + 1). One thread per row.
cudaError_t launch_loss_rows(const void* logits, Dtype type, const int32_t* labels, int64_t B, int64_t C, int64_t k,
                             int64_t m, int surrogate, void* loss, void* grad, void* p, double* vals, int64_t* cols,
                             double* g, double grad_scale, cudaStream_t stream);

}  // namespace cuda
}  // namespace torchauc::autkc
