// CUDA kernel of grouped_pair_sums: one block per query (grid-stride over
// queries), its threads stride over the query's group of items, a shared-memory
// tree reduction in double. Deterministic, no atomics.
#include "core/launch.cuh"
#include "pair_sums/cuda.h"
#include "pair_sums/math.h"

namespace torchauc::pair_sums {
namespace cuda {
namespace {

template <PairSurrogate S, typename T, int K>
__global__ void pair_sums_kernel(const T* queries, const int64_t* group, int64_t Q, const T* items,
                                 const int64_t* offsets, int64_t I, const T* weights, T m, T s, T sign, double* value,
                                 double* dquery) {
  __shared__ Doubles<2 * K> sh[kThreads];
  for (int64_t q = blockIdx.x; q < Q; q += gridDim.x) {
    Doubles<2 * K> acc;
    for (int k = 0; k < 2 * K; ++k) acc.v[k] = 0.0;
    const T h = queries[q];
    const int64_t g = group[q], e = offsets[g + 1];
    for (int64_t j = offsets[g] + threadIdx.x; j < e; j += blockDim.x) {
      T l, d;
      pair_surrogate<S, T>(sign * (h - items[j]), m, s, &l, &d);
      for (int k = 0; k < K; ++k) {
        const T w = weights[k * I + j];
        acc.v[k] += static_cast<double>(w * l);
        acc.v[K + k] += static_cast<double>(w * d);
      }
    }
    acc = block_reduce(acc, SumOp{}, sh);
    if (threadIdx.x == 0) {
      for (int k = 0; k < K; ++k) {
        value[k * Q + q] = acc.v[k];
        dquery[k * Q + q] = static_cast<double>(sign) * acc.v[K + k];  // dt / d query = sign
      }
    }
  }
}

}  // namespace

template <typename T>
void launch_grouped_pair_sums(int surrogate, const T* queries, const int64_t* group, int64_t Q, const T* items,
                              const int64_t* offsets, int64_t I, const T* weights, int K, T margin, T scale, T sign,
                              double* value, double* dquery, cudaStream_t stream) {
  if (Q == 0) return;
  dispatch_surrogate_k(static_cast<PairSurrogate>(surrogate), K, [&](auto sc, auto kc) {
    constexpr PairSurrogate S = decltype(sc)::value;
    constexpr int KK = decltype(kc)::value;
    pair_sums_kernel<S, T, KK><<<grid_for(Q, 1), kThreads, 0, stream>>>(queries, group, Q, items, offsets, I, weights,
                                                                        margin, scale, sign, value, dquery);
  });
}

#define TAUC_INSTANTIATE(T)                                                                                            \
  template void launch_grouped_pair_sums<T>(int, const T*, const int64_t*, int64_t, const T*, const int64_t*, int64_t, \
                                            const T*, int, T, T, T, double*, double*, cudaStream_t);
TAUC_INSTANTIATE(float)
TAUC_INSTANTIATE(double)
#undef TAUC_INSTANTIATE

}  // namespace cuda
}  // namespace torchauc::pair_sums
