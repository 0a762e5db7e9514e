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

}  // namespace cuda
}  // namespace torchauc::autkc
