// CPU kernels of the partial-AUC family:
//  * partial_auc_select: the top-k selection of hard negatives (and, two-way, hard positives):
//    std::nth_element over order-preserving integer keys, then one pass for the ties, O(n);
//  * partial_auc_exp_rows / partial_auc_exp_cols: per-positive and per-negative sums of exp(l_ij / lambda) for the
//    LibAUC-compatible DRO/KL losses, tiled with O(n) memory and a per-row max shift (no overflow).
//    Both classes are radix-sorted first so that only active pairs (l > 0) are visited: the
//    inactive ones (l = l' = 0) are counted, not summed. For float inputs the sorted classes are cut
//    into blocks and every all-active block pair that is big enough is summed in O(|I| + |J|) by the
//    factored expansion of cpu_expand.h (double); float64 inputs stay pair by pair.
#include <ATen/ATen.h>
#include <ATen/Dispatch.h>
#include <ATen/Parallel.h>
#include <torch/library.h>

#include <algorithm>
#include <cmath>
#include <functional>
#include <limits>
#include <string>
#include <vector>

#include "core/checks.h"
#include "core/fast_math.h"
#include "core/labels.h"
#include "core/radix_sort.h"
#include "partial_auc/args.h"
#include "partial_auc/cpu_expand.h"
#include "partial_auc/math.h"

