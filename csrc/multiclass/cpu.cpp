// CPU kernels of the multiclass / pixel-level AUC loss (see math.h for the math).
// Scores are read in place as (B, C, S): element (b, c, s) at b*C*S + c*S + s, so (N, C) rows (S = 1)
// and NCHW logits (S = H*W) share one code path, with the sigmoid fused in.
//   square, linear, exp: one pass gathers O(1) stats per column (the weights factorise, see
//     math.h: no C x C table), an O(C) epilogue gives the loss and four gradient
//     coefficients per column, one elementwise pass writes the gradient (same call). The inner loops
//     are the fused float loops of cpu_fused.cpp for float32 scores (square, linear, exp) and the
//     vectorised tiles of cpu_tiles.cpp (exp: scalar log-sum-exp) otherwise. Extra memory: O(C) plus
//     8 bytes per sample.
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
#include <utility>
#include <vector>

#include "core/labels.h"
#include "multiclass/args.h"
#include "multiclass/cpu_fused.h"
#include "multiclass/cpu_sigmoid.h"
#include "multiclass/cpu_tiles.h"
#include "multiclass/math.h"
#include "pairwise/math.h"

namespace torchauc::multiclass {
namespace {

// ---------------------------------------------------------------- labels
// Validated int32 labels (-1 = ignored, core/labels.h) and the per-class counts.
struct Labels {
  at::Tensor y;
  std::vector<double> counts;
};

Labels checked_labels(const at::Tensor& labels, int64_t C, c10::optional<int64_t> ignore) {
  Labels out{class_labels(labels, C, ignore), std::vector<double>(C, 0.0)};
  const int32_t* y = out.y.data_ptr<int32_t>();
  const int64_t n = out.y.numel();
  const int64_t chunk = std::max<int64_t>(1 << 16, (n + 255) / 256);
  const int64_t nchunks = (n + chunk - 1) / chunk;
  std::vector<int64_t> part(static_cast<size_t>(nchunks * C), 0);
  at::parallel_for(0, nchunks, 1, [&](int64_t cb, int64_t ce) {
    for (int64_t ch = cb; ch < ce; ++ch) {
      int64_t* cnt = part.data() + ch * C;
      const int64_t end = std::min(n, (ch + 1) * chunk);
      for (int64_t i = ch * chunk; i < end; ++i)
        if (y[i] >= 0) ++cnt[y[i]];
    }
  });
  for (int64_t ch = 0; ch < nchunks; ++ch)
    for (int64_t j = 0; j < C; ++j) out.counts[j] += static_cast<double>(part[ch * C + j]);
  return out;
}

// ---------------------------------------------------------------- inputs
template <typename scalar_t>
struct Input {
  const scalar_t* x;
  const int32_t* y;
  int64_t B, C, S;
};

// float for float/half/bfloat16 scores, double for double
template <typename scalar_t>
using acc_t = std::conditional_t<std::is_same_v<scalar_t, double>, double, float>;

template <Activation ACT, typename T>
inline void activate(T x, T* v, T* dv) {
  mc_activate<T>(ACT, x, v, dv);
}

// Sample chunks (each with its own O(C) partial column stats) and column blocks: a fixed function of the sizes.
struct Work {
  int64_t K, chunk, cblock, nblocks;
};
// (N, C) rows are walked whole (a column block would stride over every row's page once per block),
// so their parallelism comes from ~256k-element sample chunks; NCHW planes by column and chunk.
Work mc_work(int64_t ns, int64_t C, int64_t S) {
  const int64_t by_size =
      S == 1 ? std::max<int64_t>(1, (ns * C + (int64_t(1) << 18) - 1) >> 18) : std::max<int64_t>(1, (ns + 4095) / 4096);
  Work w;
  w.K = std::min<int64_t>(by_size, 16);
  w.chunk = std::max<int64_t>(1, (ns + w.K - 1) / w.K);
  w.cblock = S == 1 ? C : 1;
  w.nblocks = (C + w.cblock - 1) / w.cblock;
  return w;
}

// Calls f(k, n0, n1, c0, c1) for every (sample chunk, column block) pair, in parallel.
template <typename F>
void for_each_work_item(const Work& w, int64_t ns, int64_t C, const F& f) {
  at::parallel_for(0, w.K * w.nblocks, 1, [&](int64_t ib, int64_t ie) {
    for (int64_t it = ib; it < ie; ++it) {
      const int64_t k = it / w.nblocks, blk = it % w.nblocks;
      const int64_t n0 = k * w.chunk, n1 = std::min(ns, n0 + w.chunk);
      const int64_t c0 = blk * w.cblock, c1 = std::min(C, c0 + w.cblock);
      if (n0 < n1) f(k, n0, n1, c0, c1);
    }
  });
}

// Calls run(n, base, len) for the contiguous runs of column c over samples [n0, n1) of the NCHW
// layout: samples [n, n + len) of one image, whose scores start at flat index base.
template <typename F>
inline void for_each_run(int64_t C, int64_t S, int64_t n0, int64_t n1, int64_t c, const F& run) {
  for (int64_t n = n0; n < n1;) {
    const int64_t b = n / S, s0 = n % S;
    const int64_t len = std::min(n1 - n, S - s0);
    run(n, (b * C + c) * S + s0, len);
    n += len;
  }
}

// v = act(x), dv = act'(x) for a contiguous run of len <= kTile scores.
constexpr int64_t kTile = 256;
template <Activation ACT, typename scalar_t>
inline void activate_tile(const scalar_t* x, int64_t len, acc_t<scalar_t>* v, acc_t<scalar_t>* dv) {
  using T = acc_t<scalar_t>;
  for (int64_t t = 0; t < len; ++t) v[t] = static_cast<T>(x[t]);
  if constexpr (ACT == Activation::None) {
    for (int64_t t = 0; t < len; ++t) dv[t] = T(1);
  } else if constexpr (std::is_same_v<T, float>) {
    sigmoid_tile_f32(v, dv, len);
  } else {
    for (int64_t t = 0; t < len; ++t) activate<ACT, T>(v[t], &v[t], &dv[t]);
  }
}

// The one traversal of the scores: walks samples [n0, n1) x columns [c0, c1) in contiguous tiles of
// activated values v and derivatives dv (kTile at most) and hands each tile over:
//   S == 1 ((N, C) rows): row_tile(n, y, cb, len, v, dv) for columns [cb, cb + len) of sample n
//     (ignored samples are skipped);
//   S > 1 (NCHW): column_tile(c, n, base, len, v, dv) for samples [n, n + len) of column c, whose
//     scores start at flat index base (labels in.y + n may be ignored, -1), then column_done(c).
template <Activation ACT, typename scalar_t, typename RowTile, typename ColumnTile, typename ColumnDone>
inline void for_each_tile(const Input<scalar_t>& in, int64_t n0, int64_t n1, int64_t c0, int64_t c1,
                          const RowTile& row_tile, const ColumnTile& column_tile, const ColumnDone& column_done) {
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
        row_tile(n, y, cb, len, buf, dbuf);
      }
    }
    return;
  }
  for (int64_t c = c0; c < c1; ++c) {
    for_each_run(C, S, n0, n1, c, [&](int64_t n, int64_t base, int64_t len) {
      for (int64_t t = 0; t < len; t += kTile) {
        const int64_t tl = std::min(len - t, kTile);
        activate_tile<ACT>(in.x + base + t, tl, buf, dbuf);
        column_tile(c, n + t, base + t, tl, buf, dbuf);
      }
    });
    column_done(c);
  }
}

