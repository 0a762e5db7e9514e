// CUDA kernels of the multiclass / pixel AUC loss (math in math.h).
// Stats: the weights factorise (w_ij = rho_j kappa_i), so each column needs four numbers; a block
// reduces one part of the samples for its columns in a fixed order and a second kernel combines the
// parts in order: deterministic, no atomics, O(G C) scratch (no C x C table, no sort).
//   S == 1 ((N, C) rows): threads run along columns (coalesced), each sums its column sequentially.
//   S > 1 (NCHW): a block per (column, part), threads stride along the pixels, then a fixed-shape
//   block tree reduction.
// Epilogue: one thread per column. Gradient: one thread per element, written in the scores' layout.
#include <cuda_bf16.h>
#include <cuda_fp16.h>
#include <cuda_runtime.h>

#include <algorithm>

#include "core/launch.cuh"
#include "multiclass/cuda.h"
#include "multiclass/math.h"

namespace torchauc::multiclass {
namespace cuda {
namespace {

// Running stats of one column: (u1, u2, d1, d2), or the (positive, negative) log-sum-exp cells.
struct Acc {
  double v[4];
};
template <bool EXP>
__device__ __forceinline__ Acc acc_empty() {
  return EXP ? Acc{{-INFINITY, 0.0, -INFINITY, 0.0}} : Acc{{0.0, 0.0, 0.0, 0.0}};
}
// Adds the activated score v of column c of a sample with label y (>= 0) and weight r.
template <bool EXP>
__device__ __forceinline__ void acc_add(Acc& s, double v, bool diag, double r, double m) {
  if (EXP) {
    LseCell cell = diag ? LseCell{s.v[0], s.v[1]} : LseCell{s.v[2], s.v[3]};
    lse_add(cell, diag ? -m * v : m * v + r);
    s.v[diag ? 0 : 2] = cell.M;
    s.v[diag ? 1 : 3] = cell.E;
  } else if (diag) {
    s.v[2] += v;
    s.v[3] += v * v;
  } else {
    s.v[0] += r * v;
    s.v[1] += r * v * v;
  }
}
template <bool EXP>
__device__ __forceinline__ void acc_merge(Acc& s, const Acc& o) {
  if (EXP) {
    for (int h = 0; h < 4; h += 2) {
      LseCell c{s.v[h], s.v[h + 1]};
      lse_merge(c, LseCell{o.v[h], o.v[h + 1]});
      s.v[h] = c.M;
      s.v[h + 1] = c.E;
    }
  } else {
    for (int q = 0; q < 4; ++q) s.v[q] += o.v[q];
  }
}

template <typename T>
__device__ __forceinline__ double act_value(const T* x, int64_t e, Activation act) {
  using F = decltype(load(x, 0));
  F v, dv;
  mc_activate<F>(act, load(x, e), &v, &dv);
  return static_cast<double>(v);
}

// part layout: [g][q][c]
__device__ __forceinline__ void write_part(double* part, int64_t g, int64_t c, int64_t C, const Acc& s) {
  for (int q = 0; q < 4; ++q) part[(g * 4 + q) * C + c] = s.v[q];
}

template <typename T, bool EXP>
__global__ void stats_rows_kernel(const T* x, const int32_t* y32, const double* r, int64_t Ns, int64_t C, int64_t G,
                                  Activation act, double m, double* part) {
  const int64_t g = blockIdx.x % G, ct = blockIdx.x / G;
  const int64_t c = ct * kThreads + threadIdx.x;
  if (c >= C) return;
  const int64_t lo = Ns * g / G, hi = Ns * (g + 1) / G;
  Acc s = acc_empty<EXP>();
  for (int64_t n = lo; n < hi; ++n) {
    const int32_t y = y32[n];
    if (y >= 0) acc_add<EXP>(s, act_value(x, n * C + c, act), y == c, r[n], m);
  }
  write_part(part, g, c, C, s);
}

template <typename T, bool EXP>
__global__ void stats_pixels_kernel(const T* x, const int32_t* y32, const double* r, int64_t Ns, int64_t C, int64_t S,
                                    int64_t G, Activation act, double m, double* part) {
  __shared__ Acc sh[kThreads];
  const int64_t g = blockIdx.x % G, c = blockIdx.x / G;
  const int64_t lo = Ns * g / G, hi = Ns * (g + 1) / G;
  Acc s = acc_empty<EXP>();
  for (int64_t n = lo + threadIdx.x; n < hi; n += kThreads) {
    const int32_t y = y32[n];
    if (y >= 0) {
      const int64_t b = n / S, sp = n % S;
      acc_add<EXP>(s, act_value(x, (b * C + c) * S + sp, act), y == c, r[n], m);
    }
  }
  const auto merge = [](Acc a, const Acc& b) {
    acc_merge<EXP>(a, b);
    return a;
  };
  s = block_reduce(s, merge, sh);
  if (threadIdx.x == 0) write_part(part, g, c, C, s);
}

// stats[q * C + c] from the G parts, in part order.
template <bool EXP>
__global__ void reduce_parts_kernel(const double* part, int64_t C, int64_t G, double* stats) {
  const int64_t c = blockIdx.x * int64_t(blockDim.x) + threadIdx.x;
  if (c >= C) return;
  Acc s = acc_empty<EXP>();
  for (int64_t g = 0; g < G; ++g) {
    Acc o;
    for (int q = 0; q < 4; ++q) o.v[q] = part[(g * 4 + q) * C + c];
    acc_merge<EXP>(s, o);
  }
  for (int q = 0; q < 4; ++q) stats[q * C + c] = s.v[q];
}

__global__ void epilogue_kernel(Surrogate sur, Mode mode, Norm norm, int64_t C, const double* N, const double* st,
                                double m, double* coef, double* Lcol) {
  const int64_t i = blockIdx.x * int64_t(blockDim.x) + threadIdx.x;
  if (i >= C) return;
  double Cb, Ntot;
  mc_class_totals(C, N, &Cb, &Ntot);
  const double scale = mc_scale(mode, norm, C, Cb);
  const Column col = mc_column(mode, N[i], Ntot, Cb, scale);
  Coef cf;
  if (sur == Surrogate::Exp) {
    Lcol[i] = mc_exp_column(col, LseCell{st[i], st[C + i]}, LseCell{st[2 * C + i], st[3 * C + i]}, m, scale, &cf);
  } else {
    Lcol[i] = mc_moment_column(sur, col, N[i], st[i], st[C + i], st[2 * C + i], st[3 * C + i], m, scale, &cf);
  }
  coef[i] = cf.ad;
  coef[C + i] = cf.bd;
  coef[2 * C + i] = cf.ao;
  coef[3 * C + i] = cf.bo;
}

__global__ void sum_kernel(const double* Lcol, int64_t C, double* loss) {
  if (blockIdx.x == 0 && threadIdx.x == 0) {
    double L = 0.0;
    for (int64_t i = 0; i < C; ++i) L += Lcol[i];
    loss[0] = L;
  }
}

template <typename T, bool EXP>
__global__ void grad_kernel(const T* x, const int32_t* y32, const double* r, const double* coef, int64_t total,
                            int64_t C, int64_t S, Activation act, double m, T* g) {
  using F = decltype(load(x, 0));
  for (int64_t e = blockIdx.x * int64_t(blockDim.x) + threadIdx.x; e < total; e += int64_t(gridDim.x) * blockDim.x) {
    const int64_t sp = e % S, t = e / S;
    const int64_t c = t % C, b = t / C;
    const int64_t n = b * S + sp;
    const int32_t y = y32[n];
    if (y < 0) {
      store(g, e, 0.0);
      continue;
    }
    F v, dv;
    mc_activate<F>(act, load(x, e), &v, &dv);
    const Coef cf{coef[c], coef[C + c], coef[2 * C + c], coef[3 * C + c]};
    const double vd = static_cast<double>(v);
    const double dl = EXP ? mc_grad_exp(vd, y == c, r[n], m, cf) : mc_grad_moment(vd, y == c, r[n], cf);
    store(g, e, dl * static_cast<double>(dv));
  }
}

}  // namespace

int64_t mc_stats_parts(int64_t Ns, int64_t C, int64_t S) {
  // enough blocks to fill a GPU: rows ~ 1k samples per part, pixels ~ 16 per thread per part
#ifdef TORCHAUC_MC_PART_SAMPLES
  const int64_t per = TORCHAUC_MC_PART_SAMPLES;
#else
  const int64_t per = S == 1 ? 1024 : 16 * kThreads;
#endif
  const int64_t want =
      S == 1 ? std::max<int64_t>(1, 2048 / ((C + kThreads - 1) / kThreads)) : std::max<int64_t>(1, 2048 / C);
  return std::max<int64_t>(1, std::min<int64_t>(want, (Ns + per - 1) / per));
}

void mc_stats_launch(Dtype dtype, const void* x, const int32_t* y32, const double* r, int64_t Bn, int64_t C, int64_t S,
                     int64_t G, int activation, bool exp_stats, double margin, double* part, double* stats,
                     cudaStream_t stream) {
  const Activation act = static_cast<Activation>(activation);
  const int64_t Ns = Bn * S;
  visit_floating(dtype, [&](auto tag) {
    using T_ = typename decltype(tag)::type;
    const T_* xs = static_cast<const T_*>(x);
    if (S == 1) {
      const int64_t blocks = ((C + kThreads - 1) / kThreads) * G;
      if (exp_stats)
        stats_rows_kernel<T_, true><<<blocks, kThreads, 0, stream>>>(xs, y32, r, Ns, C, G, act, margin, part);
      else
        stats_rows_kernel<T_, false><<<blocks, kThreads, 0, stream>>>(xs, y32, r, Ns, C, G, act, margin, part);
    } else {
      const int64_t blocks = C * G;
      if (exp_stats)
        stats_pixels_kernel<T_, true><<<blocks, kThreads, 0, stream>>>(xs, y32, r, Ns, C, S, G, act, margin, part);
      else
        stats_pixels_kernel<T_, false><<<blocks, kThreads, 0, stream>>>(xs, y32, r, Ns, C, S, G, act, margin, part);
    }
  });
  if (exp_stats)
    reduce_parts_kernel<true><<<grid_for(C), kThreads, 0, stream>>>(part, C, G, stats);
  else
    reduce_parts_kernel<false><<<grid_for(C), kThreads, 0, stream>>>(part, C, G, stats);
}

void mc_epilogue_launch(int surrogate, int mode, int normalization, int64_t C, const double* counts,
                        const double* stats, double margin, double* coef, double* loss_per_class, double* loss,
                        cudaStream_t stream) {
  epilogue_kernel<<<grid_for(C), kThreads, 0, stream>>>(static_cast<Surrogate>(surrogate), static_cast<Mode>(mode),
                                                        static_cast<Norm>(normalization), C, counts, stats, margin,
                                                        coef, loss_per_class);
  sum_kernel<<<1, 1, 0, stream>>>(loss_per_class, C, loss);
}

void mc_grad_launch(Dtype dtype, const void* x, const int32_t* y32, const double* r, const double* coef, int64_t Bn,
                    int64_t C, int64_t S, int activation, bool exp_stats, double margin, void* g, cudaStream_t stream) {
  const Activation act = static_cast<Activation>(activation);
  const int64_t total = Bn * C * S;
  visit_floating(dtype, [&](auto tag) {
    using T_ = typename decltype(tag)::type;
    const T_* xs = static_cast<const T_*>(x);
    T_* gs = static_cast<T_*>(g);
    if (exp_stats)
      grad_kernel<T_, true><<<grid_for(total), kThreads, 0, stream>>>(xs, y32, r, coef, total, C, S, act, margin, gs);
    else
      grad_kernel<T_, false><<<grid_for(total), kThreads, 0, stream>>>(xs, y32, r, coef, total, C, S, act, margin, gs);
  });
}

}  // namespace cuda
}  // namespace torchauc::multiclass
