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
#include "pairwise/tile_kernel.h"

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
  std::vector<T> ep, em, abs_u;  // the factored form's e^{u}, e^{-u} and |u| (float keys only, see below)
  TileSpan<T> span(int64_t from) const {
    return {key.data() + from, w.data() + from, ep.empty() ? nullptr : ep.data() + from,
            em.empty() ? nullptr : em.data() + from};
  }
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

// Factored exps (float keys): v = scale (c - r) = u_c + u_r with u_c = scale (c - mid) for a column,
// u_r = scale (mid - r) for a row and mid the middle of all keys, so e^{+-v} = e^{+-u_r} e^{+-u_c}: one multiply
// per pair in place of an exp. The factors are double exps of the double u rounded to float, so e^{+-v} is
// within ~2 ulp (two roundings and the product) whatever |v| (the exp of the rounded float v carries another
// |v| 6e-8). A tile takes this form when |u_r| + |u_c| <= kFactoredRange for all its pairs (every product then
// lies in [e^-80, e^80]: finite, normal, and 1 + e^{-v} does not overflow); other tiles, or every tile when a
// key is infinite, take the exp of v per pair.
constexpr float kFactoredRange = 80.0f;

template <typename T>
void set_exp_factors(TiledSide<T>& side, double mid, double u_scale) {
  const int64_t n = side.key.size();
  at::Tensor u = at::empty({n}, at::kDouble);
  double* pu = u.data_ptr<double>();
  side.abs_u.resize(n);
  for (int64_t i = 0; i < n; ++i) {
    pu[i] = u_scale * (static_cast<double>(side.key[i]) - mid);
    side.abs_u[i] = static_cast<T>(std::fabs(pu[i]));
  }
  // factors of a wider |u| are never used: the clamp only keeps them finite
  const at::Tensor e = at::exp(u.clamp_(-kFactoredRange, kFactoredRange));
  const double* pe = e.const_data_ptr<double>();
  side.ep.resize(n);
  side.em.resize(n);
  for (int64_t i = 0; i < n; ++i) {
    side.ep[i] = static_cast<T>(pe[i]);
    side.em[i] = static_cast<T>(1.0 / pe[i]);
  }
}

// The float instantiations are compiled for AVX-512, AVX2 and baseline x86-64 and picked at load time;
// `flatten` inlines the surrogate math into each clone (left out-of-line, the loop does not vectorise).
#define TAUC_TILE_ROWS_F32(NAME, S, FACTORED)                                                                        \
  __attribute__((target_clones("avx512f", "avx2", "default"), flatten)) void NAME(                                   \
      const TileSpan<float>& R, const TileSpan<float>& C, float scale, int64_t len, float* cl, float* cd, float* rl, \
      float* rd) {                                                                                                   \
    tile_rows<S, FACTORED, float>(R, C, scale, len, cl, cd, rl, rd);                                                 \
  }
TAUC_TILE_ROWS_F32(tile_rows_logistic_f32, Surrogate::Logistic, false)
TAUC_TILE_ROWS_F32(tile_rows_sigmoid_f32, Surrogate::Sigmoid, false)
TAUC_TILE_ROWS_F32(tile_rows_logistic_factored_f32, Surrogate::Logistic, true)
TAUC_TILE_ROWS_F32(tile_rows_sigmoid_factored_f32, Surrogate::Sigmoid, true)
#undef TAUC_TILE_ROWS_F32

template <Surrogate S, typename T>
void tile_rows_dispatch(bool factored, const TileSpan<T>& R, const TileSpan<T>& C, T scale, int64_t len, T* cl, T* cd,
                        T* rl, T* rd) {
  if constexpr (std::is_same_v<T, float>) {
    constexpr bool kLogistic = S == Surrogate::Logistic;
    if (factored)
      (kLogistic ? tile_rows_logistic_factored_f32 : tile_rows_sigmoid_factored_f32)(R, C, scale, len, cl, cd, rl, rd);
    else
      (kLogistic ? tile_rows_logistic_f32 : tile_rows_sigmoid_f32)(R, C, scale, len, cl, cd, rl, rd);
  } else {
    tile_rows<S, false, T>(R, C, scale, len, cl, cd, rl, rd);  // float64: exp per pair (the reference path)
  }
}

template <Surrogate S, typename T>
PairwiseSums tiled_sums(const BinaryView& v, double m, double* dS_dx, double* dS_dw) {
  int64_t np = 0;
  for (int64_t i = 0; i < v.n; ++i) np += v.y[i] != 0;
  const bool pos_rows = np <= v.n - np;  // the larger side are the columns
  TiledSide<T> R = tiled_side<T>(v, pos_rows, kTileRows), C = tiled_side<T>(v, !pos_rows, kTileLanes);
  PairwiseSums out;
  out.A = pos_rows ? R.total_w : C.total_w;
  out.B = pos_rows ? C.total_w : R.total_w;
  const int64_t nr = R.key.size(), nc = C.key.size(), nr_real = R.idx.size(), nc_real = C.idx.size();
  if (nr == 0 || nc == 0) return out;
  // v = m (z - x) = scale (column key - row key)
  const T scale = static_cast<T>(pos_rows ? m : -m);
  bool factored = false;
  if constexpr (std::is_same_v<T, float>) {
    const auto [r_lo, r_hi] = std::minmax_element(R.key.begin(), R.key.end());
    const auto [c_lo, c_hi] = std::minmax_element(C.key.begin(), C.key.end());
    const double mid = 0.5 * (static_cast<double>(std::min(*r_lo, *c_lo)) + std::max(*r_hi, *c_hi));
    factored = std::isfinite(mid);
    if (factored) {
      set_exp_factors(R, mid, pos_rows ? -m : m);
      set_exp_factors(C, mid, pos_rows ? m : -m);
    }
  }
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
      const T col_u = factored ? *std::max_element(C.abs_u.begin() + j0, C.abs_u.begin() + j0 + len) : T(0);
      for (int64_t i0 = 0; i0 < nr; i0 += kTileRowChunk) {
        std::fill(scratch.begin(), scratch.end(), T(0));
        for (int64_t i = i0; i < std::min(nr, i0 + kTileRowChunk); i += kTileRows) {
          const bool tile_factored =
              factored && col_u + *std::max_element(R.abs_u.begin() + i, R.abs_u.begin() + i + kTileRows) <=
                              static_cast<T>(kFactoredRange);
          T bl[kTileRows], bd[kTileRows];
          tile_rows_dispatch<S, T>(tile_factored, R.span(i), C.span(j0), scale, len, cl, cd, bl, bd);
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
  const auto& [sur, red, scale, scores, labels, pos_w, neg_w] = args;
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
  const GradScale g = finish_reduction(red, sums.S, sums.A, sums.B, sums.prescaled, sums.loss_override, has_nan, scale);

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