// Visits the activated scores of samples [n0, n1) and columns [c0, c1) one by one as
// visit(label, column, v, dv, flat element index); ignored samples are skipped.
template <Activation ACT, typename scalar_t, typename V>
inline void for_each_value(const Input<scalar_t>& in, int64_t n0, int64_t n1, int64_t c0, int64_t c1, const V& visit) {
  const int64_t C = in.C;
  for_each_tile<ACT>(
      in, n0, n1, c0, c1,
      [&](int64_t n, int32_t y, int64_t cb, int64_t len, const auto* v, const auto* dv) {
        for (int64_t t = 0; t < len; ++t) visit(y, cb + t, v[t], dv[t], n * C + cb + t);
      },
      [&](int64_t c, int64_t n, int64_t base, int64_t len, const auto* v, const auto* dv) {
        const int32_t* ys = in.y + n;
        for (int64_t t = 0; t < len; ++t) {
          if (ys[t] >= 0) visit(ys[t], c, v[t], dv[t], base + t);
        }
      },
      [](int64_t) {});
}

// ---------------------------------------------------------------- square, linear, exp: column stats
// Per-sample weights r_k: rho_{y_k} (square, linear) or log rho_{y_k} (exp); 0 where ignored.
std::vector<double> sample_weights(const int32_t* y, int64_t ns, const double* N, Mode mode, bool log_space) {
  std::vector<double> r(static_cast<size_t>(ns));
  at::parallel_for(0, ns, 1 << 14, [&](int64_t b, int64_t e) {
    for (int64_t k = b; k < e; ++k) {
      const int32_t j = y[k];
      const double w = j < 0 ? 0.0 : mc_sample_weight(mode, N[j]);
      r[k] = log_space ? (j < 0 ? 0.0 : std::log(w)) : w;
    }
  });
  return r;
}

