// What every family's CUDA kernels share (CUDA headers only, no torch): the block size, the grid
// size rule, a deterministic block reduction, element loads/stores in float or double, and the
// dispatch from a runtime Dtype to a template type.
#pragma once
#include <cuda_bf16.h>
#include <cuda_fp16.h>
#include <cuda_runtime.h>

#include <algorithm>
#include <cstdint>

#include "core/dtype.h"

// Most blocks a launch asks for (grid.x, and grid.y where a kernel loops over it); kernels cover
// the rest with grid-stride loops. Overridable at compile time, like the other kernel caps (batch
// sizes, shared-memory group limits: TORCHAUC_* in the .cu files), so the CPU simulation build
// (csrc/cudasim) makes them tiny and runs the wrap-around, multi-batch and fallback paths at test sizes.
#ifndef TORCHAUC_MAX_GRID
#define TORCHAUC_MAX_GRID 65535
#endif
#ifndef TORCHAUC_MAX_GRID_Y
#define TORCHAUC_MAX_GRID_Y 65535
#endif

namespace torchauc {

#ifndef TORCHAUC_THREADS
#define TORCHAUC_THREADS 256  // a power of two (block_reduce)
#endif
constexpr int kThreads = TORCHAUC_THREADS;  // threads per block of every kernel that does not say otherwise
constexpr int64_t kMaxGrid = TORCHAUC_MAX_GRID;
constexpr int64_t kMaxGridY = TORCHAUC_MAX_GRID_Y;  // at most 65535 (the hardware limit of grid.y)

// Blocks for `items` work items at `per_block` items each: at least 1, at most `cap`.
inline unsigned grid_for(int64_t items, int64_t per_block = kThreads, int64_t cap = kMaxGrid) {
  const int64_t blocks = (items + per_block - 1) / per_block;
  return static_cast<unsigned>(std::max<int64_t>(1, std::min<int64_t>(blocks, cap)));
}

// Fixed-shape tree reduction over a block of kThreads threads: deterministic, every thread must
// call it, every thread gets the total. `sh` is a __shared__ array of kThreads elements.
template <typename T, typename Op>
__device__ T block_reduce(T v, Op op, T* sh) {
  sh[threadIdx.x] = v;
  __syncthreads();
  for (int w = kThreads / 2; w > 0; w >>= 1) {
    if (threadIdx.x < w) sh[threadIdx.x] = op(sh[threadIdx.x], sh[threadIdx.x + w]);
    __syncthreads();
  }
  const T total = sh[0];
  __syncthreads();  // the caller may reuse `sh` right away
  return total;
}

// K doubles reduced together (sums, maxima) by one block_reduce.
template <int K>
struct Doubles {
  double v[K];
};
struct SumOp {
  __device__ double operator()(double x, double y) const { return x + y; }
  template <int K>
  __device__ Doubles<K> operator()(Doubles<K> x, const Doubles<K>& y) const {
    for (int k = 0; k < K; ++k) x.v[k] += y.v[k];
    return x;
  }
};

// Element loads in the accumulation type (float for 16-bit and float, double for double) and stores.
__device__ __forceinline__ float load(const float* p, int64_t i) { return p[i]; }
__device__ __forceinline__ double load(const double* p, int64_t i) { return p[i]; }
__device__ __forceinline__ float load(const __half* p, int64_t i) { return __half2float(p[i]); }
__device__ __forceinline__ float load(const __nv_bfloat16* p, int64_t i) { return __bfloat162float(p[i]); }
__device__ __forceinline__ void store(float* p, int64_t i, double v) { p[i] = static_cast<float>(v); }
__device__ __forceinline__ void store(double* p, int64_t i, double v) { p[i] = v; }
__device__ __forceinline__ void store(__half* p, int64_t i, double v) { p[i] = __float2half(static_cast<float>(v)); }
__device__ __forceinline__ void store(__nv_bfloat16* p, int64_t i, double v) {
  p[i] = __float2bfloat16(static_cast<float>(v));
}

template <typename T>
struct TypeTag {
  using type = T;
};

// f(TypeTag<T>{}) for the floating Dtype t (F16, BF16, F32, F64); the glue has checked t.
template <typename F>
void visit_floating(Dtype t, F&& f) {
  switch (t) {
    case Dtype::F16: f(TypeTag<__half>{}); break;
    case Dtype::BF16: f(TypeTag<__nv_bfloat16>{}); break;
    case Dtype::F32: f(TypeTag<float>{}); break;
    default: f(TypeTag<double>{}); break;
  }
}

// f(TypeTag<T>{}) for the integer Dtype t (U8, I8, I16, I32, I64); the glue has checked t.
template <typename F>
void visit_integral(Dtype t, F&& f) {
  switch (t) {
    case Dtype::U8: f(TypeTag<uint8_t>{}); break;
    case Dtype::I8: f(TypeTag<int8_t>{}); break;
    case Dtype::I16: f(TypeTag<int16_t>{}); break;
    case Dtype::I32: f(TypeTag<int32_t>{}); break;
    default: f(TypeTag<int64_t>{}); break;
  }
}

}  // namespace torchauc