namespace torchauc::partial_auc {
namespace {

// ---------------------------------------------------------------- selection
// Hardness as an order-preserving unsigned key (larger = harder): the score for a negative, minus
// the score for a positive, -0 folded onto +0 (they tie), NaN above everything. K is float for
// float32/float16/bfloat16 scores (exact: both half types widen exactly) and double for float64.
template <typename K>
inline sort_key_t<K> hardness_key(K h) {
  if (std::isnan(h)) return std::numeric_limits<sort_key_t<K>>::max();
  return sort_key<K>(h);  // folds -0 onto +0
}

// Marks the k hardest members of one class, ties at the cut-off going to the smaller index. One
// nth_element over plain integer keys (no comparator indirection) finds the cut-off key t; then one
// pass in index order takes every key > t and the first (k - #{key > t}) keys equal to t. O(n).
template <typename U>
void select_class(const std::vector<U>& keys, const std::vector<int64_t>& idx, int64_t k, bool* m) {
  const int64_t n = static_cast<int64_t>(keys.size());
  if (k <= 0) return;
  if (k >= n) {
    for (int64_t r = 0; r < n; ++r) m[idx[r]] = true;
    return;
  }
  std::vector<U> work(keys);
  std::nth_element(work.begin(), work.begin() + (k - 1), work.end(), std::greater<U>());
  const U t = work[k - 1];
  int64_t above = 0;
  for (int64_t r = 0; r < n; ++r) above += keys[r] > t;
  int64_t ties = k - above;  // how many keys equal to t are taken, lowest index first
  for (int64_t r = 0; r < n; ++r) {
    const U key = keys[r];
    if (key > t || (key == t && ties-- > 0)) m[idx[r]] = true;
  }
}

template <typename K, typename scalar_t>
void select_typed(const scalar_t* s, const int8_t* yy, int64_t n, int64_t npos, double max_fpr, double min_tpr,
                  Rounding rounding, bool* m) {
  using U = sort_key_t<K>;
  std::vector<U> pkey(npos), nkey(n - npos);
  std::vector<int64_t> pos(npos), neg(n - npos);
  int64_t ip = 0, in = 0;
  for (int64_t i = 0; i < n; ++i) {
    const K v = static_cast<K>(s[i]);
    if (yy[i]) {
      pos[ip] = i;
      pkey[ip++] = hardness_key<K>(-v);
    } else {
      neg[in] = i;
      nkey[in++] = hardness_key<K>(v);
    }
  }
  select_class(nkey, neg, kept_count(max_fpr, n - npos, rounding), m);
  select_class(pkey, pos, kept_count(1.0 - min_tpr, npos, rounding), m);
}

// Keeps the k- highest-scored negatives and the k+ lowest-scored positives. Ties at the cut-off
// go to the smaller index; NaN counts as the hardest score (selected first, lowest index first).
at::Tensor partial_auc_select_cpu(const at::Tensor& scores_in, const at::Tensor& labels_in, double max_fpr,
                                  double min_tpr, c10::string_view rounding_name) {
  const at::Tensor scores = check_binary_scores(scores_in);
  const at::Tensor labels = check_binary_labels(labels_in, scores);
  check_partial_bounds(max_fpr, min_tpr, /*allow_empty=*/true);
  const Rounding rounding = parse_rounding(rounding_name);
  const BinaryLabels lab = binary_labels(labels);
  const int8_t* yy = lab.y.data_ptr<int8_t>();
  const int64_t n = scores.numel(), npos = lab.n_pos;

  at::Tensor mask = at::empty({n}, scores.options().dtype(at::kBool));
  bool* m = mask.data_ptr<bool>();
  std::fill(m, m + n, false);  // serial: O(n) stores, not worth a parallel region
  AT_DISPATCH_FLOATING_TYPES_AND2(at::kHalf, at::kBFloat16, scores.scalar_type(), "partial_auc_select", [&] {
    using K = std::conditional_t<std::is_same_v<scalar_t, double>, double, float>;
    select_typed<K>(scores.data_ptr<scalar_t>(), yy, n, npos, max_fpr, min_tpr, rounding, m);
  });
  return mask;
}

// ---------------------------------------------------------------- exp row / column sums
constexpr int64_t kTile = 2048;  // inner block; float block partials are accumulated in double

// Row sums of one positive (key k = margin - x, shift c) over negatives z[j0, j1).
template <Surrogate S, typename T>
__attribute__((always_inline)) inline void rows_tile(T k, T c, T inv_lambda, const T* z, int64_t j0, int64_t j1, T* r0,
                                                     T* r1, T* r2) {
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
template <Surrogate S, typename T>
__attribute__((always_inline)) inline T cols_tile(T z, T inv_lambda, const T* k, const T* c, const T* alpha, int64_t i0,
                                                  int64_t i1) {
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
#define TAUC_PAUC_F32(SUFFIX, S)                                                                             \
  __attribute__((target_clones("avx2", "default"))) void rows_tile_##SUFFIX(                                 \
      float k, float c, float il, const float* z, int64_t j0, int64_t j1, float* r0, float* r1, float* r2) { \
    rows_tile<S, float>(k, c, il, z, j0, j1, r0, r1, r2);                                                    \
  }                                                                                                          \
  __attribute__((target_clones("avx2", "default"))) float cols_tile_##SUFFIX(                                \
      float z, float il, const float* k, const float* c, const float* a, int64_t i0, int64_t i1) {           \
    return cols_tile<S, float>(z, il, k, c, a, i0, i1);                                                      \
  }
TAUC_PAUC_F32(sqh, Surrogate::SquaredHinge)
TAUC_PAUC_F32(hinge, Surrogate::Hinge)
#undef TAUC_PAUC_F32

template <Surrogate S, typename T>
void rows_dispatch(T k, T c, T il, const T* z, int64_t j0, int64_t j1, T* r0, T* r1, T* r2) {
  if constexpr (std::is_same_v<T, float>) {
    if constexpr (S == Surrogate::SquaredHinge)
      rows_tile_sqh(k, c, il, z, j0, j1, r0, r1, r2);
    else
      rows_tile_hinge(k, c, il, z, j0, j1, r0, r1, r2);
  } else {
    rows_tile<S, T>(k, c, il, z, j0, j1, r0, r1, r2);
  }
}

template <Surrogate S, typename T>
T cols_dispatch(T z, T il, const T* k, const T* c, const T* a, int64_t i0, int64_t i1) {
  if constexpr (std::is_same_v<T, float>) {
    if constexpr (S == Surrogate::SquaredHinge)
      return cols_tile_sqh(z, il, k, c, a, i0, i1);
    else
      return cols_tile_hinge(z, il, k, c, a, i0, i1);
  } else {
    return cols_tile<S, T>(z, il, k, c, a, i0, i1);
  }
}

// Both classes compacted in the compute type T and sorted: negatives z ascending, positives by
// nk = -k = x - margin ascending (k = margin - x). A pair is active (d = k + z > 0, so l > 0) iff
// z > nk, exactly, also in floating point (fl(k + z) > 0 iff k + z > 0). Hence
//  * positive i is active against the suffix of negatives z > nk_i; the inactive prefix has
//    l = l' = 0 and e = exp(-c_i), so it is counted instead of summed;
//  * negative j is active against the prefix of positives nk < z_j; inactive pairs add nothing
//    to its column sum (l' = 0).
// A NaN score anywhere makes every statistic NaN (no order exists), see `any_nan`.
template <typename T>
struct Sorted {
  std::vector<T> z, nk, c;          // sorted negatives; sorted positive -k and their row shifts
  std::vector<int64_t> nidx, pidx;  // original indices, in sorted order
  std::vector<int64_t> first;       // positive r: # negatives inactive against it (z <= nk_r)
  std::vector<int64_t> count;       // negative j: # positives active against it (nk < z_j)
  bool any_nan = false;
};

template <typename T>
Sorted<T> sort_classes(const double* s, const int8_t* y, int64_t n, double margin, double inv_lambda, Surrogate sur) {
  Sorted<T> out;
  std::vector<T> z, nk;
  for (int64_t i = 0; i < n; ++i) {
    if (std::isnan(s[i])) out.any_nan = true;
    if (y[i]) {
      out.pidx.push_back(i);
      nk.push_back(-static_cast<T>(margin - s[i]));
    } else {
      out.nidx.push_back(i);
      z.push_back(static_cast<T>(s[i]));
    }
  }
  if (out.any_nan) return out;
  radix_sort_pairs(z, out.nidx);
  radix_sort_pairs(nk, out.pidx);
  out.z = std::move(z);
  out.nk = std::move(nk);
  const int64_t np = out.nk.size(), nn = out.z.size();
  const double zmax = nn ? static_cast<double>(out.z.back()) : 0.0;
  out.c.resize(np);
  out.first.resize(np);
  for (int64_t r = 0; r < np; ++r) {
    out.c[r] = nn ? static_cast<T>(pauc_row_shift<double>(sur, margin - s[out.pidx[r]], zmax, inv_lambda)) : T(0);
  }
  out.count.resize(nn);
  // two merges of sorted sequences: first[r] = #{z <= nk_r}, count[j] = #{nk < z_j}
  for (int64_t r = 0, j = 0; r < np; ++r) {
    while (j < nn && out.z[j] <= out.nk[r]) ++j;
    out.first[r] = j;
  }
  for (int64_t j = 0, r = 0; j < nn; ++j) {
    while (r < np && out.nk[r] < out.z[j]) ++r;
    out.count[j] = r;
  }
  return out;
}

// Runs fn(b, e) over [0, m) split into per-thread ranges of equal work, where work(i) is the
// work of item i; small totals run inline (a parallel region costs more than it saves there).
template <typename W, typename F>
void parallel_by_work(int64_t m, W work, F fn) {
  constexpr int64_t kSerialWork = 1 << 16;
  std::vector<int64_t> prefix(m + 1, 0);
  for (int64_t i = 0; i < m; ++i) prefix[i + 1] = prefix[i] + work(i) + 1;
  const int64_t parts = std::min<int64_t>(at::get_num_threads(), m);
  if (prefix[m] < kSerialWork || parts <= 1) {
    if (m > 0) fn(0, m);
    return;
  }
  std::vector<int64_t> cut(parts + 1, m);
  cut[0] = 0;
  for (int64_t p = 1; p < parts; ++p)
    cut[p] = std::lower_bound(prefix.begin(), prefix.end(), prefix[m] / parts * p) - prefix.begin();
  at::parallel_for(0, parts, 1, [&](int64_t pb, int64_t pe) {
    for (int64_t p = pb; p < pe; ++p)
      if (cut[p] < cut[p + 1]) fn(cut[p], cut[p + 1]);
  });
}

template <Surrogate S, typename T>
void rows_impl(const Sorted<T>& C, T il, double* shift, double* r0, double* r1, double* r2) {
  const int64_t np = C.nk.size(), nn = C.z.size();
  parallel_by_work(
      np, [&](int64_t r) { return nn - C.first[r]; },
      [&](int64_t ib, int64_t ie) {
        for (int64_t r = ib; r < ie; ++r) {
          const T k = -C.nk[r];
          const int64_t f = C.first[r];
          double s0 = static_cast<double>(f) * std::exp(-static_cast<double>(C.c[r])), s1 = 0.0, s2 = 0.0;
          for (int64_t j0 = f; j0 < nn; j0 += kTile) {
            T a0, a1, a2;
            rows_dispatch<S, T>(k, C.c[r], il, C.z.data(), j0, std::min(nn, j0 + kTile), &a0, &a1, &a2);
            s0 += a0;
            s1 += a1;
            s2 += a2;
          }
          const int64_t o = C.pidx[r];
          shift[o] = C.c[r];
          r0[o] = s0;
          r1[o] = s1;
          r2[o] = s2;
        }
      });
}

template <Surrogate S, typename T>
void cols_impl(const Sorted<T>& C, const std::vector<T>& alpha, T il, double* col) {
  const int64_t nn = C.z.size();
  std::vector<T> k(C.nk.size());
  for (size_t r = 0; r < k.size(); ++r) k[r] = -C.nk[r];
  parallel_by_work(
      nn, [&](int64_t j) { return C.count[j]; },
      [&](int64_t jb, int64_t je) {
        for (int64_t j = jb; j < je; ++j) {
          const int64_t np = C.count[j];
          double acc = 0.0;
          for (int64_t i0 = 0; i0 < np; i0 += kTile)
            acc += cols_dispatch<S, T>(C.z[j], il, k.data(), C.c.data(), alpha.data(), i0, std::min(np, i0 + kTile));
          col[C.nidx[j]] = acc;
        }
      });
}

// float inputs: the pairs are grouped into block pairs (pauc_expand.h); all-active block pairs where
// the expansion pays are summed by it in double, the others (mixed, small or wide) directly as above.
constexpr int64_t kBlockCap = 2048;

template <Surrogate S>
void rows_blocked(const Sorted<float>& C, double il, double* shift, double* r0, double* r1, double* r2) {
  const int64_t np = C.nk.size(), nn = C.z.size();
  std::vector<float> k(np);
  for (int64_t r = 0; r < np; ++r) k[r] = -C.nk[r];
  const double w = pauc_block_width(S, il);
  const std::vector<Block> PB = pauc_blocks(C.nk, w, kBlockCap), NB = pauc_blocks(C.z, w, kBlockCap);
  std::vector<double> s0(np), s1(np, 0.0), s2(np, 0.0);
  at::parallel_for(0, static_cast<int64_t>(PB.size()), 1, [&](int64_t qb, int64_t qe) {
    for (int64_t q = qb; q < qe; ++q) {
      const Block& I = PB[q];
      const double k0 = -0.5 * (I.lo + I.hi), wI = I.hi - I.lo;
      for (int64_t r = I.b; r < I.e; ++r)
        s0[r] = static_cast<double>(C.first[r]) * std::exp(-static_cast<double>(C.c[r]));
      // consecutive block pairs that are not expanded are summed directly as one run of negatives
      int64_t run_b = 0, run_e = 0;
      auto flush = [&] {
        for (int64_t r = I.b; r < I.e && run_b < run_e; ++r) {
          for (int64_t j0 = std::max(run_b, C.first[r]); j0 < run_e; j0 += kTile) {
            float a0, a1, a2;
            rows_dispatch<S, float>(k[r], C.c[r], static_cast<float>(il), C.z.data(), j0, std::min(run_e, j0 + kTile),
                                    &a0, &a1, &a2);
            s0[r] += a0;
            s1[r] += a1;
            s2[r] += a2;
          }
        }
        run_b = run_e = 0;
      };
      for (const Block& J : NB) {
        if (J.hi <= I.lo) continue;  // every pair inactive: counted in s0 already
        const double z0 = 0.5 * (J.lo + J.hi);
        if (J.lo > I.hi && expansion_ok(S, il, k0 + z0, wI, J.hi - J.lo, I.e - I.b, J.e - J.b)) {
          flush();
          expand_rows<S, float>(il, k.data(), C.c.data(), I.b, I.e, k0, C.z.data(), J.b, J.e, z0, s0.data(), s1.data(),
                                s2.data());
          continue;
        }
        if (run_b == run_e) run_b = J.b;
        run_e = J.e;
      }
      flush();
      for (int64_t r = I.b; r < I.e; ++r) {
        const int64_t o = C.pidx[r];
        shift[o] = C.c[r];
        r0[o] = s0[r];
        r1[o] = s1[r];
        r2[o] = s2[r];
      }
    }
  });
  (void)nn;
}

template <Surrogate S>
void cols_blocked(const Sorted<float>& C, const std::vector<float>& alpha, double il, double* col) {
  const int64_t np = C.nk.size(), nn = C.z.size();
  std::vector<float> k(np);
  for (int64_t r = 0; r < np; ++r) k[r] = -C.nk[r];
  const double w = pauc_block_width(S, il);
  const std::vector<Block> PB = pauc_blocks(C.nk, w, kBlockCap), NB = pauc_blocks(C.z, w, kBlockCap);
  std::vector<double> acc(nn, 0.0);
  at::parallel_for(0, static_cast<int64_t>(NB.size()), 1, [&](int64_t qb, int64_t qe) {
    for (int64_t q = qb; q < qe; ++q) {
      const Block& J = NB[q];
      const double z0 = 0.5 * (J.lo + J.hi), wJ = J.hi - J.lo;
      // consecutive block pairs that are not expanded are summed directly as one run of positives
      int64_t run_b = 0, run_e = 0;
      auto flush = [&] {
        for (int64_t j = J.b; j < J.e && run_b < run_e; ++j) {
          const int64_t i1 = std::min(run_e, C.count[j]);
          for (int64_t i0 = run_b; i0 < i1; i0 += kTile)
            acc[j] += cols_dispatch<S, float>(C.z[j], static_cast<float>(il), k.data(), C.c.data(), alpha.data(), i0,
                                              std::min(i1, i0 + kTile));
        }
        run_b = run_e = 0;
      };
      for (const Block& I : PB) {
        if (J.hi <= I.lo) continue;  // every pair inactive: l' = 0
        const double k0 = -0.5 * (I.lo + I.hi);
        if (J.lo > I.hi && expansion_ok(S, il, k0 + z0, I.hi - I.lo, wJ, I.e - I.b, J.e - J.b)) {
          flush();
          expand_cols<S, float>(il, k.data(), C.c.data(), alpha.data(), I.b, I.e, k0, C.z.data(), J.b, J.e, z0,
                                acc.data());
          continue;
        }
        if (run_b == run_e) run_b = I.b;
        run_e = I.e;
      }
      flush();
      for (int64_t j = J.b; j < J.e; ++j) col[C.nidx[j]] = acc[j];
    }
  });
}

// Whether the block pairs cover enough pairs for the blocked path to beat the plain pair loop.
inline bool blocks_pay(const Sorted<float>& C, Surrogate sur, double il) {
  const double w = pauc_block_width(sur, il);
  const int64_t np = C.nk.size(), nn = C.z.size();
  return pauc_block_coverage(pauc_blocks(C.nk, w, kBlockCap), np) *
             pauc_block_coverage(pauc_blocks(C.z, w, kBlockCap), nn) >=
         0.5;
}

struct ExpArgs {
  at::Tensor s64, y;  // (C, n): one independent problem per column of the input
  int64_t cols, n;
  Surrogate sur;
  bool use_double;
};

ExpArgs exp_args(const at::Tensor& scores_in, const at::Tensor& labels_in, double margin, double lambda,
                 c10::string_view surrogate) {
  const ExpInputs in = check_exp_inputs(scores_in, labels_in, margin, lambda, surrogate);
  ExpArgs a;
  a.sur = in.sur;
  a.y = binary_labels(in.labels).y;
  a.s64 = in.scores.to(at::kDouble).contiguous();
  a.cols = in.cols;
  a.n = in.n;
  a.use_double = in.scores.scalar_type() == at::kDouble;
  return a;
}

// Runs fn(column) for every column: one column uses the per-column parallelism, several columns are
// spread over the threads (nested parallel regions run inline).
template <typename F>
void for_each_column(const ExpArgs& a, F fn) {
  if (a.cols == 1) return fn(int64_t{0});
  at::parallel_for(0, a.cols, 1, [&](int64_t b, int64_t e) {
    for (int64_t col = b; col < e; ++col) fn(col);
  });
}

template <typename T>
void rows_typed(const ExpArgs& a, int64_t col, double margin, double il, double* sh, double* r0, double* r1,
                double* r2) {
  const int64_t o = col * a.n;
  sh += o, r0 += o, r1 += o, r2 += o;
  const Sorted<T> C = sort_classes<T>(a.s64.data_ptr<double>() + o, a.y.data_ptr<int8_t>() + o, a.n, margin, il, a.sur);
  if (C.any_nan) {
    const double nan = std::numeric_limits<double>::quiet_NaN();
    for (int64_t p : C.pidx) sh[p] = r0[p] = r1[p] = r2[p] = nan;
    return;
  }
  const bool sqh = a.sur == Surrogate::SquaredHinge;
  if constexpr (std::is_same_v<T, float>) {
    if (!blocks_pay(C, a.sur, il)) {
      if (sqh)
        rows_impl<Surrogate::SquaredHinge, T>(C, T(il), sh, r0, r1, r2);
      else
        rows_impl<Surrogate::Hinge, T>(C, T(il), sh, r0, r1, r2);
    } else if (sqh)
      rows_blocked<Surrogate::SquaredHinge>(C, il, sh, r0, r1, r2);
    else
      rows_blocked<Surrogate::Hinge>(C, il, sh, r0, r1, r2);
  } else {
    if (sqh)
      rows_impl<Surrogate::SquaredHinge, T>(C, T(il), sh, r0, r1, r2);
    else
      rows_impl<Surrogate::Hinge, T>(C, T(il), sh, r0, r1, r2);
  }
}

template <typename T>
void cols_typed(const ExpArgs& a, int64_t col_index, const double* scale, double margin, double il, double* col) {
  const int64_t o = col_index * a.n;
  scale += o, col += o;
  const Sorted<T> C = sort_classes<T>(a.s64.data_ptr<double>() + o, a.y.data_ptr<int8_t>() + o, a.n, margin, il, a.sur);
  if (C.any_nan) {
    for (int64_t q : C.nidx) col[q] = std::numeric_limits<double>::quiet_NaN();
    return;
  }
  std::vector<T> alpha(C.nk.size());
  for (size_t r = 0; r < alpha.size(); ++r) alpha[r] = static_cast<T>(scale[C.pidx[r]]);
  const bool sqh = a.sur == Surrogate::SquaredHinge;
  if constexpr (std::is_same_v<T, float>) {
    if (!blocks_pay(C, a.sur, il)) {
      if (sqh)
        cols_impl<Surrogate::SquaredHinge, T>(C, alpha, T(il), col);
      else
        cols_impl<Surrogate::Hinge, T>(C, alpha, T(il), col);
    } else if (sqh)
      cols_blocked<Surrogate::SquaredHinge>(C, alpha, il, col);
    else
      cols_blocked<Surrogate::Hinge>(C, alpha, il, col);
  } else {
    if (sqh)
      cols_impl<Surrogate::SquaredHinge, T>(C, alpha, T(il), col);
    else
      cols_impl<Surrogate::Hinge, T>(C, alpha, T(il), col);
  }
}

std::tuple<at::Tensor, at::Tensor, at::Tensor, at::Tensor> partial_auc_exp_rows_cpu(const at::Tensor& scores,
                                                                                    const at::Tensor& labels,
                                                                                    double margin, double lambda,
                                                                                    c10::string_view surrogate) {
  const ExpArgs a = exp_args(scores, labels, margin, lambda, surrogate);
  const auto opts = a.s64.options();
  at::Tensor sh = at::zeros({a.cols, a.n}, opts), r0 = at::zeros({a.cols, a.n}, opts),
             r1 = at::zeros({a.cols, a.n}, opts), r2 = at::zeros({a.cols, a.n}, opts);
  double* p[4] = {sh.data_ptr<double>(), r0.data_ptr<double>(), r1.data_ptr<double>(), r2.data_ptr<double>()};
  for_each_column(a, [&](int64_t col) {
    if (a.use_double)
      rows_typed<double>(a, col, margin, 1.0 / lambda, p[0], p[1], p[2], p[3]);
    else
      rows_typed<float>(a, col, margin, 1.0 / lambda, p[0], p[1], p[2], p[3]);
  });
  return {exp_output(sh, scores), exp_output(r0, scores), exp_output(r1, scores), exp_output(r2, scores)};
}

at::Tensor partial_auc_exp_cols_cpu(const at::Tensor& scores, const at::Tensor& labels, const at::Tensor& row_scale,
                                    double margin, double lambda, c10::string_view surrogate) {
  const ExpArgs a = exp_args(scores, labels, margin, lambda, surrogate);
  const at::Tensor scale = check_exp_row_scale(row_scale, scores);
  at::Tensor col = at::zeros({a.cols, a.n}, a.s64.options());
  for_each_column(a, [&](int64_t c) {
    if (a.use_double)
      cols_typed<double>(a, c, scale.data_ptr<double>(), margin, 1.0 / lambda, col.data_ptr<double>());
    else
      cols_typed<float>(a, c, scale.data_ptr<double>(), margin, 1.0 / lambda, col.data_ptr<double>());
  });
  return exp_output(col, scores);
}

}  // namespace

TORCH_LIBRARY_IMPL(torchauc, CPU, m) {
  m.impl("partial_auc_select", &partial_auc_select_cpu);
  m.impl("partial_auc_exp_rows", &partial_auc_exp_rows_cpu);
  m.impl("partial_auc_exp_cols", &partial_auc_exp_cols_cpu);
}

}  // namespace torchauc::partial_auc
