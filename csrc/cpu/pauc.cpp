// CPU kernels of the partial-AUC family:
//  * partial_auc_select: the top-k selection of hard negatives (and, two-way, hard positives) with
//    std::nth_element on a strict total order (score, then index), O(n);
//  * pauc_exp_rows / pauc_exp_cols: per-positive and per-negative sums of exp(l_ij / lambda) for the
//    LibAUC-compatible DRO/KL losses, tiled with O(n) memory and a per-row max shift (no overflow).
#include <ATen/ATen.h>
#include <ATen/Parallel.h>
#include <torch/library.h>

#include <algorithm>
#include <cmath>
#include <limits>
#include <string>
#include <vector>

#include "checks.h"
#include "common/fast_math.h"
#include "common/pauc_math.h"
#include "cpu/labels.h"
#include "pauc_args.h"

namespace torchauc {
namespace {

// ---------------------------------------------------------------- selection
// Keeps the k- highest-scored negatives and the k+ lowest-scored positives. Ties at the cut-off
// go to the smaller index; NaN counts as the hardest score (selected first, lowest index first).
at::Tensor partial_auc_select_cpu(const at::Tensor& scores_in, const at::Tensor& labels_in, double max_fpr,
                                  double min_tpr, c10::string_view rounding_name) {
  const at::Tensor scores = check_binary_scores(scores_in);
  const at::Tensor labels = check_binary_labels(labels_in, scores);
  check_pauc_fractions(max_fpr, min_tpr);
  const PaucRounding rounding = parse_pauc_rounding(rounding_name);
  const at::Tensor y = binary_labels_cpu(labels);
  const at::Tensor s64 = scores.to(at::kDouble).contiguous();
  const double* s = s64.data_ptr<double>();
  const int8_t* yy = y.data_ptr<int8_t>();
  const int64_t n = scores.numel();

  std::vector<int64_t> pos, neg;
  for (int64_t i = 0; i < n; ++i) (yy[i] ? pos : neg).push_back(i);
  const int64_t kneg = pauc_count(max_fpr, static_cast<long long>(neg.size()), rounding);
  const int64_t kpos = pauc_count(1.0 - min_tpr, static_cast<long long>(pos.size()), rounding);

  at::Tensor mask = at::zeros({n}, scores.options().dtype(at::kBool));
  bool* m = mask.data_ptr<bool>();
  // hardness: larger is harder (negatives: score; positives: -score); NaN is the hardest
  auto select = [&](std::vector<int64_t>& idx, int64_t k, bool positive) {
    if (k <= 0) return;
    auto harder = [&](int64_t a, int64_t b) {
      const bool na = std::isnan(s[a]), nb = std::isnan(s[b]);
      if (na != nb) return na;
      const double ha = na ? 0.0 : (positive ? -s[a] : s[a]), hb = nb ? 0.0 : (positive ? -s[b] : s[b]);
      return ha > hb || (ha == hb && a < b);
    };
    if (k < static_cast<int64_t>(idx.size())) std::nth_element(idx.begin(), idx.begin() + (k - 1), idx.end(), harder);
    for (int64_t r = 0; r < k; ++r) m[idx[r]] = true;
  };
  select(neg, kneg, false);
  select(pos, kpos, true);
  return mask;
}

// ---------------------------------------------------------------- exp row / column sums
constexpr int64_t kTile = 2048;  // inner block; float block partials are accumulated in double

// Row sums of one positive (key k = margin - x, shift c) over negatives z[j0, j1).
template <PaucSurrogate S, typename T>
__attribute__((always_inline)) inline void rows_tile(T k, T c, T inv_lambda, const T* z, int64_t j0, int64_t j1,
                                                     T* r0, T* r1, T* r2) {
  T a0 = 0, a1 = 0, a2 = 0;
#pragma omp simd reduction(+ : a0, a1, a2)
  for (int64_t j = j0; j < j1; ++j) {
    T l, dl;
    pauc_surrogate<S, T>(k + z[j], &l, &dl);
    const T e = exp_nonpos(l * inv_lambda - c);
    a0 += e;
    a1 += e * dl;
    a2 += e * l;
  }
  *r0 = a0;
  *r1 = a1;
  *r2 = a2;
}

// Column sum of one negative z over positives [i0, i1): sum alpha_i exp(l / lambda - c_i) l'.
template <PaucSurrogate S, typename T>
__attribute__((always_inline)) inline T cols_tile(T z, T inv_lambda, const T* k, const T* c, const T* alpha,
                                                  int64_t i0, int64_t i1) {
  T acc = 0;
#pragma omp simd reduction(+ : acc)
  for (int64_t i = i0; i < i1; ++i) {
    T l, dl;
    pauc_surrogate<S, T>(k[i] + z, &l, &dl);
    acc += alpha[i] * exp_nonpos(l * inv_lambda - c[i]) * dl;
  }
  return acc;
}

// float instantiations compiled for AVX2 and baseline, picked at load time
#define TAUC_PAUC_F32(SUFFIX, S)                                                                        \
  __attribute__((target_clones("avx2", "default"))) void rows_tile_##SUFFIX(                         \
      float k, float c, float il, const float* z, int64_t j0, int64_t j1, float* r0, float* r1, float* r2) { \
    rows_tile<S, float>(k, c, il, z, j0, j1, r0, r1, r2);                                               \
  }                                                                                                     \
  __attribute__((target_clones("avx2", "default"))) float cols_tile_##SUFFIX(                        \
      float z, float il, const float* k, const float* c, const float* a, int64_t i0, int64_t i1) {     \
    return cols_tile<S, float>(z, il, k, c, a, i0, i1);                                                 \
  }
