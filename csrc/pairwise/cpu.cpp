// CPU kernels of the binary pairwise AUC loss: O(n) moments (square, exp: cpu_moments.cpp), sort + suffix sums
// (hinge, squared hinge: cpu_hinge.cpp), and a tiled pairwise pass with O(n) memory (logistic, sigmoid).
// Every path computes the loss and, when asked, its gradients in the same call.
#include <ATen/ATen.h>
#include <ATen/Parallel.h>
#include <torch/library.h>

#include <algorithm>
#include <array>
#include <cmath>
#include <limits>
#include <vector>

#include "core/checks.h"
#include "core/labels.h"
#include "pairwise/args.h"
#include "pairwise/cpu_hinge.h"
#include "pairwise/cpu_moments.h"
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
// One side compacted: keys (p = -m x for positives, q = m z for negatives), weights, source index.
template <typename T>
struct CompactSide {
  std::vector<T> key, w;
  std::vector<int64_t> idx;
  double total_w = 0.0;
};

template <typename T>
CompactSide<T> compact_side(const BinaryView& v, bool positive, double m) {
  CompactSide<T> c;
  for (int64_t i = 0; i < v.n; ++i) {
    if ((v.y[i] != 0) != positive) continue;
    const double w = positive ? v.pos_w(i) : v.neg_w(i);
    c.key.push_back(static_cast<T>(positive ? -m * v.s[i] : m * v.s[i]));
    c.w.push_back(static_cast<T>(w));
    c.idx.push_back(i);
    c.total_w += w;
  }
  return c;
}

constexpr int64_t kTile = 2048;  // negatives per inner block; row partials go to double per block

// One positive (key p, weight a) against negatives [j0, j1): returns the row sums (value, d/dv)
// and adds a * (value, d/dv) into the column accumulators.
template <Surrogate S, typename T>
__attribute__((always_inline)) inline void tile_row(T p, T a, const T* q, const T* b, int64_t j0, int64_t j1, T* col_l,
                                                    T* col_d, T* row_l, T* row_d) {
  T rl = 0, rd = 0;
#pragma omp simd reduction(+ : rl, rd)
  for (int64_t j = j0; j < j1; ++j) {
    T l, d;
    tiled_surrogate<S, T>(p + q[j], &l, &d);
    rl += b[j] * l;
    rd += b[j] * d;
    col_l[j] += a * l;
    col_d[j] += a * d;
  }
  *row_l = rl;
  *row_d = rd;
}

// The float instantiations are compiled twice (AVX2 and baseline) and picked at load time.
#define TAUC_TILE_ROW_F32(NAME, S)                                                                                     \
  __attribute__((target_clones("avx2", "default"))) void NAME(float p, float a, const float* q, const float* b,        \
                                                              int64_t j0, int64_t j1, float* cl, float* cd, float* rl, \
                                                              float* rd) {                                             \
    tile_row<S, float>(p, a, q, b, j0, j1, cl, cd, rl, rd);                                                            \
  }
TAUC_TILE_ROW_F32(tile_row_logistic_f32, Surrogate::Logistic)
TAUC_TILE_ROW_F32(tile_row_sigmoid_f32, Surrogate::Sigmoid)
#undef TAUC_TILE_ROW_F32

template <Surrogate S, typename T>
void tile_row_dispatch(T p, T a, const T* q, const T* b, int64_t j0, int64_t j1, T* cl, T* cd, T* rl, T* rd) {
  if constexpr (std::is_same_v<T, float>) {
    if constexpr (S == Surrogate::Logistic)
      tile_row_logistic_f32(p, a, q, b, j0, j1, cl, cd, rl, rd);
    else
      tile_row_sigmoid_f32(p, a, q, b, j0, j1, cl, cd, rl, rd);
  } else {
    tile_row<S, T>(p, a, q, b, j0, j1, cl, cd, rl, rd);
  }
}