// The fused float32 statistics pass (cpu_fused.h): per sample chunk k four column arrays
// part[(k * 4 + q) * C + c] (moments {u1, u2, d1, d2} from 0, exp cells {Mn, En, Mp, Ep} from
// (-inf, 0)), whole rows or whole runs per call, then the chunks combined in chunk order into st.
template <Activation ACT>
void fused_stats(const Input<float>& in, const FusedSurrogate& sur, const double* r, double* st) {
  const int64_t C = in.C, S = in.S, ns = in.B * in.S;
  const Work w = mc_work(ns, C, S);
  std::vector<double> part(static_cast<size_t>(w.K * 4 * C), 0.0);
  if (sur.exp) {
    for (int64_t k = 0; k < w.K; ++k)
      for (int64_t q : {0, 2}) std::fill_n(part.data() + (k * 4 + q) * C, C, -INFINITY);
  }
  for_each_work_item(w, ns, C, [&](int64_t k, int64_t n0, int64_t n1, int64_t c0, int64_t c1) {
    double* a = part.data() + k * 4 * C;
    if (S == 1) {
      mc_rows_stats_f32(sur, ACT, in.x + n0 * C, n1 - n0, C, in.y + n0, r + n0, a);
      return;
    }
    for (int64_t c = c0; c < c1; ++c) {
      for_each_run(C, S, n0, n1, c, [&](int64_t n, int64_t base, int64_t len) {
        mc_plane_stats_f32(sur, ACT, in.x + base, in.y + n, r + n, len, static_cast<int32_t>(c), a + c, C);
      });
    }
  });
  std::copy(part.begin(), part.begin() + 4 * C, st);
  for (int64_t k = 1; k < w.K; ++k) {
    const double* p = part.data() + k * 4 * C;
    if (!sur.exp) {
      for (int64_t q = 0; q < 4 * C; ++q) st[q] += p[q];
      continue;
    }
    for (int64_t c = 0; c < C; ++c) {
      for (int64_t q : {0, 2}) {
        LseCell cell{st[q * C + c], st[(q + 1) * C + c]};
        lse_merge(cell, LseCell{p[q * C + c], p[(q + 1) * C + c]});
        st[q * C + c] = cell.M;
        st[(q + 1) * C + c] = cell.E;
      }
    }
  }
}

