// Square and exp pairwise losses on the CPU in two passes over the inputs, read in place in their
// own dtypes (scores float16/bfloat16/float32/float64, labels bool/int8/int64/float32 without a
// copy, other label dtypes through one int8 conversion), accumulated in double:
//   pass 1, per fixed chunk of kChunk samples: the side statistics (weights, NaN flag, label check),
//     and the shifted statistics in a second sweep over the chunk while it is in cache (square: the
//     centred second moment around the chunk mean; exp: the sum of exp(key - chunk max));
//     chunks combine in order (deterministic, independent of the thread count);
//   pass 2: the gradients, written once in the input dtype with the reduction's scale applied.
// Extra memory: the outputs only (the score gradient, and the weight gradients when weights are
// given), plus O(n / kChunk) chunk statistics. Inputs up to two chunks run on the calling thread.
// Rounding: the square loss combines per-chunk centred moments with the exact shift formula
// (sum w (k - M)^2 = Q_c + 2 (m_c - M) S_c + (m_c - M)^2 W_c), the exp loss rescales chunk sums by
// exp(max_c - max); both differ from a two-pass float64 evaluation by float64 rounding only.
#include "pairwise/cpu_moments.h"

#include <ATen/Dispatch.h>
#include <ATen/Parallel.h>

#include <algorithm>
#include <cmath>
#include <limits>
#include <vector>

#include "core/labels.h"
#include "core/parallel.h"
#include "pairwise/math.h"

