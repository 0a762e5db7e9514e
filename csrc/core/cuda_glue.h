// What every family's CUDA glue shares (torch headers allowed): the map from at::ScalarType to the
// launchers' Dtype, and the checks that turn a failed launch or CUDA call into a Python error.
#pragma once
#include <ATen/ATen.h>
#include <cuda_runtime.h>

#include "core/dtype.h"

namespace torchauc {

// The Dtype of `t`'s elements; an unsupported dtype is a ValueError naming `name`.
inline Dtype dtype_of(const at::Tensor& t, const char* name) {
  switch (t.scalar_type()) {
    case at::kByte: return Dtype::U8;
    case at::kChar: return Dtype::I8;
    case at::kShort: return Dtype::I16;
    case at::kInt: return Dtype::I32;
    case at::kLong: return Dtype::I64;
    case at::kHalf: return Dtype::F16;
    case at::kBFloat16: return Dtype::BF16;
    case at::kFloat: return Dtype::F32;
    case at::kDouble: return Dtype::F64;
    default: TORCH_CHECK_VALUE(false, name, " has an unsupported dtype ", t.scalar_type());
  }
}

// Raises when a CUDA call returned an error, naming the op.
inline void check_cuda(cudaError_t err, const char* op) {
  TORCH_CHECK(err == cudaSuccess, "torchauc ", op, ": CUDA error: ", cudaGetErrorString(err));
}

// Raises when a kernel launched since the last check failed to launch (bad configuration, no
// kernel image for this device), naming the op. Every launcher call in the glue is followed by it.
inline void check_launch(const char* op) { check_cuda(cudaGetLastError(), op); }

}  // namespace torchauc