// Column stats {u1, u2, d1, d2} (math.h), SoA: st[q * C + c]. Per (sample chunk,
// column block) partial sums, combined in chunk order.
template <Activation ACT, typename scalar_t>
void moment_stats(const Input<scalar_t>& in, const double* r, double* st) {
  if constexpr (std::is_same_v<scalar_t, float>) {
    fused_stats<ACT>(in, FusedSurrogate{false, 0.0}, r, st);
    return;
  }
  using T = acc_t<scalar_t>;
  const int64_t C = in.C, S = in.S, ns = in.B * in.S;
  const Work w = mc_work(ns, C, S);
  std::vector<double> part(static_cast<size_t>(w.K * 4 * C), 0.0);
  for_each_work_item(w, ns, C, [&](int64_t k, int64_t n0, int64_t n1, int64_t c0, int64_t c1) {
    double* u1 = part.data() + (k * 4 + 0) * C;
    double* u2 = u1 + C;
    double* d1 = u2 + C;
    double* d2 = d1 + C;
    double acc[4] = {0.0, 0.0, 0.0, 0.0};  // the current column's sums (S > 1)
    for_each_tile<ACT>(
        in, n0, n1, c0, c1,
        [&](int64_t n, int32_t y, int64_t cb, int64_t len, const T* v, const T*) {
          mc_moments_row(v, len, y - cb, r[n], u1 + cb, u2 + cb);
          if (y >= cb && y < cb + len) {
            const double vy = static_cast<double>(v[y - cb]);
            d1[y] += vy;
            d2[y] += vy * vy;
          }
        },
        [&](int64_t c, int64_t n, int64_t, int64_t len, const T* v, const T*) {
          mc_moments_column(v, in.y + n, r + n, len, static_cast<int32_t>(c), acc);
        },
        [&](int64_t c) {
          u1[c] += acc[0];
          u2[c] += acc[1];
          d1[c] += acc[2];
          d2[c] += acc[3];
          std::fill(acc, acc + 4, 0.0);
        });
  });
  std::fill(st, st + 4 * C, 0.0);
  for (int64_t k = 0; k < w.K; ++k)
    for (int64_t q = 0; q < 4 * C; ++q) st[q] += part[k * 4 * C + q];
}

// Column cells of the exp surrogate: pos[c] over the keys -m v of positives, neg[c] over m v + log rho
// of negatives (lr = log rho per sample). Float32 scores take the fused loops, where lr is rho (the
// weight outside the key: same cell values).
template <Activation ACT, typename scalar_t>
void exp_stats(const Input<scalar_t>& in, const double* lr, double m, LseCell* pos, LseCell* neg) {
  using T = acc_t<scalar_t>;
  const int64_t C = in.C, S = in.S, ns = in.B * in.S;
  if constexpr (std::is_same_v<scalar_t, float>) {
    std::vector<double> st(static_cast<size_t>(4 * C));
    fused_stats<ACT>(in, FusedSurrogate{true, m}, lr, st.data());
    for (int64_t c = 0; c < C; ++c) {
      neg[c] = LseCell{st[c], st[C + c]};
      pos[c] = LseCell{st[2 * C + c], st[3 * C + c]};
    }
    return;
  }
  const Work w = mc_work(ns, C, S);
  std::vector<LseCell> part(static_cast<size_t>(w.K * 2 * C), lse_empty());
  for_each_work_item(w, ns, C, [&](int64_t k, int64_t n0, int64_t n1, int64_t c0, int64_t c1) {
    LseCell* p = part.data() + k * 2 * C;
    LseCell* q = p + C;
    auto add = [&](int32_t y, int64_t c, double v, double l) {
      if (y == c)
        lse_add(p[c], -m * v);
      else
        lse_add(q[c], m * v + l);
    };
    for_each_tile<ACT>(
        in, n0, n1, c0, c1,
        [&](int64_t n, int32_t y, int64_t cb, int64_t len, const T* v, const T*) {
          for (int64_t t = 0; t < len; ++t) add(y, cb + t, static_cast<double>(v[t]), lr[n]);
        },
        [&](int64_t c, int64_t n, int64_t, int64_t len, const T* v, const T*) {
          for (int64_t t = 0; t < len; ++t) {
            if (in.y[n + t] >= 0) add(in.y[n + t], c, static_cast<double>(v[t]), lr[n + t]);
          }
        },
        [](int64_t) {});
  });
  std::fill(pos, pos + C, lse_empty());
  std::fill(neg, neg + C, lse_empty());
  for (int64_t k = 0; k < w.K; ++k) {
    for (int64_t c = 0; c < C; ++c) {
      lse_merge(pos[c], part[k * 2 * C + c]);
      lse_merge(neg[c], part[k * 2 * C + C + c]);
    }
  }
}

