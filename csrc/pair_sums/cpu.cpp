// CPU kernel of grouped_pair_sums: queries in parallel, each against its
// group's items in tiles of kTile; a tile sums in the compute type (float32
// logistic tiles vectorise: 16 lanes under AVX-512), tiles add in float64. O(K
// (Q + I)) memory: no pair matrix.
#include <ATen/ATen.h>
#include <ATen/Parallel.h>
#include <torch/library.h>

#include <algorithm>

#include "pair_sums/args.h"
#include "pair_sums/math.h"
#include "pair_sums/tile_cpu.h"

namespace torchauc::pair_sums {
namespace {

// One query against items [j0, j1): adds the K weighted sums of l and dl/dt
// into val / der. K is a template parameter so the unused accumulators vanish
// and the loop carries no branch.
template <PairSurrogate S, typename T, int K>
__attribute__((always_inline)) inline void tile(T q, T sign, T m, T s, const T* x, const T* w, int64_t stride,
                                                int64_t j0, int64_t j1, double* val, double* der) {
  const T* w0 = w;
  const T* w1 = w + stride * (K > 1);
  const T* w2 = w + stride * 2 * (K > 2);
  const T* w3 = w + stride * 3 * (K > 3);
  T l0 = 0, l1 = 0, l2 = 0, l3 = 0, d0 = 0, d1 = 0, d2 = 0, d3 = 0;
#pragma omp simd reduction(+ : l0, l1, l2, l3, d0, d1, d2, d3)
  for (int64_t j = j0; j < j1; ++j) {
    T l, d;
    pair_surrogate<S, T>(sign * (q - x[j]), m, s, &l, &d);
    l0 += w0[j] * l;
    d0 += w0[j] * d;
    if constexpr (K > 1) {
      l1 += w1[j] * l;
      d1 += w1[j] * d;
    }
    if constexpr (K > 2) {
      l2 += w2[j] * l;
      d2 += w2[j] * d;
    }
    if constexpr (K > 3) {
      l3 += w3[j] * l;
      d3 += w3[j] * d;
    }
  }
  const T ls[4] = {l0, l1, l2, l3}, ds[4] = {d0, d1, d2, d3};
  for (int k = 0; k < K; ++k) {
    val[k] += static_cast<double>(ls[k]);
    der[k] += static_cast<double>(ds[k]);
  }
}

// float32 logistic tiles (the hot, libm-free case) compiled for AVX-512, AVX2
// and baseline, picked at load time; every other instantiation is built for the
// baseline.
#define TAUC_TILE_LOGISTIC_F32(K)                                                                                    \
  __attribute__((target_clones("avx512f", "avx2", "default"))) void tile_logistic_f32_##K(                           \
      float q, float sign, float m, float s, const float* x, const float* w, int64_t stride, int64_t j0, int64_t j1, \
      double* val, double* der) {                                                                                    \
    tile<PairSurrogate::Logistic, float, K>(q, sign, m, s, x, w, stride, j0, j1, val, der);                          \
  }
TAUC_TILE_LOGISTIC_F32(1)
TAUC_TILE_LOGISTIC_F32(2)
TAUC_TILE_LOGISTIC_F32(3)
TAUC_TILE_LOGISTIC_F32(4)
#undef TAUC_TILE_LOGISTIC_F32

template <PairSurrogate S, typename T, int K>
void tile_fn(T q, T sign, T m, T s, const T* x, const T* w, int64_t stride, int64_t j0, int64_t j1, double* val,
             double* der) {
  tile<S, T, K>(q, sign, m, s, x, w, stride, j0, j1, val, der);
}

template <PairSurrogate S, typename T, int K>
TileFn<T> pick_tile() {
  if constexpr (S == PairSurrogate::Logistic && std::is_same_v<T, float>) {
    constexpr TileFn<float> fns[4] = {tile_logistic_f32_1, tile_logistic_f32_2, tile_logistic_f32_3,
                                      tile_logistic_f32_4};
    return fns[K - 1];
  } else {
    return tile_fn<S, T, K>;
  }
}

template <typename T>
void pair_sums(const PairSumsArgs& a, TileFn<T> fn, double margin, double scale, double sign, double* value,
               double* dquery) {
  const T* q = a.queries.data_ptr<T>();
  const T* x = a.items.data_ptr<T>();
  const T* w = a.weights.data_ptr<T>();
  const int64_t* grp = a.group.data_ptr<int64_t>();
  const int64_t* off = a.offsets.data_ptr<int64_t>();
  const int64_t K = a.K, Q = a.Q;
  const int64_t per_query = std::max<int64_t>(1, a.I / std::max<int64_t>(1, a.G));
  at::parallel_for(0, Q, std::max<int64_t>(1, (int64_t(1) << 15) / per_query), [&](int64_t b, int64_t e) {
    for (int64_t i = b; i < e; ++i) {
      double val[kMaxWeights] = {0, 0, 0, 0}, der[kMaxWeights] = {0, 0, 0, 0};
      query_sums<T>(fn, q[i], static_cast<T>(sign), static_cast<T>(margin), static_cast<T>(scale), x, w, a.I,
                    off[grp[i]], off[grp[i] + 1], val, der);
      for (int64_t k = 0; k < K; ++k) {
        value[k * Q + i] = val[k];
        dquery[k * Q + i] = sign * der[k];  // dt / d query = sign
      }
    }
  });
}

std::tuple<at::Tensor, at::Tensor> grouped_pair_sums_cpu(const at::Tensor& queries, const at::Tensor& query_group,
                                                         const at::Tensor& items, const at::Tensor& item_offsets,
                                                         const at::Tensor& weights, c10::string_view surrogate,
                                                         double margin, double scale, double sign) {
  const PairSumsArgs a =
      check_pair_sums_args(queries, query_group, items, item_offsets, weights, surrogate, margin, scale, sign);
  check_group_indices_cpu(a);
  const auto f64 = queries.options().dtype(at::kDouble);
  at::Tensor value = at::empty({a.K, a.Q}, f64), dquery = at::empty({a.K, a.Q}, f64);
  double* v = value.data_ptr<double>();
  double* d = dquery.data_ptr<double>();
  const bool dbl = a.items.scalar_type() == at::kDouble;
  dispatch_surrogate_k(a.surrogate, a.K, [&](auto sc, auto kc) {
    constexpr PairSurrogate S = decltype(sc)::value;
    constexpr int K = decltype(kc)::value;
    if (dbl)
      pair_sums<double>(a, pick_tile<S, double, K>(), margin, scale, sign, v, d);
    else
      pair_sums<float>(a, pick_tile<S, float, K>(), margin, scale, sign, v, d);
  });
  return {value, dquery};
}

}  // namespace

template <typename T>
TileFn<T> tile_function(PairSurrogate s, int64_t K) {
  TileFn<T> fn = nullptr;
  dispatch_surrogate_k(s, K, [&](auto sc, auto kc) { fn = pick_tile<decltype(sc)::value, T, decltype(kc)::value>(); });
  return fn;
}
template TileFn<float> tile_function<float>(PairSurrogate, int64_t);
template TileFn<double> tile_function<double>(PairSurrogate, int64_t);

TORCH_LIBRARY_IMPL(torchauc, CPU, m) { m.impl("grouped_pair_sums", &grouped_pair_sums_cpu); }

}  // namespace torchauc::pair_sums
