// CUDA kernels of autkc_topk (one thread per row runs the insertion of math.h, its list kept in the
// output (indices) and a float64 scratch (values) in global memory, so k has no compile-time cap) and
// of autkc_loss_rows (one thread per row runs loss_math.h's autkc_row over global scratch rows).
#include <type_traits>

#include "autkc/cuda.h"
#include "autkc/loss_math.h"
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

template <typename T, typename Acc>
__global__ void loss_rows_kernel(const T* logits, const int32_t* labels, int64_t B, int64_t C, int64_t k, int64_t m,
                                 Surrogate sur, T* loss, T* grad, Acc* p, double* vals, int64_t* cols, double* g,
                                 double grad_scale) {
  for (int64_t b = blockIdx.x * int64_t(blockDim.x) + threadIdx.x; b < B; b += int64_t(gridDim.x) * blockDim.x) {
    const T* row = logits + b * C;
    T* grow = grad ? grad + b * C : nullptr;
    const auto ld = [row](int64_t j) { return static_cast<Acc>(load(row, j)); };
    const auto st = [grow, s = static_cast<Acc>(grad_scale)](int64_t j, double v) {
      store(grow, j, reduced_grad(v, s));
    };
    store(loss, b,
          autkc_row(ld, C, labels[b], m, k, sur, grow != nullptr, st, p + b * C, vals + b * m, cols + b * m,
                    g + b * (m + 1)));
  }
}

}  // namespace

cudaError_t launch_loss_rows(const void* logits, Dtype type, const int32_t* labels, int64_t B, int64_t C, int64_t k,
                             int64_t m, int surrogate, void* loss, void* grad, void* p, double* vals, int64_t* cols,
                             double* g, double grad_scale, cudaStream_t stream) {
  if (B == 0) return cudaSuccess;
  visit_floating(type, [&](auto tag) {
    using T = typename decltype(tag)::type;
    using Acc = std::conditional_t<std::is_same_v<T, double>, double, float>;  // what load() returns
    loss_rows_kernel<T, Acc><<<grid_for(B), kThreads, 0, stream>>>(
        static_cast<const T*>(logits), labels, B, C, k, m, static_cast<Surrogate>(surrogate), static_cast<T*>(loss),
        static_cast<T*>(grad), static_cast<Acc*>(p), vals, cols, g, grad_scale);
  });
  return cudaGetLastError();
}

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