// ---------------------------------------------------------------- gradient pass
// g = act'(x) * dL/dv for every element, from the column coefficients cf (SoA: ad, bd, ao, bo at
// q * C + c) and the sample weights r; ignored samples get 0.
// The fused float loops of the gradient (square, linear, exp): rows, or per (sample chunk, column)
// runs in the order of the statistics pass (each chunk's labels and weights stay in cache).
template <Activation ACT>
void grad_pass_f32(const Input<float>& in, const FusedSurrogate& sur, const double* cf, const double* r, float* g) {
  const int64_t C = in.C, S = in.S, ns = in.B * in.S;
  if (S == 1) {
    const std::vector<float> cff(cf, cf + 4 * C);
    at::parallel_for(0, in.B, std::max<int64_t>(1, 16384 / C), [&](int64_t nb, int64_t ne) {
      mc_rows_grad_f32(sur, ACT, in.x + nb * C, ne - nb, C, in.y + nb, r + nb, cff.data(), g + nb * C);
    });
    return;
  }
  for_each_work_item(mc_work(ns, C, S), ns, C, [&](int64_t, int64_t n0, int64_t n1, int64_t c0, int64_t c1) {
    for (int64_t c = c0; c < c1; ++c) {
      const Coef k{cf[c], cf[C + c], cf[2 * C + c], cf[3 * C + c]};
      for_each_run(C, S, n0, n1, c, [&](int64_t n, int64_t base, int64_t len) {
        mc_plane_grad_f32(sur, ACT, in.x + base, in.y + n, r + n, len, static_cast<int32_t>(c), k, g + base);
      });
    }
  });
}

template <Activation ACT, bool EXP, typename scalar_t>
void grad_pass(const Input<scalar_t>& in, const double* cf, const double* r, double m, scalar_t* g) {
  if constexpr (std::is_same_v<scalar_t, float>) {
    grad_pass_f32<ACT>(in, FusedSurrogate{EXP, m}, cf, r, g);
    return;
  }
  using T = acc_t<scalar_t>;
  const int64_t C = in.C, S = in.S;
  const double *ad = cf, *bd = cf + C, *ao = cf + 2 * C, *bo = cf + 3 * C;
  auto store = [](const T* src, int64_t len, scalar_t* dst) {
    for (int64_t t = 0; t < len; ++t) dst[t] = static_cast<scalar_t>(src[t]);
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
        for (int64_t cb = 0; cb < C; cb += kTile) {
          const int64_t len = std::min(C - cb, kTile);
          activate_tile<ACT>(in.x + n * C + cb, len, buf, dbuf);
          if constexpr (EXP) {
            for (int64_t t = 0; t < len; ++t) {
              const int64_t c = cb + t;
              const Coef k{ad[c], bd[c], ao[c], bo[c]};
              dbuf[t] = static_cast<T>(mc_grad_exp(static_cast<double>(buf[t]), c == y, r[n], m, k) *
                                       static_cast<double>(dbuf[t]));
            }
          } else {
            mc_grad_row(buf, dbuf, len, y - cb, r[n], ad + cb, bd + cb, ao + cb, bo + cb);
          }
          store(dbuf, len, gr + cb);
        }
      }
    });
    return;
  }
  at::parallel_for(0, in.B * C, std::max<int64_t>(1, 16384 / S), [&](int64_t pb, int64_t pe) {
    T buf[kTile], dbuf[kTile];
    for (int64_t p = pb; p < pe; ++p) {
      const int64_t bi = p / C, c = p % C;
      const Coef k{ad[c], bd[c], ao[c], bo[c]};
      for (int64_t s0 = 0; s0 < S; s0 += kTile) {
        const int64_t len = std::min(S - s0, kTile);
        activate_tile<ACT>(in.x + p * S + s0, len, buf, dbuf);
        const int32_t* ys = in.y + bi * S + s0;
        const double* rs = r + bi * S + s0;
        if constexpr (EXP) {
          for (int64_t t = 0; t < len; ++t) {
            const int32_t y = ys[t];
            dbuf[t] = y < 0 ? T(0)
                            : static_cast<T>(mc_grad_exp(static_cast<double>(buf[t]), y == c, rs[t], m, k) *
                                             static_cast<double>(dbuf[t]));
          }
        } else {
          mc_grad_column(buf, dbuf, ys, rs, len, static_cast<int32_t>(c), k);
        }
        store(dbuf, len, g + p * S + s0);
      }
    }
  });
}

