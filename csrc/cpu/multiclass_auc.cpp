// CPU kernels of the multiclass / pixel-level AUC loss (see common/multiclass_math.h for the math).
// Scores are read in place as (B, C, S): element (b, c, s) at b*C*S + c*S + s, so (N, C) rows (S = 1)
// and NCHW logits (S = H*W) share one code path, with the sigmoid fused in.
//   square, linear, exp: one pass builds the C x C tables, a C x C epilogue gives the loss and the
//     per-cell gradient coefficients, one elementwise pass writes the gradient (same call).
//   hinge: per column, sort positives and weighted negatives, suffix sums, binary searches (exact).
// Every reduction runs over chunks whose layout depends only on the sizes, combined in a fixed
// order, so results do not depend on the thread count.
#include <ATen/ATen.h>
#include <ATen/Dispatch.h>
#include <ATen/Parallel.h>
#include <torch/library.h>

#include <algorithm>
#include <atomic>
#include <cmath>
#include <limits>
#include <vector>

#include "common/multiclass_math.h"
#include "common/pairwise_math.h"
#include "cpu/multiclass_sigmoid.h"
#include "multiclass_args.h"

namespace torchauc {
namespace {

// ---------------------------------------------------------------- labels
// int32 labels (-1 = ignored) and class counts; out-of-range labels are an error naming the first one.
struct McLabels {
  at::Tensor y;
  std::vector<double> counts;
};

McLabels mc_labels_cpu(const at::Tensor& labels_in, int64_t C, c10::optional<int64_t> ignore) {
  const at::Tensor labels = labels_in.contiguous();
  const int64_t n = labels.numel();
  McLabels out{at::empty({n}, labels.options().dtype(at::kInt)), std::vector<double>(C, 0.0)};
  int32_t* y = out.y.data_ptr<int32_t>();
  const int64_t chunk = std::max<int64_t>(1 << 16, (n + 255) / 256);
  const int64_t nchunks = (n + chunk - 1) / chunk;
  std::vector<int64_t> part(static_cast<size_t>(nchunks * C), 0);
  std::atomic<int64_t> first_bad{std::numeric_limits<int64_t>::max()};
  const bool has_ignore = ignore.has_value();
  const int64_t ign = has_ignore ? *ignore : 0;
  AT_DISPATCH_INTEGRAL_TYPES(labels.scalar_type(), "multiclass_labels", [&] {
    const scalar_t* src = labels.data_ptr<scalar_t>();
    at::parallel_for(0, nchunks, 1, [&](int64_t cb, int64_t ce) {
      for (int64_t ch = cb; ch < ce; ++ch) {
        int64_t* cnt = part.data() + ch * C;
        const int64_t end = std::min(n, (ch + 1) * chunk);
        for (int64_t i = ch * chunk; i < end; ++i) {
          const int64_t v = static_cast<int64_t>(src[i]);
          if (has_ignore && v == ign) {
            y[i] = -1;
          } else if (v < 0 || v >= C) {
            int64_t cur = first_bad.load();
            while (i < cur && !first_bad.compare_exchange_weak(cur, i)) {
            }
            y[i] = -1;
          } else {
            y[i] = static_cast<int32_t>(v);
            ++cnt[v];
          }
        }
      }
    });
  });
  const int64_t bad = first_bad.load();
  if (bad != std::numeric_limits<int64_t>::max()) {
    const int64_t v = labels.reshape({-1})[bad].item<int64_t>();
    TORCH_CHECK_VALUE(false, "labels must be class indices in [0, ", C, ")",
                      has_ignore ? " or ignore_index (" + std::to_string(ign) + ")" : std::string(),
                      "; found ", v, " at flat index ", bad);
  }
  for (int64_t ch = 0; ch < nchunks; ++ch)
    for (int64_t j = 0; j < C; ++j) out.counts[j] += static_cast<double>(part[ch * C + j]);
  return out;
}

// ---------------------------------------------------------------- inputs
template <typename scalar_t>
struct McInput {
  const scalar_t* x;
  const int32_t* y;
  int64_t B, C, S;
};

// float for float/half/bfloat16 scores, double for double
template <typename scalar_t>
using acc_t = std::conditional_t<std::is_same_v<scalar_t, double>, double, float>;

template <McActivation ACT, typename T>
inline void activate(T x, T* v, T* dv) {
  mc_activate<T>(ACT, x, v, dv);
}

// Sample chunks (each with its own C x C tables) and column blocks: a fixed function of the sizes.
struct McWork {
  int64_t K, chunk, cblock, nblocks;
};
McWork mc_work(int64_t ns, int64_t C, int64_t S) {
  const int64_t by_size = std::max<int64_t>(1, (ns + 4095) / 4096);
  const int64_t by_mem = std::max<int64_t>(1, (int64_t(1) << 20) / (C * C));
  McWork w;
  w.K = std::min<int64_t>({by_size, by_mem, 16});
  w.chunk = std::max<int64_t>(1, (ns + w.K - 1) / w.K);
  w.cblock = S == 1 ? 64 : 1;
  w.nblocks = (C + w.cblock - 1) / w.cblock;
  return w;
}

// Calls f(k, n0, n1, c0, c1) for every (sample chunk, column block) pair, in parallel.
template <typename F>
void for_each_work_item(const McWork& w, int64_t ns, int64_t C, const F& f) {
  at::parallel_for(0, w.K * w.nblocks, 1, [&](int64_t ib, int64_t ie) {
    for (int64_t it = ib; it < ie; ++it) {
      const int64_t k = it / w.nblocks, blk = it % w.nblocks;
      const int64_t n0 = k * w.chunk, n1 = std::min(ns, n0 + w.chunk);
      const int64_t c0 = blk * w.cblock, c1 = std::min(C, c0 + w.cblock);
      if (n0 < n1) f(k, n0, n1, c0, c1);
    }
  });
}

// v = act(x), dv = act'(x) for a contiguous run of len <= kTile scores.
constexpr int64_t kTile = 256;
template <McActivation ACT, typename scalar_t>
inline void activate_tile(const scalar_t* x, int64_t len, acc_t<scalar_t>* v, acc_t<scalar_t>* dv) {
  using T = acc_t<scalar_t>;
  for (int64_t t = 0; t < len; ++t) v[t] = static_cast<T>(x[t]);
  if constexpr (ACT == McActivation::None) {
    for (int64_t t = 0; t < len; ++t) dv[t] = T(1);
  } else if constexpr (std::is_same_v<T, float>) {
    sigmoid_tile_f32(v, dv, len);
  } else {
    for (int64_t t = 0; t < len; ++t) activate<ACT, T>(v[t], &v[t], &dv[t]);
  }
}

// Visits the activated scores of samples [n0, n1) and columns [c0, c1) as
// visit(label, column, v, dv, flat element index); ignored samples are skipped. Activations run over
// contiguous tiles (a row's columns when S = 1, a column's pixels otherwise), then the visits.
template <McActivation ACT, typename scalar_t, typename V>
inline void for_each_value(const McInput<scalar_t>& in, int64_t n0, int64_t n1, int64_t c0, int64_t c1,
                           const V& visit) {
  using T = acc_t<scalar_t>;
  const int64_t C = in.C, S = in.S;
  T buf[kTile], dbuf[kTile];
  if (S == 1) {
    for (int64_t n = n0; n < n1; ++n) {
      const int32_t y = in.y[n];
      if (y < 0) continue;
      for (int64_t cb = c0; cb < c1; cb += kTile) {
        const int64_t len = std::min(c1 - cb, kTile);
        activate_tile<ACT>(in.x + n * C + cb, len, buf, dbuf);
        for (int64_t t = 0; t < len; ++t) visit(y, cb + t, buf[t], dbuf[t], n * C + cb + t);
      }
    }
    return;
  }
  for (int64_t c = c0; c < c1; ++c) {
    for (int64_t n = n0; n < n1;) {
      const int64_t b = n / S, s0 = n % S;
      const int64_t len = std::min({n1 - n, S - s0, kTile});
      const int64_t base = (b * C + c) * S + s0;
      activate_tile<ACT>(in.x + base, len, buf, dbuf);
      const int32_t* ys = in.y + n;
      for (int64_t t = 0; t < len; ++t) {
        if (ys[t] >= 0) visit(ys[t], c, buf[t], dbuf[t], base + t);
      }
      n += len;
    }
  }
}

// ---------------------------------------------------------------- square, linear, exp: tables
template <McActivation ACT, typename scalar_t>
void moment_tables(const McInput<scalar_t>& in, double* T1, double* T2) {
  const int64_t C = in.C, ns = in.B * in.S, cells = C * C;
  const McWork w = mc_work(ns, C, in.S);
  std::vector<double> extra(static_cast<size_t>((w.K - 1) * 2 * cells), 0.0);
  auto table = [&](int64_t k, int which) -> double* {
    if (k == 0) return which == 0 ? T1 : T2;
    return extra.data() + ((k - 1) * 2 + which) * cells;
  };
  for_each_work_item(w, ns, C, [&](int64_t k, int64_t n0, int64_t n1, int64_t c0, int64_t c1) {
    double* t1 = table(k, 0);
    double* t2 = table(k, 1);
    for_each_value<ACT>(in, n0, n1, c0, c1, [&](int32_t y, int64_t c, auto v, auto, int64_t) {
      const double d = static_cast<double>(v);
      t1[y * C + c] += d;
      t2[y * C + c] += d * d;
    });
  });
  if (w.K > 1) {
    at::parallel_for(0, cells, 1 << 12, [&](int64_t b, int64_t e) {
      for (int64_t k = 1; k < w.K; ++k) {
        const double* e1 = table(k, 0);
        const double* e2 = table(k, 1);
        for (int64_t i = b; i < e; ++i) {
          T1[i] += e1[i];
          T2[i] += e2[i];
        }
      }
    });
  }
}

template <McActivation ACT, typename scalar_t>
void exp_tables(const McInput<scalar_t>& in, double m, LseCell* T) {
  const int64_t C = in.C, ns = in.B * in.S, cells = C * C;
  const McWork w = mc_work(ns, C, in.S);
  std::vector<LseCell> extra(static_cast<size_t>((w.K - 1) * cells), lse_empty());
  auto table = [&](int64_t k) { return k == 0 ? T : extra.data() + (k - 1) * cells; };
  for_each_work_item(w, ns, C, [&](int64_t k, int64_t n0, int64_t n1, int64_t c0, int64_t c1) {
    LseCell* t = table(k);
    for_each_value<ACT>(in, n0, n1, c0, c1, [&](int32_t y, int64_t c, auto v, auto, int64_t) {
      lse_add(t[y * C + c], mc_exp_key(static_cast<double>(v), y == c, m));
    });
  });
  if (w.K > 1) {
    at::parallel_for(0, cells, 1 << 12, [&](int64_t b, int64_t e) {
      for (int64_t k = 1; k < w.K; ++k) {
        const LseCell* o = table(k);
        for (int64_t i = b; i < e; ++i) lse_merge(T[i], o[i]);
      }
    });
  }
}

// ---------------------------------------------------------------- gradient pass
// g = act'(x) * dL/dv for every element; ignored samples get 0. The coefficients come row-major
// (cell (j, c) at j * C + c) when S = 1 and column-major (at c * C + j, a column contiguous) otherwise.
template <McActivation ACT, bool EXP, typename scalar_t>
void grad_pass(const McInput<scalar_t>& in, const double* A, const double* Bc, double m, scalar_t* g) {
  using T = acc_t<scalar_t>;
  const int64_t C = in.C, S = in.S;
  auto dl = [&](double v, bool diag, double a, double b) {
    return EXP ? mc_grad_exp(mc_exp_key(v, diag, m), a, b) : mc_grad_moment(v, a, b);
  };
  if (S == 1) {
    at::parallel_for(0, in.B, std::max<int64_t>(1, 16384 / C), [&](int64_t nb, int64_t ne) {
      T buf[kTile], dbuf[kTile];
      for (int64_t n = nb; n < ne; ++n) {
        const int32_t y = in.y[n];
        scalar_t* gr = g + n * C;
        if (y < 0) {
          std::fill(gr, gr + C, scalar_t(0));
          continue;
        }
        const double* a = A + static_cast<int64_t>(y) * C;
        const double* b = Bc + static_cast<int64_t>(y) * C;
        for (int64_t cb = 0; cb < C; cb += kTile) {
          const int64_t len = std::min(C - cb, kTile);
          activate_tile<ACT>(in.x + n * C + cb, len, buf, dbuf);
          for (int64_t t = 0; t < len; ++t) {
            const int64_t c = cb + t;
            gr[c] = static_cast<scalar_t>(dl(buf[t], c == y, a[c], b[c]) * static_cast<double>(dbuf[t]));
          }
        }
      }
    });
    return;
  }
  at::parallel_for(0, in.B * C, std::max<int64_t>(1, 16384 / S), [&](int64_t pb, int64_t pe) {
    T buf[kTile], dbuf[kTile];
    for (int64_t p = pb; p < pe; ++p) {
      const int64_t bi = p / C, c = p % C;
      const double* a = A + c * C;
      const double* b = Bc + c * C;
      for (int64_t s0 = 0; s0 < S; s0 += kTile) {
        const int64_t len = std::min(S - s0, kTile);
        activate_tile<ACT>(in.x + p * S + s0, len, buf, dbuf);
        const int32_t* ys = in.y + bi * S + s0;
        scalar_t* gs = g + p * S + s0;
        for (int64_t t = 0; t < len; ++t) {
          const int32_t y = ys[t];
          gs[t] = y < 0 ? scalar_t(0)
                        : static_cast<scalar_t>(dl(buf[t], y == c, a[y], b[y]) * static_cast<double>(dbuf[t]));
        }
      }
    }
  });
}

// ---------------------------------------------------------------- hinge (exact, sort-based)
// Column i: positives u = m - x (weight 1), negatives z with weight w_{i, y}; the pair is active iff
// u + z > 0. Returns scale * L_i and writes scale * dL/dx * act'(x) into g at column i.
template <McActivation ACT, typename scalar_t>
double hinge_column(const McInput<scalar_t>& in, int64_t i, const double* N, double Ntot, McMode mode,
                    double m, double scale, scalar_t* g) {
  using T = acc_t<scalar_t>;
  const int64_t C = in.C, ns = in.B * in.S;
  const double W = mc_negative_total(mode, C, i, N, Ntot);
  const bool active = scale != 0.0 && N[i] > 0.0 && W > 0.0;
  std::vector<double> w_of(C);
  for (int64_t j = 0; j < C; ++j) w_of[j] = j == i ? 0.0 : mc_pair_weight(mode, N[i], N[j], Ntot);
  auto visit_column = [&](const auto& f) { for_each_value<ACT>(in, 0, ns, i, i + 1, f); };

  std::vector<double> pos;
  std::vector<std::pair<double, double>> neg;  // (z, w)
  bool has_nan = false;
  if (active) {
    pos.reserve(static_cast<size_t>(N[i]));
    neg.reserve(static_cast<size_t>(Ntot - N[i]));
    visit_column([&](int32_t y, int64_t, T v, T, int64_t) {
      const double d = static_cast<double>(v);
      has_nan |= std::isnan(d);
      if (y == i) pos.push_back(m - d);
      else if (w_of[y] != 0.0) neg.emplace_back(d, w_of[y]);
    });
  }
  if (!active || has_nan) {
    const double fill = has_nan ? std::numeric_limits<double>::quiet_NaN() : 0.0;
    if (g) visit_column([&](int32_t, int64_t, T, T, int64_t e) { g[e] = static_cast<scalar_t>(fill); });
    return fill;
  }
  std::sort(pos.begin(), pos.end());
  std::sort(neg.begin(), neg.end(), [](const auto& a, const auto& b) { return a.first < b.first; });
  // suffix moments: positives (count, sum u), negatives (sum w, sum w z) over ranks >= r
  const size_t np = pos.size(), nn = neg.size();
  std::vector<double> p1(np + 1, 0.0), n0(nn + 1, 0.0), n1(nn + 1, 0.0);
  for (size_t r = np; r-- > 0;) p1[r] = p1[r + 1] + pos[r];
  for (size_t r = nn; r-- > 0;) {
    n0[r] = n0[r + 1] + neg[r].second;
    n1[r] = n1[r + 1] + neg[r].second * neg[r].first;
  }
  // first rank whose key is strictly greater than t
  auto neg_above = [&](double t) {
    return std::upper_bound(neg.begin(), neg.end(), t, [](double a, const auto& b) { return a < b.first; }) -
           neg.begin();
  };
  auto pos_above = [&](double t) { return std::upper_bound(pos.begin(), pos.end(), t) - pos.begin(); };
  double L = 0.0;
  for (size_t r = 0; r < np; ++r) {
    const size_t q = neg_above(-pos[r]);
    double value, dvalue;
    hinge_sample(1, pos[r], n0[q], n1[q], 0.0, &value, &dvalue);
    L += value;
  }
  if (g) {
    visit_column([&](int32_t y, int64_t, T v, T dv, int64_t e) {
      const double d = static_cast<double>(v);
      double dl;
      if (y == i) {
        dl = -n0[neg_above(-(m - d))];  // dL/dx = -dL/du = -(sum of active negative weights)
      } else {
        const size_t q = pos_above(-d);
        dl = w_of[y] * static_cast<double>(np - q);
      }
      g[e] = static_cast<scalar_t>(dl * scale * static_cast<double>(dv));
    });
  }
  return L * scale;
}

template <McActivation ACT, typename scalar_t>
double hinge_all(const McInput<scalar_t>& in, const double* N, double Ntot, McMode mode, double m,
                 double scale, scalar_t* g) {
  const int64_t C = in.C;
  std::vector<double> Lcol(C, 0.0);
  at::parallel_for(0, C, 1, [&](int64_t b, int64_t e) {
    for (int64_t i = b; i < e; ++i) Lcol[i] = hinge_column<ACT>(in, i, N, Ntot, mode, m, scale, g);
  });
  double L = 0.0;
  for (double v : Lcol) L += v;
  return L;
}

// ---------------------------------------------------------------- square, linear, exp: driver
template <McActivation ACT, typename scalar_t>
double table_loss(const McInput<scalar_t>& in, McSurrogate sur, const double* N, double Ntot, McMode mode,
                  double m, double scale, scalar_t* g) {
  // The tables are built row-major ([label][column], contiguous along a row of scores) and
  // transposed for the epilogue, which then walks each column contiguously; its coefficients come
  // out column-major, the layout the NCHW gradient pass wants (rows are transposed back for S = 1).
  const int64_t C = in.C;
  const auto f64 = at::TensorOptions().dtype(at::kDouble);
  at::Tensor At = at::empty({C, C}, f64), Bt = at::empty({C, C}, f64);
  std::vector<double> Lcol(C, 0.0);
  const int64_t grain = std::max<int64_t>(1, 4096 / C);
  double* a = At.data_ptr<double>();
  double* b = Bt.data_ptr<double>();
  if (sur == McSurrogate::Exp) {
    at::Tensor T = at::empty({C, C, 2}, f64);
    LseCell* cells = reinterpret_cast<LseCell*>(T.data_ptr<double>());
    std::fill(cells, cells + C * C, lse_empty());
    exp_tables<ACT>(in, m, cells);
    const at::Tensor Tt = T.transpose(0, 1).contiguous();
    const LseCell* tt = reinterpret_cast<const LseCell*>(Tt.data_ptr<double>());
    at::parallel_for(0, C, grain, [&](int64_t ib, int64_t ie) {
      for (int64_t i = ib; i < ie; ++i) Lcol[i] = mc_exp_column(mode, C, i, N, Ntot, tt, m, scale, a, b, 1, C);
    });
  } else {
    at::Tensor T1 = at::zeros({C, C}, f64), T2 = at::zeros({C, C}, f64);
    moment_tables<ACT>(in, T1.data_ptr<double>(), T2.data_ptr<double>());
    const at::Tensor T1t = T1.t().contiguous(), T2t = T2.t().contiguous();
    const double* t1 = T1t.data_ptr<double>();
    const double* t2 = T2t.data_ptr<double>();
    at::parallel_for(0, C, grain, [&](int64_t ib, int64_t ie) {
      for (int64_t i = ib; i < ie; ++i)
        Lcol[i] = mc_moment_column(sur, mode, C, i, N, Ntot, t1, t2, m, scale, a, b, 1, C);
    });
  }
  if (g) {
    at::Tensor A = At, B = Bt;
    if (in.S == 1) {
      A = At.t().contiguous();
      B = Bt.t().contiguous();
    }
    if (sur == McSurrogate::Exp) grad_pass<ACT, true>(in, A.data_ptr<double>(), B.data_ptr<double>(), m, g);
    else grad_pass<ACT, false>(in, A.data_ptr<double>(), B.data_ptr<double>(), m, g);
  }
  double L = 0.0;
  for (double v : Lcol) L += v;
  return L;
}

// ---------------------------------------------------------------- op
std::tuple<at::Tensor, at::Tensor> multiclass_auc_loss_cpu(
    const at::Tensor& scores_in, const at::Tensor& labels_in, c10::optional<int64_t> ignore_index,
    c10::string_view activation_name, c10::string_view surrogate_name, c10::string_view mode_name,
    double margin, c10::string_view normalization_name, bool compute_grad) {
  const McActivation act = parse_mc_activation(activation_name);
  const McSurrogate sur = parse_mc_surrogate(surrogate_name);
  const McMode mode = parse_mc_mode(mode_name);
  const McNorm norm = parse_mc_norm(normalization_name);
  TORCH_CHECK_VALUE(std::isfinite(margin), "margin must be finite, got ", margin);
  const McShape sh = check_mc_inputs(scores_in, labels_in);
  const at::Tensor scores = scores_in.contiguous();
  const McLabels lab = mc_labels_cpu(labels_in, sh.C, ignore_index);
  double Cb, Ntot;
  mc_class_totals(sh.C, lab.counts.data(), &Cb, &Ntot);
  const double scale = mc_scale(mode, norm, sh.C, Cb);

  // the hinge writes only non-ignored samples, the other paths every element
  at::Tensor grad = !compute_grad ? at::empty({0}, scores.options())
                    : sur == McSurrogate::Hinge ? at::zeros(scores.sizes(), scores.options())
                                                : at::empty(scores.sizes(), scores.options());
  double L = 0.0;
  AT_DISPATCH_FLOATING_TYPES_AND2(at::kHalf, at::kBFloat16, scores.scalar_type(), "multiclass_auc_loss", [&] {
    const McInput<scalar_t> in{scores.data_ptr<scalar_t>(), lab.y.data_ptr<int32_t>(), sh.B, sh.C, sh.S};
    scalar_t* g = compute_grad ? grad.data_ptr<scalar_t>() : nullptr;
    const double* N = lab.counts.data();
    auto run = [&](auto act_tag) {
      constexpr McActivation ACT = decltype(act_tag)::value;
      return sur == McSurrogate::Hinge ? hinge_all<ACT>(in, N, Ntot, mode, margin, scale, g)
                                       : table_loss<ACT>(in, sur, N, Ntot, mode, margin, scale, g);
    };
    L = act == McActivation::Sigmoid
            ? run(std::integral_constant<McActivation, McActivation::Sigmoid>{})
            : run(std::integral_constant<McActivation, McActivation::None>{});
  });
  at::Tensor loss = at::full({}, L, scores.options().dtype(at::kDouble)).to(scores.scalar_type());
  return {loss, grad};
}

}  // namespace

TORCH_LIBRARY_IMPL(torchauc, CPU, m) { m.impl("multiclass_auc_loss", &multiclass_auc_loss_cpu); }

}  // namespace torchauc
