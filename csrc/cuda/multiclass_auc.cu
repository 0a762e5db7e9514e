// CUDA kernels of the multiclass / pixel AUC loss (math in common/multiclass_math.h).
// Stats: samples are pre-sorted by label (the glue does a stable sort), so each (label j, column c)
// table cell is a reduction over one contiguous segment of `order`; a block reduces one part of one
// segment in a fixed order and a second kernel sums the parts in order: deterministic, no atomics.
//   S == 1 ((N, C) rows): threads run along columns (coalesced), each sums its column sequentially.
//   S > 1 (NCHW): threads stride along the segment, then a fixed-shape block tree reduction.
// Epilogue: one thread per column. Gradient: one thread per element, written in the scores' layout.
#include <cuda_bf16.h>
#include <cuda_fp16.h>
#include <cuda_runtime.h>

#include <algorithm>

#include "common/multiclass_math.h"
#include "cuda/multiclass_auc.h"

namespace torchauc {
namespace cuda {
namespace {

constexpr int kThreads = 256;

__device__ __forceinline__ float ld(const float* p, int64_t i) { return p[i]; }
__device__ __forceinline__ double ld(const double* p, int64_t i) { return p[i]; }
__device__ __forceinline__ float ld(const __half* p, int64_t i) { return __half2float(p[i]); }
__device__ __forceinline__ float ld(const __nv_bfloat16* p, int64_t i) { return __bfloat162float(p[i]); }
__device__ __forceinline__ void st(float* p, int64_t i, double v) { p[i] = static_cast<float>(v); }
__device__ __forceinline__ void st(double* p, int64_t i, double v) { p[i] = v; }
__device__ __forceinline__ void st(__half* p, int64_t i, double v) { p[i] = __float2half(static_cast<float>(v)); }
__device__ __forceinline__ void st(__nv_bfloat16* p, int64_t i, double v) {
  p[i] = __float2bfloat16(static_cast<float>(v));
}

// Running accumulator of one table cell: (sum v, sum v^2) or a log-sum-exp cell.
struct Acc {
  double a, b;
};
template <bool EXP>
__device__ __forceinline__ Acc acc_empty() {
  return EXP ? Acc{-INFINITY, 0.0} : Acc{0.0, 0.0};
}
template <bool EXP>
__device__ __forceinline__ void acc_add(Acc& s, double v, bool diag, double m) {
  if (EXP) {
    LseCell c{s.a, s.b};
    lse_add(c, mc_exp_key(v, diag, m));
    s = Acc{c.M, c.E};
  } else {
    s.a += v;
    s.b += v * v;
  }
}
template <bool EXP>
__device__ __forceinline__ void acc_merge(Acc& s, const Acc& o) {
  if (EXP) {
    LseCell c{s.a, s.b};
    lse_merge(c, LseCell{o.a, o.b});
    s = Acc{c.M, c.E};
  } else {
    s.a += o.a;
    s.b += o.b;
  }
}

template <typename T>
__device__ __forceinline__ double act_value(const T* x, int64_t e, McActivation act) {
  using F = decltype(ld(x, 0));
  F v, dv;
  mc_activate<F>(act, ld(x, e), &v, &dv);
  return static_cast<double>(v);
}

__device__ __forceinline__ void part_range(const int64_t* offsets, int64_t j, int64_t g, int64_t G, int64_t* lo,
                                           int64_t* hi) {
  const int64_t s0 = offsets[j], len = offsets[j + 1] - s0;
  *lo = s0 + len * g / G;
  *hi = s0 + len * (g + 1) / G;
}

// part layout: [g][cell] pairs (a, b), cell = j * C + c.
__device__ __forceinline__ void write_part(double* part, int64_t g, int64_t cell, int64_t cells, const Acc& s) {
  part[(g * cells + cell) * 2] = s.a;
  part[(g * cells + cell) * 2 + 1] = s.b;
}

template <typename T, bool EXP>
__global__ void stats_rows_kernel(const T* x, const int64_t* order, const int64_t* offsets, int64_t C, int64_t G,
                                  McActivation act, double m, double* part) {
  const int64_t nct = (C + kThreads - 1) / kThreads;
  int64_t idx = blockIdx.x;
  const int64_t g = idx % G;
  idx /= G;
  const int64_t ct = idx % nct, j = idx / nct;
  const int64_t c = ct * kThreads + threadIdx.x;
  if (c >= C) return;
  int64_t lo, hi;
  part_range(offsets, j, g, G, &lo, &hi);
  Acc s = acc_empty<EXP>();
  for (int64_t r = lo; r < hi; ++r) acc_add<EXP>(s, act_value(x, order[r] * C + c, act), j == c, m);
  write_part(part, g, j * C + c, C * C, s);
}

template <typename T, bool EXP>
__global__ void stats_pixels_kernel(const T* x, const int64_t* order, const int64_t* offsets, int64_t C, int64_t S,
                                    int64_t G, McActivation act, double m, double* part) {
  __shared__ double sa[kThreads], sb[kThreads];
  int64_t idx = blockIdx.x;
  const int64_t g = idx % G;
  idx /= G;
  const int64_t c = idx % C, j = idx / C;
  int64_t lo, hi;
  part_range(offsets, j, g, G, &lo, &hi);
  Acc s = acc_empty<EXP>();
  for (int64_t r = lo + threadIdx.x; r < hi; r += kThreads) {
    const int64_t n = order[r], b = n / S, sp = n % S;
    acc_add<EXP>(s, act_value(x, (b * C + c) * S + sp, act), j == c, m);
  }
  sa[threadIdx.x] = s.a;
  sb[threadIdx.x] = s.b;
  __syncthreads();
  for (int w = kThreads / 2; w > 0; w /= 2) {  // fixed-shape tree: deterministic
    if (threadIdx.x < w) {
      Acc o{sa[threadIdx.x + w], sb[threadIdx.x + w]};
      Acc t{sa[threadIdx.x], sb[threadIdx.x]};
      acc_merge<EXP>(t, o);
      sa[threadIdx.x] = t.a;
      sb[threadIdx.x] = t.b;
    }
    __syncthreads();
  }
  if (threadIdx.x == 0) write_part(part, g, j * C + c, C * C, Acc{sa[0], sb[0]});
}

// T (moments: [sum v | sum v^2], exp: interleaved (M, E) cells) from the G parts, in part order.
template <bool EXP>
__global__ void reduce_parts_kernel(const double* part, int64_t cells, int64_t G, double* T) {
  for (int64_t cell = blockIdx.x * int64_t(blockDim.x) + threadIdx.x; cell < cells;
       cell += int64_t(gridDim.x) * blockDim.x) {
    Acc s = acc_empty<EXP>();
    for (int64_t g = 0; g < G; ++g) acc_merge<EXP>(s, Acc{part[(g * cells + cell) * 2], part[(g * cells + cell) * 2 + 1]});
    if (EXP) {
      T[cell * 2] = s.a;
      T[cell * 2 + 1] = s.b;
    } else {
      T[cell] = s.a;
      T[cells + cell] = s.b;
    }
  }
}

__global__ void epilogue_kernel(McSurrogate sur, McMode mode, McNorm norm, int64_t C, const double* N,
                                const double* T, double m, double* A, double* B, double* Lcol) {
  const int64_t i = blockIdx.x * int64_t(blockDim.x) + threadIdx.x;
  if (i >= C) return;
  double Cb, Ntot;
  mc_class_totals(C, N, &Cb, &Ntot);
  const double scale = mc_scale(mode, norm, C, Cb);
  if (sur == McSurrogate::Exp) {
    Lcol[i] = mc_exp_column(mode, C, i, N, Ntot, reinterpret_cast<const LseCell*>(T), m, scale, A, B, C, 1);
  } else {
    Lcol[i] = mc_moment_column(sur, mode, C, i, N, Ntot, T, T + C * C, m, scale, A, B, C, 1);
  }
}

__global__ void sum_kernel(const double* Lcol, int64_t C, double* loss) {
  if (blockIdx.x == 0 && threadIdx.x == 0) {
    double L = 0.0;
    for (int64_t i = 0; i < C; ++i) L += Lcol[i];
    loss[0] = L;
  }
}

template <typename T, bool EXP>
__global__ void grad_kernel(const T* x, const int32_t* y32, const double* A, const double* B, int64_t total,
                            int64_t C, int64_t S, McActivation act, double m, T* g) {
  using F = decltype(ld(x, 0));
  for (int64_t e = blockIdx.x * int64_t(blockDim.x) + threadIdx.x; e < total; e += int64_t(gridDim.x) * blockDim.x) {
    const int64_t sp = e % S, t = e / S;
    const int64_t c = t % C, b = t / C;
    const int32_t y = y32[b * S + sp];
    if (y < 0) {
      st(g, e, 0.0);
      continue;
    }
    F v, dv;
    mc_activate<F>(act, ld(x, e), &v, &dv);
    const int64_t cell = static_cast<int64_t>(y) * C + c;
    const double vd = static_cast<double>(v);
    const double dl = EXP ? mc_grad_exp(mc_exp_key(vd, y == c, m), A[cell], B[cell]) : mc_grad_moment(vd, A[cell], B[cell]);
    st(g, e, dl * static_cast<double>(dv));
  }
}

int grid_for(int64_t n) { return static_cast<int>(std::max<int64_t>(1, std::min<int64_t>((n + kThreads - 1) / kThreads, 65535))); }

template <typename F>
void with_dtype(McDtype dtype, const F& f) {
  switch (dtype) {
    case McDtype::F32: f(static_cast<float*>(nullptr)); break;
    case McDtype::F64: f(static_cast<double*>(nullptr)); break;
    case McDtype::F16: f(static_cast<__half*>(nullptr)); break;
    case McDtype::BF16: f(static_cast<__nv_bfloat16*>(nullptr)); break;
  }
}

}  // namespace

int64_t mc_stats_parts(int64_t C, int64_t S) {
  if (S == 1) return 1;
  return std::max<int64_t>(1, std::min<int64_t>(8, (int64_t(1) << 22) / (C * C)));
}

void mc_stats_launch(McDtype dtype, const void* x, const int64_t* order, const int64_t* offsets, int64_t C,
                     int64_t S, int64_t G, int activation, bool exp_tables, double margin, double* part, double* T,
                     cudaStream_t stream) {
  const McActivation act = static_cast<McActivation>(activation);
  const int64_t cells = C * C;
  with_dtype(dtype, [&](auto* tag) {
    using T_ = std::remove_pointer_t<decltype(tag)>;
    const T_* xs = static_cast<const T_*>(x);
    if (S == 1) {
      const int64_t blocks = C * ((C + kThreads - 1) / kThreads) * G;
      if (exp_tables) stats_rows_kernel<T_, true><<<blocks, kThreads, 0, stream>>>(xs, order, offsets, C, G, act, margin, part);
      else stats_rows_kernel<T_, false><<<blocks, kThreads, 0, stream>>>(xs, order, offsets, C, G, act, margin, part);
    } else {
      const int64_t blocks = cells * G;
      if (exp_tables) stats_pixels_kernel<T_, true><<<blocks, kThreads, 0, stream>>>(xs, order, offsets, C, S, G, act, margin, part);
      else stats_pixels_kernel<T_, false><<<blocks, kThreads, 0, stream>>>(xs, order, offsets, C, S, G, act, margin, part);
    }
  });
  if (exp_tables) reduce_parts_kernel<true><<<grid_for(cells), kThreads, 0, stream>>>(part, cells, G, T);
  else reduce_parts_kernel<false><<<grid_for(cells), kThreads, 0, stream>>>(part, cells, G, T);
}

void mc_epilogue_launch(int surrogate, int mode, int normalization, int64_t C, const double* counts, const double* T,
                        double margin, double* A, double* B, double* loss_per_class, double* loss,
                        cudaStream_t stream) {
  epilogue_kernel<<<grid_for(C), kThreads, 0, stream>>>(static_cast<McSurrogate>(surrogate), static_cast<McMode>(mode),
                                                        static_cast<McNorm>(normalization), C, counts, T, margin, A, B,
                                                        loss_per_class);
  sum_kernel<<<1, 1, 0, stream>>>(loss_per_class, C, loss);
}

void mc_grad_launch(McDtype dtype, const void* x, const int32_t* y32, const double* A, const double* B, int64_t Bn,
                    int64_t C, int64_t S, int activation, bool exp_tables, double margin, void* g,
                    cudaStream_t stream) {
  const McActivation act = static_cast<McActivation>(activation);
  const int64_t total = Bn * C * S;
  with_dtype(dtype, [&](auto* tag) {
    using T_ = std::remove_pointer_t<decltype(tag)>;
    const T_* xs = static_cast<const T_*>(x);
    T_* gs = static_cast<T_*>(g);
    if (exp_tables) grad_kernel<T_, true><<<grid_for(total), kThreads, 0, stream>>>(xs, y32, A, B, total, C, S, act, margin, gs);
    else grad_kernel<T_, false><<<grid_for(total), kThreads, 0, stream>>>(xs, y32, A, B, total, C, S, act, margin, gs);
  });
}

}  // namespace cuda
}  // namespace torchauc
