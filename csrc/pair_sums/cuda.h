// Launcher of the CUDA grouped pair sums (raw pointers only: shared by the
// nvcc-compiled .cu and the torch-facing glue). T is float or double (the
// compute type).
#pragma once
#include <cuda_runtime.h>

#include <cstdint>

namespace torchauc::pair_sums {
namespace cuda {

// value / dquery: (K, Q) float64 row-major, as grouped_pair_sums (schema.cpp)
// defines them; weights (K, I) row-major; 1 <= K <= kMaxWeights; surrogate: a
// PairSurrogate (math.h) as int.
template <typename T>
void launch_grouped_pair_sums(int surrogate, const T* queries, const int64_t* group, int64_t Q, const T* items,
                              const int64_t* offsets, int64_t I, const T* weights, int K, T margin, T scale, T sign,
                              double* value, double* dquery, cudaStream_t stream);

}  // namespace cuda
}  // namespace torchauc::pair_sums
