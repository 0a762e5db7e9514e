// CUDA kernel of autkc_topk: one thread per row runs the insertion of math.h, its list kept in the
// output (indices) and a float64 scratch (values) in global memory, so k has no compile-time cap.
#include "autkc/cuda.h"
#include "autkc/math.h"
#include "core/launch.cuh"

namespace torchauc::autkc {
namespace cuda {
namespace {

template <typename T>
__global__ void topk_kernel(const T* scores, const int32_t* labels, int64_t B, int64_t C, int64_t k, double margin,
                            bool include_label, int64_t* out, double* vals) {
  for (int64_t b = blockIdx.x * int64_t(blockDim.x) + threadIdx.x; b < B; b += int64_t(gridDim.x) * blockDim.x) {
    const T* row = scores + b * C;
    row_topk([row](int64_t j) { return static_cast<double>(load(row, j)); }, C, labels[b], k, margin, include_label,
             vals + b * k, out + b * k);
  }
}

}  // namespace

cudaError_t launch_topk(const void* scores, Dtype type, const int32_t* labels, int64_t B, int64_t C, int64_t k,
                        double margin, bool include_label, int64_t* out, double* vals, cudaStream_t stream) {
  if (B == 0 || k == 0) return cudaSuccess;
  visit_floating(type, [&](auto tag) {
    using T = typename decltype(tag)::type;
    topk_kernel<T><<<grid_for(B), kThreads, 0, stream>>>(static_cast<const T*>(scores), labels, B, C, k, margin,
                                                         include_label, out, vals);
  });
  return cudaGetLastError();
}

}  // namespace cuda
}  // namespace torchauc::autkc