TAUC_PAUC_F32(sqh, PaucSurrogate::SquaredHinge)
TAUC_PAUC_F32(hinge, PaucSurrogate::Hinge)
#undef TAUC_PAUC_F32

template <PaucSurrogate S, typename T>
void rows_dispatch(T k, T c, T il, const T* z, int64_t j0, int64_t j1, T* r0, T* r1, T* r2) {
  if constexpr (std::is_same_v<T, float>) {
    if constexpr (S == PaucSurrogate::SquaredHinge) rows_tile_sqh(k, c, il, z, j0, j1, r0, r1, r2);
    else rows_tile_hinge(k, c, il, z, j0, j1, r0, r1, r2);
  } else {
    rows_tile<S, T>(k, c, il, z, j0, j1, r0, r1, r2);
  }
}

template <PaucSurrogate S, typename T>
T cols_dispatch(T z, T il, const T* k, const T* c, const T* a, int64_t i0, int64_t i1) {
  if constexpr (std::is_same_v<T, float>) {
    if constexpr (S == PaucSurrogate::SquaredHinge) return cols_tile_sqh(z, il, k, c, a, i0, i1);
    else return cols_tile_hinge(z, il, k, c, a, i0, i1);
  } else {
    return cols_tile<S, T>(z, il, k, c, a, i0, i1);
  }
}

// Both classes compacted in the compute type T: positive keys k = margin - x, negatives z.
template <typename T>
struct Compacted {
  std::vector<T> k, z, c;
  std::vector<int64_t> pidx, nidx;
};

template <typename T>
Compacted<T> compact(const double* s, const int8_t* y, int64_t n, double margin, double inv_lambda,
                     PaucSurrogate sur) {
  Compacted<T> out;
  double zmax = -std::numeric_limits<double>::infinity();
  bool nan_neg = false;
  for (int64_t i = 0; i < n; ++i) {
    if (y[i]) {
      out.pidx.push_back(i);
      out.k.push_back(static_cast<T>(margin - s[i]));
    } else {
      out.nidx.push_back(i);
      out.z.push_back(static_cast<T>(s[i]));
      if (std::isnan(s[i])) nan_neg = true;
      else zmax = std::max(zmax, s[i]);
    }
  }
  if (nan_neg) zmax = std::numeric_limits<double>::quiet_NaN();
  out.c.resize(out.k.size());
  for (size_t r = 0; r < out.k.size(); ++r)
    out.c[r] = out.z.empty() ? T(0)
                             : static_cast<T>(pauc_row_shift<double>(sur, margin - s[out.pidx[r]], zmax, inv_lambda));
  return out;
}

template <PaucSurrogate S, typename T>
void rows_impl(const Compacted<T>& C, T il, double* shift, double* r0, double* r1, double* r2) {
  const int64_t np = C.k.size(), nn = C.z.size();
  at::parallel_for(0, np, 1, [&](int64_t ib, int64_t ie) {
    for (int64_t i = ib; i < ie; ++i) {
      double s0 = 0.0, s1 = 0.0, s2 = 0.0;
      for (int64_t j0 = 0; j0 < nn; j0 += kTile) {
        T a0, a1, a2;
        rows_dispatch<S, T>(C.k[i], C.c[i], il, C.z.data(), j0, std::min(nn, j0 + kTile), &a0, &a1, &a2);
        s0 += a0;
        s1 += a1;
        s2 += a2;
      }
      const int64_t o = C.pidx[i];
      shift[o] = C.c[i];
      r0[o] = s0;
      r1[o] = s1;
      r2[o] = s2;
    }
  });
}