namespace torchauc::pairwise {
namespace {

// One side's statistics over a range of samples. Square: w0 = sum w, w1 = sum w k, and around the
// shift c (the range's mean key): s1 = sum w (k - c), s2 = sum w (k - c)^2. Exp: c = max key,
// s2 = sum w exp(k - c) (w1, s1 unused).
struct SideStats {
  double w0 = 0.0, w1 = 0.0, c = 0.0, s1 = 0.0, s2 = 0.0;
};
struct ChunkStats {
  SideStats pos, neg;
  bool nan = false, bad_label = false;
};

template <typename T, typename L, bool kWeighted>
struct Inputs {
  const T* s;
  const L* y;
  const T* a;  // positive weights (kWeighted only)
  const T* b;  // negative weights
  double m;
  bool label(int64_t i) const { return static_cast<double>(y[i]) != 0.0; }
  bool bad_label(int64_t i) const {
    const double v = static_cast<double>(y[i]);
    return v != 0.0 && v != 1.0;
  }
  double pos_w(int64_t i) const { return kWeighted ? static_cast<double>(a[i]) : 1.0; }
  double neg_w(int64_t i) const { return kWeighted ? static_cast<double>(b[i]) : 1.0; }
};

// ---- pass 1
template <typename In>
ChunkStats square_chunk(const In& in, int64_t lo, int64_t hi) {
  ChunkStats c;
  for (int64_t i = lo; i < hi; ++i) {
    const double s = static_cast<double>(in.s[i]);
    c.nan |= s != s;
    c.bad_label |= in.bad_label(i);
    if (in.label(i)) {
      const double w = in.pos_w(i);
      c.pos.w0 += w;
      c.pos.w1 += w * (in.m - s);
    } else {
      const double w = in.neg_w(i);
      c.neg.w0 += w;
      c.neg.w1 += w * s;
    }
  }
  c.pos.c = c.pos.w0 != 0.0 ? c.pos.w1 / c.pos.w0 : 0.0;
  c.neg.c = c.neg.w0 != 0.0 ? c.neg.w1 / c.neg.w0 : 0.0;
  for (int64_t i = lo; i < hi; ++i) {  // the chunk is in cache: centred moments cost no memory pass
    const double s = static_cast<double>(in.s[i]);
    if (in.label(i)) {
      const double w = in.pos_w(i), d = (in.m - s) - c.pos.c;
      c.pos.s1 += w * d;
      c.pos.s2 += w * d * d;
    } else {
      const double w = in.neg_w(i), d = s - c.neg.c;
      c.neg.s1 += w * d;
      c.neg.s2 += w * d * d;
    }
  }
  return c;
}

template <typename In>
ChunkStats exp_chunk(const In& in, int64_t lo, int64_t hi) {
  ChunkStats c;
  c.pos.c = c.neg.c = -std::numeric_limits<double>::infinity();
  for (int64_t i = lo; i < hi; ++i) {
    const double s = static_cast<double>(in.s[i]);
    c.nan |= s != s;
    c.bad_label |= in.bad_label(i);
    if (in.label(i)) {
      c.pos.w0 += in.pos_w(i);
      c.pos.c = std::max(c.pos.c, -in.m * s);
    } else {
      c.neg.w0 += in.neg_w(i);
      c.neg.c = std::max(c.neg.c, in.m * s);
    }
  }
  if (c.nan) return c;  // the loss is NaN: the sums are not needed
  for (int64_t i = lo; i < hi; ++i) {
    const double s = static_cast<double>(in.s[i]);
    if (in.label(i))
      c.pos.s2 += in.pos_w(i) * std::exp(-in.m * s - c.pos.c);
    else
      c.neg.s2 += in.neg_w(i) * std::exp(in.m * s - c.neg.c);
  }
  return c;
}

// Below this many samples a pass runs on the calling thread: a parallel region costs more than the
// work there, and a descheduled worker (another process on the core) would stall the whole call.
constexpr int64_t kSerialBelow = 2 * kChunk;

// Runs chunk(lo, hi) over fixed chunks (in parallel above kSerialBelow) and returns them in order.
template <typename F>
std::vector<ChunkStats> per_chunk(int64_t n, const F& chunk) {
  const int64_t nchunks = (n + kChunk - 1) / kChunk;
  std::vector<ChunkStats> out(nchunks);
  at::parallel_for(0, nchunks, kSerialBelow / kChunk, [&](int64_t cb, int64_t ce) {
    for (int64_t c = cb; c < ce; ++c) out[c] = chunk(c * kChunk, std::min(n, (c + 1) * kChunk));
  });
  return out;
}

SideMoments combine_square(const std::vector<ChunkStats>& parts, SideStats ChunkStats::* side) {
  double w0 = 0.0, w1 = 0.0;
  for (const ChunkStats& p : parts) {
    w0 += (p.*side).w0;
    w1 += (p.*side).w1;
  }
  const double mean = w0 != 0.0 ? w1 / w0 : 0.0;
  double c2 = 0.0;
  for (const ChunkStats& p : parts) {
    const SideStats& s = p.*side;
    const double d = s.c - mean;
    c2 += s.s2 + 2.0 * d * s.s1 + d * d * s.w0;
  }
  return {w0, mean, c2};
}

// (total weight, max key, sum w exp(key - max key)) of one side over all chunks.
struct ExpTotals {
  double w0, c, sum;
};
ExpTotals combine_exp(const std::vector<ChunkStats>& parts, SideStats ChunkStats::* side) {
  ExpTotals t{0.0, -std::numeric_limits<double>::infinity(), 0.0};
  for (const ChunkStats& p : parts) {
    t.w0 += (p.*side).w0;
    t.c = std::max(t.c, (p.*side).c);
  }
  for (const ChunkStats& p : parts)
    if ((p.*side).s2 != 0.0) t.sum += (p.*side).s2 * std::exp((p.*side).c - t.c);
  return t;
}

// ---- pass 2: d loss / d score (and d loss / d own weight) per sample, written in the input dtype.
template <typename T, typename L, bool kWeighted, typename Sample>
void write_grads(const Inputs<T, L, kWeighted>& in, int64_t n, const GradScale& g, const Sample& sample, T* gx, T* ga,
                 T* gb) {
  at::parallel_for(0, n, kSerialBelow, [&](int64_t lo, int64_t hi) {
    for (int64_t i = lo; i < hi; ++i) {
      const bool pos = in.label(i);
      double dS_dx, dS_dw, grad_x, grad_w;
      sample(in, i, pos, &dS_dx, &dS_dw);
      finish_sample(g, pos, dS_dx, dS_dw, &grad_x, &grad_w);
      gx[i] = static_cast<T>(grad_x);
      if constexpr (kWeighted) {
        ga[i] = static_cast<T>(pos ? grad_w : 0.0);
        gb[i] = static_cast<T>(pos ? 0.0 : grad_w);
      }
    }
  });
}

// NaN scores: dS = 0 scaled by NaN gives NaN for every score and for each sample's own weight (the
// other side's weight gradient stays 0), as the other surrogates do.
template <typename In>
void zero_sample(const In&, int64_t, bool, double* dx, double* dw) {
  *dx = 0.0;
  *dw = 0.0;
}

struct Result {
  GradScale g;
  bool bad_label;
};

template <typename T, typename L, bool kWeighted>
Result run(Surrogate sur, Reduction red, const Inputs<T, L, kWeighted>& in, int64_t n, T* gx, T* ga, T* gb) {
  using In = Inputs<T, L, kWeighted>;
  const double m = in.m;
  const std::vector<ChunkStats> parts = per_chunk(n, [&](int64_t lo, int64_t hi) {
    return sur == Surrogate::Square ? square_chunk(in, lo, hi) : exp_chunk(in, lo, hi);
  });
  bool nan = false, bad = false;
  for (const ChunkStats& p : parts) {
    nan |= p.nan;
    bad |= p.bad_label;
  }
  if (bad) return {GradScale{}, true};
  if (sur == Surrogate::Square) {
    const SideMoments P = combine_square(parts, &ChunkStats::pos), N = combine_square(parts, &ChunkStats::neg);
    const GradScale g = finish_reduction(red, square_total(P, N), P.w0, N.w0, false, 0.0, nan);
    if (gx && nan) write_grads(in, n, g, zero_sample<In>, gx, ga, gb);
    if (gx && !nan && g.grad_scale != 0.0) {
      write_grads(
          in, n, g,
          [&](const In& v, int64_t i, bool pos, double* dx, double* dw) {
            const double s = static_cast<double>(v.s[i]);
            double dk;
            if (pos) {
              square_sample(m - s, v.pos_w(i), N, &dk, dw);
              *dx = -dk;  // du/dx = -1
            } else {
              square_sample(s, v.neg_w(i), P, &dk, dw);
              *dx = dk;
            }
          },
          gx, ga, gb);
    }
    return {g, false};
  }
  const ExpTotals tp = combine_exp(parts, &ChunkStats::pos), tn = combine_exp(parts, &ChunkStats::neg);
  const double W = tp.w0 * tn.w0;
  if (nan || !(W != 0.0)) {
    const GradScale g = finish_reduction(red, 0.0, tp.w0, tn.w0, false, 0.0, nan);
    if (gx && nan) write_grads(in, n, g, zero_sample<In>, gx, ga, gb);
    return {g, false};
  }
  const ExpSide P{tp.c, std::log(tp.sum)}, N{tn.c, std::log(tn.sum)};
  const double log_scale = red == Reduction::Mean ? -std::log(W) : 0.0;  // folded into each exponent
  const double S = std::exp(P.c + P.log_sum + N.c + N.log_sum);
  const double loss = std::exp(P.c + P.log_sum + N.c + N.log_sum + log_scale);
  const GradScale g = finish_reduction(red, S, tp.w0, tn.w0, true, loss, false);
  if (gx) {
    write_grads(
        in, n, g,
        [&](const In& v, int64_t i, bool pos, double* dx, double* dw) {
          const double s = static_cast<double>(v.s[i]);
          if (pos) {
            const double f = exp_sample_factor(-m * s, N, log_scale);
            *dx = -m * v.pos_w(i) * f;
            *dw = f;
          } else {
            const double f = exp_sample_factor(m * s, P, log_scale);
            *dx = m * v.neg_w(i) * f;
            *dw = f;
          }
        },
        gx, ga, gb);
  }
  return {g, false};
}

template <typename T>
const T* ptr_or_null(const c10::optional<at::Tensor>& t) {
  return t ? t->const_data_ptr<T>() : nullptr;
}

}  // namespace

std::tuple<at::Tensor, at::Tensor, at::Tensor, at::Tensor> moment_loss_cpu(const PairwiseArgs& args,
                                                                           const at::Tensor& scores_in,
                                                                           const c10::optional<at::Tensor>& pos_w_in,
                                                                           const c10::optional<at::Tensor>& neg_w_in,
                                                                           double margin, bool compute_grad) {
  const auto& [sur, red, scores_arg, labels_arg, pos_arg, neg_arg] = args;
  // Weights of another dtype than the scores: all three in the promoted dtype (a lossless widening).
  at::ScalarType t = scores_arg.scalar_type();
  for (const auto& w : {pos_arg, neg_arg})
    if (w) t = at::promote_types(t, w->scalar_type());
  const at::Tensor scores = scores_arg.to(t);
  const bool weighted = pos_arg.has_value() || neg_arg.has_value();
  const int64_t n = scores.numel();
  c10::optional<at::Tensor> pos_w = pos_arg, neg_w = neg_arg;
  if (weighted) {  // a missing side weighs 1 (rare: one weight given without the other)
    pos_w = pos_arg ? pos_arg->to(t).contiguous() : at::ones({n}, scores.options());
    neg_w = neg_arg ? neg_arg->to(t).contiguous() : at::ones({n}, scores.options());
  }
  at::Tensor labels = labels_arg;
  const at::ScalarType lt = labels.scalar_type();
  if (lt != at::kBool && lt != at::kChar && lt != at::kLong && lt != at::kFloat) labels = binary_labels(labels).y;

  at::Tensor gx, ga, gb;
  if (compute_grad) {
    gx = at::empty({n}, scores.options());
    if (weighted) {
      ga = at::empty({n}, scores.options());
      gb = at::empty({n}, scores.options());
    }
  }
  Result r;
  AT_DISPATCH_FLOATING_TYPES_AND2(at::kHalf, at::kBFloat16, t, "pairwise_moment_loss", [&] {
    using T = scalar_t;
    T* pgx = gx.defined() ? gx.data_ptr<T>() : nullptr;
    T* pga = ga.defined() ? ga.data_ptr<T>() : nullptr;
    T* pgb = gb.defined() ? gb.data_ptr<T>() : nullptr;
    auto with_labels = [&](auto label_tag) {
      using L = decltype(label_tag);
      const L* y = labels.const_data_ptr<L>();
      if (weighted) {
        const Inputs<T, L, true> in{scores.const_data_ptr<T>(), y, ptr_or_null<T>(pos_w), ptr_or_null<T>(neg_w),
                                    margin};
        r = run(sur, red, in, n, pgx, pga, pgb);
      } else {
        const Inputs<T, L, false> in{scores.const_data_ptr<T>(), y, nullptr, nullptr, margin};
        r = run(sur, red, in, n, pgx, pga, pgb);
      }
    };
    switch (labels.scalar_type()) {
      case at::kBool: with_labels(bool{}); break;
      case at::kChar: with_labels(int8_t{}); break;
      case at::kLong: with_labels(int64_t{}); break;
      default: with_labels(float{}); break;
    }
  });
  if (r.bad_label) binary_labels(labels);  // throws the shared error (argument, first index, value)

  const GradScale& g = r.g;
  at::Tensor loss = at::scalar_tensor(g.loss, scores.options().dtype(at::kDouble)).to(scores_arg.scalar_type());
  const auto out_opts = scores_arg.options();
  at::Tensor g_s = at::empty({0}, out_opts), g_a = at::empty({0}, out_opts), g_b = at::empty({0}, out_opts);
  if (compute_grad) {
    if (g.grad_scale == 0.0) {  // no pairs: zero gradient (not written by the passes)
      gx.zero_();
      if (weighted) {
        ga.zero_();
        gb.zero_();
      }
    }
    g_s = gx.to(scores_arg.scalar_type()).view(scores_in.sizes());
    if (pos_w_in) g_a = ga.to(pos_w_in->scalar_type()).view(pos_w_in->sizes());
    if (neg_w_in) g_b = gb.to(neg_w_in->scalar_type()).view(neg_w_in->sizes());
  }
  return {loss, g_s, g_a, g_b};
}

}  // namespace torchauc::pairwise
