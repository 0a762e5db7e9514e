// CUDA kernels of the binary pairwise AUC loss. The math is math.h, shared with
// the CPU kernels; this file only arranges it into launches. Reductions are two-pass (fixed grid of
// per-block partials, then one block combines them in order), so results are deterministic.
#include <cuda_runtime.h>

#include <algorithm>
#include <cmath>

#include "core/launch.cuh"
#include "pairwise/cuda.h"
#include "pairwise/math.h"

namespace torchauc::pairwise {
namespace cuda {
namespace {

// Per-block partials: at most this many blocks, so the finalising block reads few partials.
constexpr int64_t kMaxPartials = 1024;

int num_blocks(int64_t n) { return static_cast<int>(grid_for(n, kThreads, std::min(kMaxPartials, kMaxGrid))); }

template <int K>
using Acc = Doubles<K>;

struct MaxOp {
  __device__ double operator()(double x, double y) const { return fmax(x, y); }
};

// Tree reduction of K values over the block with the elementwise Op; the result is in every thread.
template <int K, typename Op>
__device__ Acc<K> block_combine(Acc<K> x, Op op) {
  __shared__ Acc<K> sh[kThreads];
  const auto elementwise = [op](Acc<K> a, const Acc<K>& b) {
    for (int k = 0; k < K; ++k) a.v[k] = op(a.v[k], b.v[k]);
    return a;
  };
  return block_reduce(x, elementwise, sh);
}

// Contribution functors: identity(), add(i, acc), and the combine Op.
template <typename T>
__device__ double pos_weight(const PairwiseInputs<T>& in, int64_t i) {
  return in.a ? static_cast<double>(in.a[i]) : 1.0;
}
template <typename T>
__device__ double neg_weight(const PairwiseInputs<T>& in, int64_t i) {
  return in.b ? static_cast<double>(in.b[i]) : 1.0;
}

template <typename T>
struct SquareFirst {  // (A, sum a u, B, sum b z), u = m - x
  PairwiseInputs<T> in;
  using Op = SumOp;
  static constexpr int K = 4;
  __device__ Acc<4> identity() const { return Acc<4>{{0.0, 0.0, 0.0, 0.0}}; }
  __device__ void add(int64_t i, Acc<4>& acc) const {
    const double s = static_cast<double>(in.s[i]);
    if (in.y[i]) {
      const double w = pos_weight(in, i);
      acc.v[0] += w;
      acc.v[1] += w * (in.margin - s);
    } else {
      const double w = neg_weight(in, i);
      acc.v[2] += w;
      acc.v[3] += w * s;
    }
  }
};

__device__ double safe_mean(double sum, double w0) { return w0 != 0.0 ? sum / w0 : 0.0; }

template <typename T>
struct SquareSecond {  // centred second moments of each side
  PairwiseInputs<T> in;
  const PairwiseScalars* sc;
  using Op = SumOp;
  static constexpr int K = 2;
  __device__ Acc<2> identity() const { return Acc<2>{{0.0, 0.0}}; }
  __device__ void add(int64_t i, Acc<2>& acc) const {
    const double s = static_cast<double>(in.s[i]);
    if (in.y[i]) {
      const double d = (in.margin - s) - safe_mean(sc->first[1], sc->first[0]);
      acc.v[0] += pos_weight(in, i) * d * d;
    } else {
      const double d = s - safe_mean(sc->first[3], sc->first[2]);
      acc.v[1] += neg_weight(in, i) * d * d;
    }
  }
};

template <typename T>
struct ExpMax {  // side maxima of the keys p = -m x, q = m z
  PairwiseInputs<T> in;
  using Op = MaxOp;
  static constexpr int K = 2;
  __device__ Acc<2> identity() const { return Acc<2>{{-INFINITY, -INFINITY}}; }
  __device__ void add(int64_t i, Acc<2>& acc) const {
    const double s = static_cast<double>(in.s[i]);
    if (in.y[i])
      acc.v[0] = fmax(acc.v[0], -in.margin * s);
    else
      acc.v[1] = fmax(acc.v[1], in.margin * s);
  }
};

template <typename T>
struct ExpSums {  // (A, sum a e^{p - cP}, B, sum b e^{q - cQ})
  PairwiseInputs<T> in;
  const PairwiseScalars* sc;
  using Op = SumOp;
  static constexpr int K = 4;
  __device__ Acc<4> identity() const { return Acc<4>{{0.0, 0.0, 0.0, 0.0}}; }
  __device__ void add(int64_t i, Acc<4>& acc) const {
    const double s = static_cast<double>(in.s[i]);
    if (in.y[i]) {
      const double w = pos_weight(in, i);
      acc.v[0] += w;
      acc.v[1] += w * exp(-in.margin * s - sc->first[0]);
    } else {
      const double w = neg_weight(in, i);
      acc.v[2] += w;
      acc.v[3] += w * exp(in.margin * s - sc->first[1]);
    }
  }
};

template <typename F>
__global__ void partials_kernel(int64_t n, F f, double* partials) {
  Acc<F::K> acc = f.identity();
  for (int64_t i = blockIdx.x * static_cast<int64_t>(blockDim.x) + threadIdx.x; i < n;
       i += static_cast<int64_t>(gridDim.x) * blockDim.x)
    f.add(i, acc);
  acc = block_combine<F::K>(acc, typename F::Op());
  if (threadIdx.x == 0)
    for (int k = 0; k < F::K; ++k) partials[blockIdx.x * F::K + k] = acc.v[k];
}

template <typename F>
__global__ void finalize_kernel(int nparts, F f, const double* partials, double* dest) {
  typename F::Op op;
  Acc<F::K> acc = f.identity();
  for (int p = threadIdx.x; p < nparts; p += blockDim.x)
    for (int k = 0; k < F::K; ++k) acc.v[k] = op(acc.v[k], partials[p * F::K + k]);
  acc = block_combine<F::K>(acc, op);
  if (threadIdx.x == 0)
    for (int k = 0; k < F::K; ++k) dest[k] = acc.v[k];
}

template <typename F>
void reduce_into(int64_t n, const F& f, double* partials, double* dest, cudaStream_t stream) {
  const int blocks = num_blocks(n);
  partials_kernel<<<blocks, kThreads, 0, stream>>>(n, f, partials);
  finalize_kernel<<<1, kThreads, 0, stream>>>(blocks, f, partials, dest);
}

__device__ SideMoments square_side(const PairwiseScalars* sc, bool positive) {
  return positive ? SideMoments{sc->first[0], safe_mean(sc->first[1], sc->first[0]), sc->second[0]}
                  : SideMoments{sc->first[2], safe_mean(sc->first[3], sc->first[2]), sc->second[1]};
}

__global__ void square_epilogue(PairwiseScalars* sc) {
  const SideMoments P = square_side(sc, true), N = square_side(sc, false);
  sc->S = square_total(P, N);
  sc->A = P.w0;
  sc->B = N.w0;
}

// exp: unused[0] = log of the gradient scale, unused[1..2] = log of each side's shifted sum.
__global__ void exp_epilogue(PairwiseScalars* sc, int reduction) {
  sc->A = sc->second[0];
  sc->B = sc->second[2];
  const double W = sc->A * sc->B;
  if (!(W != 0.0)) return;  // no pairs: S = 0, not prescaled
  const double log_scale = reduction == static_cast<int>(Reduction::Mean) ? -log(W) : 0.0;
  sc->unused[0] = log_scale;
  sc->unused[1] = log(sc->second[1]);
  sc->unused[2] = log(sc->second[3]);
  const double log_S = sc->first[0] + sc->unused[1] + sc->first[1] + sc->unused[2];
  sc->S = exp(log_S);
  sc->prescaled_loss = exp(log_S + log_scale);
  sc->prescaled = 1.0;
}

// Per-sample dS/dscore and dS/dweight providers for the finishing pass.
template <typename T>
struct SquareSample {
  PairwiseInputs<T> in;
  const PairwiseScalars* sc;
  __device__ void operator()(int64_t i, bool positive, double* dx, double* dw) const {
    const double s = static_cast<double>(in.s[i]);
    double dk;
    if (positive) {
      square_sample(in.margin - s, pos_weight(in, i), square_side(sc, false), &dk, dw);
      *dx = -dk;
    } else {
      square_sample(s, neg_weight(in, i), square_side(sc, true), &dk, dw);
      *dx = dk;
    }
  }
};

template <typename T>
struct ExpSample {
  PairwiseInputs<T> in;
  const PairwiseScalars* sc;
  __device__ void operator()(int64_t i, bool positive, double* dx, double* dw) const {
    if (sc->prescaled == 0.0) {
      *dx = *dw = 0.0;
      return;
    }
    const double s = static_cast<double>(in.s[i]);
    const double m = in.margin;
    const ExpSide other = positive ? ExpSide{sc->first[1], sc->unused[2]} : ExpSide{sc->first[0], sc->unused[1]};
    const double f = exp_sample_factor(positive ? -m * s : m * s, other, sc->unused[0]);
    *dx = positive ? -m * pos_weight(in, i) * f : m * neg_weight(in, i) * f;
    *dw = f;
  }
};

struct ArraySample {
  const double* dS_dx;
  const double* dS_dw;
  __device__ void operator()(int64_t i, bool, double* dx, double* dw) const {
    *dx = dS_dx[i];
    *dw = dS_dw[i];
  }
};

template <typename T, typename SampleFn>
__global__ void finish_kernel(int64_t n, const int8_t* y, SampleFn fn, const PairwiseScalars* sc, int reduction,
                              const bool* has_nan, PairwiseOutputs<T> out) {
  const GradScale g = finish_reduction(static_cast<Reduction>(reduction), sc->S, sc->A, sc->B, sc->prescaled != 0.0,
                                       sc->prescaled_loss, *has_nan, out.scale);
  if (blockIdx.x == 0 && threadIdx.x == 0) *out.loss = static_cast<T>(g.loss);
  if (!out.grad_s) return;
  for (int64_t i = blockIdx.x * static_cast<int64_t>(blockDim.x) + threadIdx.x; i < n;
       i += static_cast<int64_t>(gridDim.x) * blockDim.x) {
    const bool pos = y[i] != 0;
    double dx, dw, gx, gw;
    fn(i, pos, &dx, &dw);
    finish_sample(g, pos, dx, dw, &gx, &gw);
    out.grad_s[i] = static_cast<T>(gx);
    if (out.grad_a) out.grad_a[i] = pos ? static_cast<T>(gw) : T(0);
    if (out.grad_b) out.grad_b[i] = pos ? T(0) : static_cast<T>(gw);
  }
}

template <typename T, typename SampleFn>
void finish(int64_t n, const int8_t* y, const SampleFn& fn, const PairwiseScalars* sc, int reduction,
            const bool* has_nan, const PairwiseOutputs<T>& out, cudaStream_t stream) {
  const int blocks = out.grad_s ? num_blocks(n) : 1;
  finish_kernel<<<blocks, kThreads, 0, stream>>>(n, y, fn, sc, reduction, has_nan, out);
}

// ---------------------------------------------------------------- hinge query
__device__ int64_t upper_bound(const double* keys, int64_t len, double t) {
  int64_t lo = 0, hi = len;
  while (lo < hi) {
    const int64_t mid = lo + (hi - lo) / 2;
    if (keys[mid] <= t)
      lo = mid + 1;
    else
      hi = mid;
  }
  return lo;
}

__global__ void hinge_query_kernel(int power, const double* s, const int8_t* y, const double* a, const double* b,
                                   int64_t n, double margin, const double* pos_keys, const double* pos_suffix,
                                   int64_t n_pos, const double* neg_keys, const double* neg_suffix, int64_t n_neg,
                                   const int64_t* class_size, double* dS_dx, double* dS_dw) {
  // a one-class batch has no pairs: dS stays 0 (the padded sides' zero moments would give
  // inf * 0 = NaN for an infinite score)
  if (class_size && (*class_size == 0 || *class_size == n)) return;
  for (int64_t i = blockIdx.x * static_cast<int64_t>(blockDim.x) + threadIdx.x; i < n;
       i += static_cast<int64_t>(gridDim.x) * blockDim.x) {
    const bool pos = y[i] != 0;
    const double k = pos ? margin - s[i] : s[i];
    // pair active iff own key + other key > 0: the other side's keys above -k
    const double* keys = pos ? neg_keys : pos_keys;
    const double* suffix = pos ? neg_suffix : pos_suffix;
    const int64_t r = upper_bound(keys, pos ? n_neg : n_pos, -k);
    double value, dvalue;
    hinge_sample(power, k, suffix[3 * r], suffix[3 * r + 1], suffix[3 * r + 2], &value, &dvalue);
    dS_dx[i] = pos ? -(a ? a[i] : 1.0) * dvalue : (b ? b[i] : 1.0) * dvalue;
    dS_dw[i] = value;
  }
}

// ---------------------------------------------------------------- tiled (logistic, sigmoid)
template <Surrogate S, typename T>
__global__ void tiled_side_kernel(bool own_pos, const T* key, const T* w, const int64_t* idx, int64_t n,
                                  const int64_t* n_pos_dev, double key_sign_margin, double* dS_dx, double* dS_dw) {
  const int64_t n_pos = *n_pos_dev, n_neg = n - n_pos;
  const int64_t n_own = own_pos ? n_pos : n_neg, n_other = n - n_own;
  // the grid covers n, an upper bound of n_own: blocks past the own side leave together (no barrier)
  if (blockIdx.x * static_cast<int64_t>(blockDim.x) >= n_own) return;
  const int64_t own_begin = own_pos ? n_neg : 0, other_begin = own_pos ? 0 : n_neg;
  const T* own_key = key + own_begin;
  const T* own_w = w + own_begin;
  const int64_t* own_idx = idx + own_begin;
  const T* other_key = key + other_begin;
  const T* other_w = w + other_begin;
  __shared__ T tile_key[kThreads];
  __shared__ T tile_w[kThreads];
  const int64_t i = blockIdx.x * static_cast<int64_t>(blockDim.x) + threadIdx.x;
  const bool active = i < n_own;
  const T k = active ? own_key[i] : T(0);
  double L = 0.0, D = 0.0;
  for (int64_t t0 = 0; t0 < n_other; t0 += kThreads) {
    const int64_t j = t0 + threadIdx.x;
    tile_key[threadIdx.x] = j < n_other ? other_key[j] : T(0);
    tile_w[threadIdx.x] = j < n_other ? other_w[j] : T(0);
    __syncthreads();
    const int count = static_cast<int>(min(static_cast<int64_t>(kThreads), n_other - t0));
    T tl = 0, td = 0;
    for (int r = 0; r < count; ++r) {
      T l, d;
      tiled_surrogate<S, T>(k + tile_key[r], &l, &d);
      tl += tile_w[r] * l;
      td += tile_w[r] * d;
    }
    L += static_cast<double>(tl);
    D += static_cast<double>(td);
    __syncthreads();
  }
  if (active) {
    const int64_t idx = own_idx[i];
    dS_dw[idx] = L;
    dS_dx[idx] = key_sign_margin * static_cast<double>(own_w[i]) * D;
  }
}

}  // namespace

int64_t pairwise_partials_size(int64_t n) { return static_cast<int64_t>(num_blocks(n)) * 4; }

template <typename T>
void launch_pairwise_moments(int surrogate, int reduction, const bool* has_nan, const PairwiseInputs<T>& in,
                             PairwiseScalars* sc, double* partials, const PairwiseOutputs<T>& out,
                             cudaStream_t stream) {
  // the moments of NaN scores are garbage that finish ignores (*has_nan): reading the flag on the
  // host to skip them would be a sync
  if (surrogate == static_cast<int>(Surrogate::Square)) {
    reduce_into(in.n, SquareFirst<T>{in}, partials, sc->first, stream);
    reduce_into(in.n, SquareSecond<T>{in, sc}, partials, sc->second, stream);
    square_epilogue<<<1, 1, 0, stream>>>(sc);
    finish(in.n, in.y, SquareSample<T>{in, sc}, sc, reduction, has_nan, out, stream);
  } else {
    reduce_into(in.n, ExpMax<T>{in}, partials, sc->first, stream);
    reduce_into(in.n, ExpSums<T>{in, sc}, partials, sc->second, stream);
    exp_epilogue<<<1, 1, 0, stream>>>(sc, reduction);
    finish(in.n, in.y, ExpSample<T>{in, sc}, sc, reduction, has_nan, out, stream);
  }
}

void launch_hinge_query(int power, const double* s, const int8_t* y, const double* a, const double* b, int64_t n,
                        double margin, const double* pos_keys, const double* pos_suffix, int64_t n_pos,
                        const double* neg_keys, const double* neg_suffix, int64_t n_neg, const int64_t* class_size,
                        double* dS_dx, double* dS_dw, cudaStream_t stream) {
  if (n == 0) return;
  hinge_query_kernel<<<num_blocks(n), kThreads, 0, stream>>>(power, s, y, a, b, n, margin, pos_keys, pos_suffix, n_pos,
                                                             neg_keys, neg_suffix, n_neg, class_size, dS_dx, dS_dw);
}

template <typename T>
void launch_tiled_side(int surrogate, bool own_pos, const T* key, const T* w, const int64_t* idx, int64_t n,
                       const int64_t* n_pos, double key_sign_margin, double* dS_dx, double* dS_dw,
                       cudaStream_t stream) {
  if (n == 0) return;
  const int64_t blocks = (n + kThreads - 1) / kThreads;
  if (surrogate == static_cast<int>(Surrogate::Logistic))
    tiled_side_kernel<Surrogate::Logistic, T>
        <<<blocks, kThreads, 0, stream>>>(own_pos, key, w, idx, n, n_pos, key_sign_margin, dS_dx, dS_dw);
  else
    tiled_side_kernel<Surrogate::Sigmoid, T>
        <<<blocks, kThreads, 0, stream>>>(own_pos, key, w, idx, n, n_pos, key_sign_margin, dS_dx, dS_dw);
}

template <typename T>
void launch_pairwise_finish(int reduction, const bool* has_nan, const int8_t* y, int64_t n, const double* dS_dx,
                            const double* dS_dw, const PairwiseScalars* sc, const PairwiseOutputs<T>& out,
                            cudaStream_t stream) {
  finish(n, y, ArraySample{dS_dx, dS_dw}, sc, reduction, has_nan, out, stream);
}

#define TAUC_INSTANTIATE(T)                                                                                            \
  template void launch_pairwise_moments<T>(int, int, const bool*, const PairwiseInputs<T>&, PairwiseScalars*, double*, \
                                           const PairwiseOutputs<T>&, cudaStream_t);                                   \
  template void launch_tiled_side<T>(int, bool, const T*, const T*, const int64_t*, int64_t, const int64_t*, double,   \
                                     double*, double*, cudaStream_t);                                                  \
  template void launch_pairwise_finish<T>(int, const bool*, const int8_t*, int64_t, const double*, const double*,      \
                                          const PairwiseScalars*, const PairwiseOutputs<T>&, cudaStream_t);
TAUC_INSTANTIATE(float)
TAUC_INSTANTIATE(double)
#undef TAUC_INSTANTIATE

}  // namespace cuda
}  // namespace torchauc::pairwise