// ---------------------------------------------------------------- hinge (exact, sort-based)
// Column i: positives u = m - x (weight 1), negatives z with weight w_{i, y}; the pair is active iff
// u + z > 0. Returns scale * L_i and writes scale * dL/dx * act'(x) into g at column i.
template <Activation ACT, typename scalar_t>
double hinge_column(const Input<scalar_t>& in, int64_t i, const double* N, double Ntot, double Cb, Mode mode, double m,
                    double scale, scalar_t* g) {
  using T = acc_t<scalar_t>;
  const int64_t C = in.C, ns = in.B * in.S;
  const Column col = mc_column(mode, N[i], Ntot, Cb, scale);
  const bool active = col.active;
  std::vector<double> w_of(C);
  for (int64_t j = 0; j < C; ++j) w_of[j] = j == i || !(N[j] > 0.0) ? 0.0 : mc_sample_weight(mode, N[j]) * col.kappa;
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
      if (y == i)
        pos.push_back(m - d);
      else if (w_of[y] != 0.0)
        neg.emplace_back(d, w_of[y]);
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
    pairwise::hinge_sample(1, pos[r], n0[q], n1[q], 0.0, &value, &dvalue);
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

template <Activation ACT, typename scalar_t>
double hinge_all(const Input<scalar_t>& in, const double* N, double Ntot, double Cb, Mode mode, double m, double scale,
                 scalar_t* g) {
  const int64_t C = in.C;
  std::vector<double> Lcol(C, 0.0);
  at::parallel_for(0, C, 1, [&](int64_t b, int64_t e) {
    for (int64_t i = b; i < e; ++i) Lcol[i] = hinge_column<ACT>(in, i, N, Ntot, Cb, mode, m, scale, g);
  });
  double L = 0.0;
  for (double v : Lcol) L += v;
  return L;
}

// ---------------------------------------------------------------- square, linear, exp: driver
// One pass of column stats (O(C) memory), an O(C) epilogue, one gradient pass.
template <Activation ACT, typename scalar_t>
double column_loss(const Input<scalar_t>& in, Surrogate sur, const double* N, double Ntot, double Cb, Mode mode,
                   double m, double scale, scalar_t* g) {
  const int64_t C = in.C, ns = in.B * in.S;
  const bool ex = sur == Surrogate::Exp;
  constexpr bool fused = std::is_same_v<scalar_t, float>;  // the float32 loops take rho, not log rho
  const std::vector<double> r = sample_weights(in.y, ns, N, mode, ex && !fused);
  std::vector<double> cf(static_cast<size_t>(4 * C)), Lcol(static_cast<size_t>(C));
  auto put = [&](int64_t i, const Coef& k) {
    cf[i] = k.ad;
    cf[C + i] = k.bd;
    cf[2 * C + i] = k.ao;
    cf[3 * C + i] = k.bo;
  };
  if (ex) {
    std::vector<LseCell> pos(static_cast<size_t>(C)), neg(static_cast<size_t>(C));
    exp_stats<ACT>(in, r.data(), m, pos.data(), neg.data());
    for (int64_t i = 0; i < C; ++i) {
      Coef k;
      Lcol[i] = mc_exp_column(mc_column(mode, N[i], Ntot, Cb, scale), pos[i], neg[i], m, scale, &k);
      put(i, fused ? mc_exp_coef_shifted(k, pos[i].M, neg[i].M) : k);
    }
  } else {
    std::vector<double> st(static_cast<size_t>(4 * C));
    moment_stats<ACT>(in, r.data(), st.data());
    for (int64_t i = 0; i < C; ++i) {
      Coef k;
      Lcol[i] = mc_moment_column(sur, mc_column(mode, N[i], Ntot, Cb, scale), N[i], st[i], st[C + i], st[2 * C + i],
                                 st[3 * C + i], m, scale, &k);
      put(i, k);
    }
  }
  if (g) {
    if (ex)
      grad_pass<ACT, true>(in, cf.data(), r.data(), m, g);
    else
      grad_pass<ACT, false>(in, cf.data(), r.data(), m, g);
  }
  double L = 0.0;
  for (double v : Lcol) L += v;
  return L;
}

// ---------------------------------------------------------------- op
std::tuple<at::Tensor, at::Tensor> multiclass_auc_loss_cpu(const at::Tensor& scores_in, const at::Tensor& labels_in,
                                                           c10::optional<int64_t> ignore_index,
                                                           c10::string_view activation_name,
                                                           c10::string_view surrogate_name, c10::string_view mode_name,
                                                           double margin, c10::string_view normalization_name,
                                                           bool compute_grad) {
  const auto [act, sur, mode, norm, sh] =
      check_mc_args(scores_in, labels_in, activation_name, surrogate_name, mode_name, margin, normalization_name);
  const at::Tensor scores = scores_in.contiguous();
  const Labels lab = checked_labels(labels_in, sh.C, ignore_index);
  double Cb, Ntot;
  mc_class_totals(sh.C, lab.counts.data(), &Cb, &Ntot);
  const double scale = mc_scale(mode, norm, sh.C, Cb);

  // the hinge writes only non-ignored samples, the other paths every element
  at::Tensor grad = !compute_grad             ? at::empty({0}, scores.options())
                    : sur == Surrogate::Hinge ? at::zeros(scores.sizes(), scores.options())
                                              : at::empty(scores.sizes(), scores.options());
  double L = 0.0;
  AT_DISPATCH_FLOATING_TYPES_AND2(at::kHalf, at::kBFloat16, scores.scalar_type(), "multiclass_auc_loss", [&] {
    const Input<scalar_t> in{scores.data_ptr<scalar_t>(), lab.y.data_ptr<int32_t>(), sh.B, sh.C, sh.S};
    scalar_t* g = compute_grad ? grad.data_ptr<scalar_t>() : nullptr;
    const double* N = lab.counts.data();
    auto run = [&](auto act_tag) {
      constexpr Activation ACT = decltype(act_tag)::value;
      return sur == Surrogate::Hinge ? hinge_all<ACT>(in, N, Ntot, Cb, mode, margin, scale, g)
                                     : column_loss<ACT>(in, sur, N, Ntot, Cb, mode, margin, scale, g);
    };
    L = act == Activation::Sigmoid ? run(std::integral_constant<Activation, Activation::Sigmoid>{})
                                   : run(std::integral_constant<Activation, Activation::None>{});
  });
  at::Tensor loss = at::full({}, L, scores.options().dtype(at::kDouble)).to(scores.scalar_type());
  return {loss, grad};
}

}  // namespace

TORCH_LIBRARY_IMPL(torchauc, CPU, m) { m.impl("multiclass_auc_loss", &multiclass_auc_loss_cpu); }

}  // namespace torchauc::multiclass