template <Surrogate S, typename T>
PairwiseSums tiled_sums(const BinaryView& v, double m, double* dS_dx, double* dS_dw) {
  const CompactSide<T> P = compact_side<T>(v, true, m), N = compact_side<T>(v, false, m);
  PairwiseSums out;
  out.A = P.total_w;
  out.B = N.total_w;
  const int64_t np = P.key.size(), nn = N.key.size();
  if (np == 0 || nn == 0) return out;
  // Per-thread column accumulators (O(threads * n-) memory), reduced in thread order afterwards.
  const int nthreads = at::get_num_threads();
  std::vector<T> col(static_cast<size_t>(nthreads) * 2 * nn, T(0));
  std::vector<double> row_l(np), row_d(np);
  at::parallel_for(0, np, 1, [&](int64_t ib, int64_t ie) {
    T* cl = col.data() + static_cast<size_t>(at::get_thread_num()) * 2 * nn;
    T* cd = cl + nn;
    for (int64_t i = ib; i < ie; ++i) {
      double sl = 0.0, sd = 0.0;
      for (int64_t j0 = 0; j0 < nn; j0 += kTile) {
        T rl, rd;
        tile_row_dispatch<S, T>(P.key[i], P.w[i], N.key.data(), N.w.data(), j0, std::min(nn, j0 + kTile), cl, cd, &rl,
                                &rd);
        sl += rl;
        sd += rd;
      }
      row_l[i] = sl;
      row_d[i] = sd;
    }
  });
  double S_total = 0.0;
  for (int64_t i = 0; i < np; ++i) S_total += static_cast<double>(P.w[i]) * row_l[i];
  out.S = S_total;
  if (dS_dx) {
    // dv/dx = -m for positives, +m for negatives
    for (int64_t i = 0; i < np; ++i) {
      dS_dx[P.idx[i]] = -m * static_cast<double>(P.w[i]) * row_d[i];
      dS_dw[P.idx[i]] = row_l[i];
    }
    at::parallel_for(0, nn, 1 << 12, [&](int64_t jb, int64_t je) {
      for (int64_t j = jb; j < je; ++j) {
        double tl = 0.0, td = 0.0;
        for (int t = 0; t < nthreads; ++t) {
          tl += col[static_cast<size_t>(t) * 2 * nn + j];
          td += col[static_cast<size_t>(t) * 2 * nn + nn + j];
        }
        dS_dx[N.idx[j]] = m * static_cast<double>(N.w[j]) * td;
        dS_dw[N.idx[j]] = tl;
      }
    });
  }
  return out;
}

// ---------------------------------------------------------------- op
std::tuple<at::Tensor, at::Tensor, at::Tensor, at::Tensor> pairwise_auc_loss_cpu(
    const at::Tensor& scores_in, const at::Tensor& labels_in, const c10::optional<at::Tensor>& pos_w_in,
    const c10::optional<at::Tensor>& neg_w_in, c10::string_view surrogate_name, double margin,
    c10::string_view reduction_name, bool compute_grad) {
  const PairwiseArgs args =
      check_pairwise_args(scores_in, labels_in, pos_w_in, neg_w_in, surrogate_name, margin, reduction_name);
  const auto& [sur, red, scores, labels, pos_w, neg_w] = args;
  if (sur == Surrogate::Square || sur == Surrogate::Exp)
    return moment_loss_cpu(args, scores_in, pos_w_in, neg_w_in, margin, compute_grad);
  if (sur == Surrogate::Hinge || sur == Surrogate::SquaredHinge)
    return hinge_loss_cpu(args, scores_in, pos_w_in, neg_w_in, margin, compute_grad);

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
    switch (sur) {
      case Surrogate::Square:
      case Surrogate::Exp:
      case Surrogate::Hinge:
      case Surrogate::SquaredHinge: break;  // moment_loss_cpu, hinge_loss_cpu above
      case Surrogate::Logistic:
        sums = f64_in ? tiled_sums<Surrogate::Logistic, double>(v, margin, px, pw)
                      : tiled_sums<Surrogate::Logistic, float>(v, margin, px, pw);
        break;
      case Surrogate::Sigmoid:
        sums = f64_in ? tiled_sums<Surrogate::Sigmoid, double>(v, margin, px, pw)
                      : tiled_sums<Surrogate::Sigmoid, float>(v, margin, px, pw);
        break;
    }
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

}  // namespace

TORCH_LIBRARY_IMPL(torchauc, CPU, m) { m.impl("pairwise_auc_loss", &pairwise_auc_loss_cpu); }

}  // namespace torchauc::pairwise
