// Launchers of the CUDA AUROC metric kernels (raw pointers, sizes, a stream; no torch types).
#pragma once
#include <cuda_runtime.h>

#include <cstddef>
#include <cstdint>

#include "core/dtype.h"

namespace torchauc::auroc {
namespace cuda {

// Device scratch memory comes from the caller (the glue hands out torch allocations).
struct ScratchAllocator {
  virtual void* allocate(size_t bytes) = 0;
  // Hands every allocation back (stream-ordered: later kernels on the same stream may reuse it).
  virtual void release_all() = 0;
  virtual ~ScratchAllocator() = default;
};

// Columns k in [0, K) of n samples each; element (k, i) of the scores lives at
// ((i / M) * K + k) * M + i % M, i.e. (B, K, M) with n = B * M ((n, K) is M = 1).
// Groups: binary (y01 != nullptr): group of (k, i) = y01[i * K + k] in {0, 1}, positive group 1;
// multiclass (cls != nullptr): group = cls[i] in [0, G) or -1 (ignored), positive group of column k is k.
// weights: per sample (nullptr = 1). Outputs U[k * G + j] = sum_{p in pos(k), q in j} w_p w_q H(s_pk - s_qk)
// (U[k * G + pos(k)] = 0) and W[k * G + j] = total weight of group j, both zeroed by the caller.
// deterministic: fixed-order reductions instead of float atomics.
struct RankTableArgs {
  const void* scores;
  Dtype type;
  int64_t n, K, M, G;
  const int8_t* y01;
  const int32_t* cls;
  const double* weights;
  double* U;
  double* W;
  bool deterministic;
};
cudaError_t auroc_rank_table(const RankTableArgs& a, ScratchAllocator& alloc, cudaStream_t stream);

// One column (n,) of scores with 0/1 labels and optional weights: the area under the ROC curve over
// FPR in [0, max_fpr] (linear inside tie groups, interpolated at max_fpr) into *area, and the
// class weight totals into totals[0] (positives), totals[1] (negatives).
cudaError_t auroc_partial_area(const void* scores, Dtype type, int64_t n, const int8_t* y01, const double* weights,
                               double max_fpr, double* area, double* totals, ScratchAllocator& alloc,
                               cudaStream_t stream);

// Columns k in [0, K) of n samples ((n, K) layout) with 0/1 labels y01 (n, K) and optional weights
// (n,): out[k * 3 + 0] = sum over tie groups of d_tp * precision, out[k * 3 + 1] = positive weight,
// out[k * 3 + 2] = negative weight. Fixed-order reductions (deterministic).
cudaError_t auroc_average_precision(const void* scores, Dtype type, int64_t n, int64_t K, const int8_t* y01,
                                    const double* weights, double* out, ScratchAllocator& alloc, cudaStream_t stream);

}  // namespace cuda
}  // namespace torchauc::auroc