template <PaucSurrogate S, typename T>
void cols_impl(const Compacted<T>& C, const std::vector<T>& alpha, T il, double* col) {
  const int64_t np = C.k.size(), nn = C.z.size();
  at::parallel_for(0, nn, 1, [&](int64_t jb, int64_t je) {
    for (int64_t j = jb; j < je; ++j) {
      double acc = 0.0;
      for (int64_t i0 = 0; i0 < np; i0 += kTile)
        acc += cols_dispatch<S, T>(C.z[j], il, C.k.data(), C.c.data(), alpha.data(), i0, std::min(np, i0 + kTile));
      col[C.nidx[j]] = acc;
    }
  });
}

struct ExpArgs {
  at::Tensor s64, y;
  int64_t n;
  PaucSurrogate sur;
  bool use_double;
};

ExpArgs exp_args(const at::Tensor& scores_in, const at::Tensor& labels_in, double margin, double lambda,
                 c10::string_view surrogate) {
  const at::Tensor scores = check_binary_scores(scores_in);
  const at::Tensor labels = check_binary_labels(labels_in, scores);
  check_pauc_exp_args(margin, lambda);
  ExpArgs a;
  a.sur = parse_pauc_surrogate(surrogate);
  a.y = binary_labels_cpu(labels);
  a.s64 = scores.to(at::kDouble).contiguous();
  a.n = scores.numel();
  a.use_double = scores.scalar_type() == at::kDouble;
  return a;
}

template <typename T>
void rows_typed(const ExpArgs& a, double margin, double il, double* sh, double* r0, double* r1, double* r2) {
  const Compacted<T> C = compact<T>(a.s64.data_ptr<double>(), a.y.data_ptr<int8_t>(), a.n, margin, il, a.sur);
  if (a.sur == PaucSurrogate::SquaredHinge) rows_impl<PaucSurrogate::SquaredHinge, T>(C, T(il), sh, r0, r1, r2);
  else rows_impl<PaucSurrogate::Hinge, T>(C, T(il), sh, r0, r1, r2);
}

template <typename T>
void cols_typed(const ExpArgs& a, const double* scale, double margin, double il, double* col) {
  const Compacted<T> C = compact<T>(a.s64.data_ptr<double>(), a.y.data_ptr<int8_t>(), a.n, margin, il, a.sur);
  std::vector<T> alpha(C.k.size());
  for (size_t r = 0; r < alpha.size(); ++r) alpha[r] = static_cast<T>(scale[C.pidx[r]]);
  if (a.sur == PaucSurrogate::SquaredHinge) cols_impl<PaucSurrogate::SquaredHinge, T>(C, alpha, T(il), col);
  else cols_impl<PaucSurrogate::Hinge, T>(C, alpha, T(il), col);
}

std::tuple<at::Tensor, at::Tensor, at::Tensor, at::Tensor> pauc_exp_rows_cpu(const at::Tensor& scores,
                                                                              const at::Tensor& labels,
                                                                              double margin, double lambda,
                                                                              c10::string_view surrogate) {
  const ExpArgs a = exp_args(scores, labels, margin, lambda, surrogate);
  const auto opts = a.s64.options();
  at::Tensor sh = at::zeros({a.n}, opts), r0 = at::zeros({a.n}, opts), r1 = at::zeros({a.n}, opts),
             r2 = at::zeros({a.n}, opts);
  double* p[4] = {sh.data_ptr<double>(), r0.data_ptr<double>(), r1.data_ptr<double>(), r2.data_ptr<double>()};
  if (a.use_double) rows_typed<double>(a, margin, 1.0 / lambda, p[0], p[1], p[2], p[3]);
  else rows_typed<float>(a, margin, 1.0 / lambda, p[0], p[1], p[2], p[3]);
  return {sh, r0, r1, r2};
}

at::Tensor pauc_exp_cols_cpu(const at::Tensor& scores, const at::Tensor& labels, const at::Tensor& row_scale_in,
                             double margin, double lambda, c10::string_view surrogate) {
  const ExpArgs a = exp_args(scores, labels, margin, lambda, surrogate);
  const auto rs = check_sample_weights(row_scale_in, a.s64, "row_scale");
  const at::Tensor scale = rs->to(at::kDouble).contiguous();
  at::Tensor col = at::zeros({a.n}, a.s64.options());
  if (a.use_double) cols_typed<double>(a, scale.data_ptr<double>(), margin, 1.0 / lambda, col.data_ptr<double>());
  else cols_typed<float>(a, scale.data_ptr<double>(), margin, 1.0 / lambda, col.data_ptr<double>());
  return col;
}

}  // namespace

TORCH_LIBRARY_IMPL(torchauc, CPU, m) {
  m.impl("partial_auc_select", &partial_auc_select_cpu);
  m.impl("pauc_exp_rows", &pauc_exp_rows_cpu);
  m.impl("pauc_exp_cols", &pauc_exp_cols_cpu);
}

}  // namespace torchauc
