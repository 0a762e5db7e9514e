// CPU kernels of the binary pairwise AUC loss: O(n) moments (square, exp: cpu_moments.cpp), sort + suffix sums
// (hinge, squared hinge), and a tiled pairwise pass with O(n) memory (logistic, sigmoid).
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
#include "core/parallel.h"
#include "core/radix_sort.h"
#include "core/split_radix_sort.h"
#include "pairwise/args.h"
#include "pairwise/cpu_moments.h"
#include "pairwise/math.h"

namespace torchauc::pairwise {
namespace {

// Inputs as flat arrays (weights null when absent, i.e. all ones). s is the float64 copy of the
// scores (null on the sort-based paths, which read the raw keys).
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

// ---------------------------------------------------------------- hinge, squared hinge
// Fixed-chunk parallel pass whose chunks return partial sums, added in chunk order (deterministic).
template <typename F>
double chunked_sum(int64_t n, const F& chunk) {
  const int64_t nchunks = (n + kChunk - 1) / kChunk;
  std::vector<double> part(nchunks, 0.0);
  at::parallel_for(0, nchunks, 1, [&](int64_t cb, int64_t ce) {
    for (int64_t c = cb; c < ce; ++c) part[c] = chunk(c * kChunk, std::min(n, (c + 1) * kChunk));
  });
  double total = 0.0;
  for (double p : part) total += p;
  return total;
}

using Moments3 = std::array<double, 3>;

// The first q in [0, n) with pred(q) true, for a pred that is false then true along q.
template <typename Pred>
int64_t first_index(int64_t n, const Pred& pred) {
  int64_t lo = 0, hi = n;
  while (lo < hi) {
    const int64_t mid = lo + (hi - lo) / 2;
    if (pred(mid))
      hi = mid;
    else
      lo = mid + 1;
  }
  return lo;
}

// Pair (i, j) is active iff z_j > x_i - m (equivalently x_i < z_j + m). Both sides are radix-sorted
// by raw score; then each side walks the other with a pointer that only moves forward, reading
// prefix (positives, over ascending x) or suffix (negatives, over ascending z) moments.
// The split sort's view of one side: ascending raw scores (decoded from the sort keys) and their
// sample indices.
template <typename K>
struct SortedSide {
  const sort_key_t<K>* key;
  const uint32_t* src;
  int64_t size;
  K operator[](int64_t r) const { return from_sort_key<K>(key[r]); }
};

template <typename K>
PairwiseSums hinge_sums(const BinaryView& v, const K* s, double m, int power, double* dS_dx, double* dS_dw) {
  using U = sort_key_t<K>;
  TORCH_CHECK_VALUE(v.n < (int64_t(1) << 32), "scores: the hinge surrogates on the CPU support up to 2^32 - 1 samples");
  // Positives and negatives sorted apart in one fused radix sort (key transform and split inside).
  const auto sorted = split_radix_sort<U, uint32_t>(v.n, [&](int64_t i, U& k, uint32_t& idx) {
    k = sort_key(s[i]);
    idx = static_cast<uint32_t>(i);
    return v.y[i] != 0 ? 1 : 0;
  });
  const SortedSide<K> xs{sorted.keys[1], sorted.vals[1], sorted.count[1]};
  const SortedSide<K> zs{sorted.keys[0], sorted.vals[0], sorted.count[0]};
  const uint32_t* xi = xs.src;
  const uint32_t* zi = zs.src;
  const int64_t np = xs.size, nn = zs.size;
  // P[r]: moments of (a, a u, a u^2), u = m - x, over the r lowest positives;
  // N[r]: moments of (b, b z, b z^2) over the negatives of rank >= r.
  std::vector<Moments3> P(np + 1, Moments3{0.0, 0.0, 0.0}), N(nn + 1, Moments3{0.0, 0.0, 0.0});
  for (int64_t r = 0; r < np; ++r) {
    const double a = v.pos_w(xi[r]), u = m - static_cast<double>(xs[r]);
    P[r + 1] = {P[r][0] + a, P[r][1] + a * u, P[r][2] + a * u * u};
  }
  for (int64_t r = nn - 1; r >= 0; --r) {
    const double b = v.neg_w(zi[r]), z = static_cast<double>(zs[r]);
    N[r] = {N[r + 1][0] + b, N[r + 1][1] + b * z, N[r + 1][2] + b * z * z};
  }
  PairwiseSums out;
  out.A = P[np][0];
  out.B = N[0][0];
  if (np == 0 || nn == 0) return out;
  out.S = chunked_sum(np, [&](int64_t lo, int64_t hi) {
    const double first = static_cast<double>(xs[lo]) - m;
    int64_t r = first_index(nn, [&](int64_t q) { return first < static_cast<double>(zs[q]); });
    double acc = 0.0;
    for (int64_t i = lo; i < hi; ++i) {
      const double x = static_cast<double>(xs[i]);
      while (r < nn && static_cast<double>(zs[r]) <= x - m) ++r;  // first negative with z > x - m
      double value, dvalue;
      hinge_sample(power, m - x, N[r][0], N[r][1], N[r][2], &value, &dvalue);
      const double a = v.pos_w(xi[i]);
      acc += a * value;
      if (dS_dx) {
        dS_dx[xi[i]] = -a * dvalue;  // du/dx = -1
        dS_dw[xi[i]] = value;
      }
    }
    return acc;
  });
  if (dS_dx) {
    chunked_sum(nn, [&](int64_t lo, int64_t hi) {
      const double first = static_cast<double>(zs[lo]) + m;
      int64_t r = first_index(np, [&](int64_t q) { return !(static_cast<double>(xs[q]) < first); });
      for (int64_t j = lo; j < hi; ++j) {
        const double z = static_cast<double>(zs[j]);
        while (r < np && static_cast<double>(xs[r]) < z + m) ++r;  // positives with x < z + m
        double value, dvalue;
        hinge_sample(power, z, P[r][0], P[r][1], P[r][2], &value, &dvalue);
        dS_dx[zi[j]] = v.neg_w(zi[j]) * dvalue;
        dS_dw[zi[j]] = value;
      }
      return 0.0;
    });
  }
  return out;
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

  const at::Tensor y = binary_labels(labels).y;
  const bool sorted_path = sur == Surrogate::Hinge || sur == Surrogate::SquaredHinge;
  // Sort-based paths read raw scores (float keys sort in half the radix passes); the others float64.
  const at::Tensor s_in = sorted_path && scores.scalar_type() != at::kDouble ? scores.to(at::kFloat).contiguous()
                                                                             : scores.to(at::kDouble).contiguous();
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
      case Surrogate::Exp: break;  // moment_loss_cpu above
      case Surrogate::Hinge:
      case Surrogate::SquaredHinge: {
        const int power = sur == Surrogate::Hinge ? 1 : 2;
        sums = f64_in ? hinge_sums<double>(v, s_in.data_ptr<double>(), margin, power, px, pw)
                      : hinge_sums<float>(v, s_in.data_ptr<float>(), margin, power, px, pw);
        break;
      }
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
