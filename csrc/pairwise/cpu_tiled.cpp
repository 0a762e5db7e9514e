// The tiled pairwise pass of the binary pairwise AUC loss (logistic, sigmoid) on the CPU: the loss and,
// when asked, its gradients in the same call.
#include "pairwise/cpu_tiled.h"

#include <ATen/Parallel.h>

#include <algorithm>
#include <cmath>
#include <type_traits>
#include <vector>

#include "core/labels.h"
#include "pairwise/math.h"

namespace torchauc::pairwise {
namespace {

// Inputs as flat arrays (weights null when absent, i.e. all ones). s is the float64 copy of the
// scores.
struct BinaryView {
  const double* s;
  const int8_t* y;
  const double* a;  // positive weights, read at positives
  const double* b;  // negative weights, read at negatives
  int64_t n;
  double pos_w(int64_t i) const { return a ? a[i] : 1.0; }
  double neg_w(int64_t i) const { return b ? b[i] : 1.0; }
};

// What every surrogate produces: S, the side weight totals, and per-sample dS/dscore, dS/dweight.
struct PairwiseSums {
  double S = 0.0, A = 0.0, B = 0.0;
  bool prescaled = false;  // dS arrays already hold d loss (exp folds the scale into its exponent)
  double loss_override = 0.0;
};

template <typename F>
void for_each_sample(int64_t n, const F& f) {
  at::parallel_for(0, n, 1 << 14, [&](int64_t b, int64_t e) {
    for (int64_t i = b; i < e; ++i) f(i);
  });
}

// ---------------------------------------------------------------- logistic, sigmoid (tiled)
// v_ij = m (z_j - x_i) depends on one score of each side, so either side can be the tile's columns: the
// larger side is (more blocks to share among threads). Keys are the raw scores: z - x of two float scores
// is exact when they are close, where -m x + m z would round each product first.
template <typename T>
struct TiledSide {
  std::vector<T> key, w;
  std::vector<int64_t> idx;
  double total_w = 0.0;
};

// `pad_to`: rows go kTileRows and columns kTileLanes at a time, so each side is padded with weight-0 copies
// of its last key (finite terms times 0, never inf * 0).
template <typename T>
TiledSide<T> tiled_side(const BinaryView& v, bool positive, int64_t pad_to) {
  TiledSide<T> c;
  for (int64_t i = 0; i < v.n; ++i) {
    if ((v.y[i] != 0) != positive) continue;
    const double w = positive ? v.pos_w(i) : v.neg_w(i);
    c.key.push_back(static_cast<T>(v.s[i]));
    c.w.push_back(static_cast<T>(w));
    c.idx.push_back(i);
    c.total_w += w;
  }
  while (!c.key.empty() && c.key.size() % pad_to != 0) {
    c.key.push_back(c.key.back());
    c.w.push_back(T(0));
  }
  return c;
}

// Work unit: kTileRows rows against one block of kTileCols columns. The block's key, weight and float column
// partials (4 x 8 KiB) stay in L1 while all rows pass over it; each pass loads and stores a column partial
// once for kTileRows pairs. Row partials live in kTileLanes explicit lanes, added in the same order by every
// ISA clone (the result does not depend on the clone); columns are padded to a multiple of kTileLanes. Float partials
// go to double every kTileRowChunk rows (columns) and every block (rows), so no float sum runs over more than
// max(kTileRowChunk, kTileCols / kTileLanes) = 256 pairs.
constexpr int kTileRows = 4;
constexpr int kTileLanes = 16;
constexpr int64_t kTileCols = 2048;
constexpr int64_t kTileRowChunk = 256;

template <Surrogate S, typename T>
__attribute__((always_inline)) inline void tile_rows(const T* r, const T* a, T scale, const T* c, const T* b,
                                                     int64_t len, T* col_l, T* col_d, T* row_l, T* row_d) {
  static_assert(kTileRows == 4, "the row registers below are spelled out");
  const T r0 = r[0], r1 = r[1], r2 = r[2], r3 = r[3], a0 = a[0], a1 = a[1], a2 = a[2], a3 = a[3];
  T lane_l[kTileRows][kTileLanes] = {}, lane_d[kTileRows][kTileLanes] = {};
  for (int64_t j0 = 0; j0 < len; j0 += kTileLanes) {
#pragma omp simd
    for (int k = 0; k < kTileLanes; ++k) {
      const int64_t j = j0 + k;
      const T cj = c[j], bj = b[j];
      T v0, v1, v2, v3, e0, e1, e2, e3;
      tiled_surrogate<S, T>(scale * (cj - r0), &v0, &e0);
      tiled_surrogate<S, T>(scale * (cj - r1), &v1, &e1);
      tiled_surrogate<S, T>(scale * (cj - r2), &v2, &e2);
      tiled_surrogate<S, T>(scale * (cj - r3), &v3, &e3);
      lane_l[0][k] += bj * v0, lane_l[1][k] += bj * v1, lane_l[2][k] += bj * v2, lane_l[3][k] += bj * v3;
      lane_d[0][k] += bj * e0, lane_d[1][k] += bj * e1, lane_d[2][k] += bj * e2, lane_d[3][k] += bj * e3;
      col_l[j] += (a0 * v0 + a1 * v1) + (a2 * v2 + a3 * v3);
      col_d[j] += (a0 * e0 + a1 * e1) + (a2 * e2 + a3 * e3);
    }
  }
  for (int q = 0; q < kTileRows; ++q) {
    T sl = 0, sd = 0;
    for (int k = 0; k < kTileLanes; ++k) sl += lane_l[q][k], sd += lane_d[q][k];
    row_l[q] = sl, row_d[q] = sd;
  }
}

// The float instantiations are compiled for AVX-512, AVX2 and baseline x86-64 and picked at load time;
// `flatten` inlines the surrogate math into each clone (left out-of-line, the loop does not vectorise).
#define TAUC_TILE_ROWS_F32(NAME, S)                                                                                   \
  __attribute__((target_clones("avx512f", "avx2", "default"), flatten)) void NAME(                                    \
      const float* r, const float* a, float scale, const float* c, const float* b, int64_t len, float* cl, float* cd, \
      float* rl, float* rd) {                                                                                         \
    tile_rows<S, float>(r, a, scale, c, b, len, cl, cd, rl, rd);                                                      \
  }
TAUC_TILE_ROWS_F32(tile_rows_logistic_f32, Surrogate::Logistic)
TAUC_TILE_ROWS_F32(tile_rows_sigmoid_f32, Surrogate::Sigmoid)
#undef TAUC_TILE_ROWS_F32

template <Surrogate S, typename T>
void tile_rows_dispatch(const T* r, const T* a, T scale, const T* c, const T* b, int64_t len, T* cl, T* cd, T* rl,
                        T* rd) {
  if constexpr (std::is_same_v<T, float>) {
    if constexpr (S == Surrogate::Logistic)
      tile_rows_logistic_f32(r, a, scale, c, b, len, cl, cd, rl, rd);
    else
      tile_rows_sigmoid_f32(r, a, scale, c, b, len, cl, cd, rl, rd);
  } else {
    tile_rows<S, T>(r, a, scale, c, b, len, cl, cd, rl, rd);
  }
}

template <Surrogate S, typename T>
PairwiseSums tiled_sums(const BinaryView& v, double m, double* dS_dx, double* dS_dw) {
  int64_t np = 0;
  for (int64_t i = 0; i < v.n; ++i) np += v.y[i] != 0;
  const bool pos_rows = np <= v.n - np;  // the larger side are the columns
  const TiledSide<T> R = tiled_side<T>(v, pos_rows, kTileRows), C = tiled_side<T>(v, !pos_rows, kTileLanes);
  PairwiseSums out;
  out.A = pos_rows ? R.total_w : C.total_w;
  out.B = pos_rows ? C.total_w : R.total_w;
  const int64_t nr = R.key.size(), nc = C.key.size(), nr_real = R.idx.size(), nc_real = C.idx.size();
  if (nr == 0 || nc == 0) return out;
  // v = m (z - x) = scale (column key - row key)
  const T scale = static_cast<T>(pos_rows ? m : -m);
  // Column sums are owned by the thread of their block; row sums are per-thread partials added in
  // thread order (the only place where the thread count changes a rounding, in double).
  const int nthreads = at::get_num_threads();
  std::vector<double> col_l(nc, 0.0), col_d(nc, 0.0);
  std::vector<double> row_part(static_cast<size_t>(nthreads) * 2 * nr, 0.0);
  const int64_t nblocks = (nc + kTileCols - 1) / kTileCols;
  at::parallel_for(0, nblocks, 1, [&](int64_t kb, int64_t ke) {
    double* rl = row_part.data() + static_cast<size_t>(at::get_thread_num()) * 2 * nr;
    double* rd = rl + nr;
    std::vector<T> scratch(2 * kTileCols);
    T* cl = scratch.data();
    T* cd = cl + kTileCols;
    for (int64_t k = kb; k < ke; ++k) {
      const int64_t j0 = k * kTileCols, len = std::min(nc, j0 + kTileCols) - j0;
      for (int64_t i0 = 0; i0 < nr; i0 += kTileRowChunk) {
        std::fill(scratch.begin(), scratch.end(), T(0));
        for (int64_t i = i0; i < std::min(nr, i0 + kTileRowChunk); i += kTileRows) {
          T bl[kTileRows], bd[kTileRows];
          tile_rows_dispatch<S, T>(R.key.data() + i, R.w.data() + i, scale, C.key.data() + j0, C.w.data() + j0, len, cl,
                                   cd, bl, bd);
          for (int r = 0; r < kTileRows; ++r) {
            rl[i + r] += bl[r];
            rd[i + r] += bd[r];
          }
        }
        for (int64_t j = 0; j < len; ++j) {
          col_l[j0 + j] += cl[j];
          col_d[j0 + j] += cd[j];
        }
      }
    }
  });
  std::vector<double> row_l(nr_real, 0.0), row_d(nr_real, 0.0);
  for (int t = 0; t < nthreads; ++t) {
    const double* pl = row_part.data() + static_cast<size_t>(t) * 2 * nr;
    for (int64_t i = 0; i < nr_real; ++i) {
      row_l[i] += pl[i];
      row_d[i] += pl[nr + i];
    }
  }
  double S_total = 0.0;
  for (int64_t i = 0; i < nr_real; ++i) S_total += static_cast<double>(R.w[i]) * row_l[i];
  out.S = S_total;
  if (dS_dx) {
    // dv/dx = -m for positives, +m for negatives, whichever side they were
    const double row_sign = pos_rows ? -m : m;
    for (int64_t i = 0; i < nr_real; ++i) {
      dS_dx[R.idx[i]] = row_sign * static_cast<double>(R.w[i]) * row_d[i];
      dS_dw[R.idx[i]] = row_l[i];
    }
    for (int64_t j = 0; j < nc_real; ++j) {
      dS_dx[C.idx[j]] = -row_sign * static_cast<double>(C.w[j]) * col_d[j];
      dS_dw[C.idx[j]] = col_l[j];
    }
  }
  return out;
}

}  // namespace

std::tuple<at::Tensor, at::Tensor, at::Tensor, at::Tensor> tiled_loss_cpu(const PairwiseArgs& args,
                                                                          const at::Tensor& scores_in,
                                                                          const c10::optional<at::Tensor>& pos_w_in,
                                                                          const c10::optional<at::Tensor>& neg_w_in,
                                                                          double margin, bool compute_grad) {
  const auto& [sur, red, scores, labels, pos_w, neg_w] = args;
  const at::Tensor y = binary_labels(labels).y;
  const at::Tensor s_in = scores.to(at::kDouble).contiguous();
  const at::Tensor a64 = pos_w ? pos_w->to(at::kDouble).contiguous() : at::Tensor();
  const at::Tensor b64 = neg_w ? neg_w->to(at::kDouble).contiguous() : at::Tensor();
  const int64_t n = scores.numel();
  const auto f64 = scores.options().dtype(at::kDouble);
  const BinaryView v{s_in.scalar_type() == at::kDouble ? s_in.data_ptr<double>() : nullptr, y.data_ptr<int8_t>(),
                     a64.defined() ? a64.data_ptr<double>() : nullptr, b64.defined() ? b64.data_ptr<double>() : nullptr,
                     n};

  at::Tensor dS_dx, dS_dw;
  double* px = nullptr;
  double* pw = nullptr;
  if (compute_grad) {
    dS_dx = at::zeros({n}, f64);
    dS_dw = at::zeros({n}, f64);
    px = dS_dx.data_ptr<double>();
    pw = dS_dw.data_ptr<double>();
  }

  const bool has_nan = n > 0 && at::isnan(s_in).any().item<bool>();
  PairwiseSums sums;
  if (!has_nan) {
    const bool f64_in = scores.scalar_type() == at::kDouble;
    if (sur == Surrogate::Logistic)
      sums = f64_in ? tiled_sums<Surrogate::Logistic, double>(v, margin, px, pw)
                    : tiled_sums<Surrogate::Logistic, float>(v, margin, px, pw);
    else
      sums = f64_in ? tiled_sums<Surrogate::Sigmoid, double>(v, margin, px, pw)
                    : tiled_sums<Surrogate::Sigmoid, float>(v, margin, px, pw);
  }
  const GradScale g = finish_reduction(red, sums.S, sums.A, sums.B, sums.prescaled, sums.loss_override, has_nan);

  const auto out_opts = scores.options();
  at::Tensor loss = at::full({}, g.loss, f64).to(scores.scalar_type());
  at::Tensor g_s = at::empty({0}, out_opts), g_a = at::empty({0}, out_opts), g_b = at::empty({0}, out_opts);
  if (compute_grad) {
    at::Tensor ga64 = pos_w ? at::zeros({n}, f64) : at::Tensor();
    at::Tensor gb64 = neg_w ? at::zeros({n}, f64) : at::Tensor();
    double* ga = pos_w ? ga64.data_ptr<double>() : nullptr;
    double* gb = neg_w ? gb64.data_ptr<double>() : nullptr;
    for_each_sample(n, [&](int64_t i) {
      const bool pos = v.y[i] != 0;
      double gw;
      finish_sample(g, pos, px[i], pw[i], &px[i], &gw);  // px becomes d loss / d score in place
      if (pos && ga) ga[i] = gw;
      if (!pos && gb) gb[i] = gw;
    });
    g_s = dS_dx.to(scores.scalar_type()).view(scores_in.sizes());
    if (pos_w) g_a = ga64.to(pos_w->scalar_type()).view(pos_w_in->sizes());
    if (neg_w) g_b = gb64.to(neg_w->scalar_type()).view(neg_w_in->sizes());
  }
  return {loss, g_s, g_a, g_b};
}

}  // namespace torchauc::pairwise
