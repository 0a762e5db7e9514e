// Square and exp pairwise losses on the CPU in two passes over the inputs, read in place in their
// own dtypes (scores float16/bfloat16/float32/float64, labels bool/int8/int64/float32 without a
// copy, other label dtypes through one int8 conversion), accumulated in double:
//   pass 1, per fixed chunk of kChunk samples: the side statistics (weights, NaN flag, label check),
//     and the shifted statistics in a second sweep over the chunk while it is in cache (square: the
//     centred second moment around the chunk mean; exp: the sum of exp(key - chunk max));
//     chunks combine in order (deterministic, independent of the thread count);
//   pass 2: the gradients, written once in the input dtype with the reduction's scale applied.
//   Exp with float32 scores, unweighted: pass 1 also stores each e^(key - chunk max) in the gradient
//   buffer and pass 2 scales it by its chunk's constant, so each sample takes one exp, not two.
// Extra memory: the outputs only (the score gradient, and the weight gradients when weights are
// given), plus O(n / kChunk) chunk statistics. Inputs up to two chunks run on the calling thread.
// Rounding: the square loss combines per-chunk centred moments with the exact shift formula
// (sum w (k - M)^2 = Q_c + 2 (m_c - M) S_c + (m_c - M)^2 W_c), the exp loss rescales chunk sums by
// exp(max_c - max); both differ from a two-pass float64 evaluation by float64 rounding only, except
// that the exp of float/half/bfloat16 scores is exp_nonpos_fast (below: < 5e-10 relative per term,
// terms below e^-700 flushed to 0), so each float32 output is within 2.5e-7 relative (its own
// rounding dominates) plus 1e-9 of the tensor's largest entry (cancellation in the mean's weight
// gradients) of the float64 value (the stored factors' float rounding included: < 1.2e-7 relative
// with the output's own); float64 scores keep libm exp.
// Both passes are branch-free (selects on the label) and, for float scores, compiled for AVX-512,
// AVX2 and the baseline (target_clones).
#include "pairwise/cpu_moments.h"

#include <ATen/Dispatch.h>
#include <ATen/Parallel.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <limits>
#include <type_traits>
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

// Labels as stored: positive when != 0; anything but 0 / 1 is an error (checked after the pass).
template <typename L>
bool is_positive(L y) {
  return y != L(0);
}
template <typename L>
bool not_binary(L y) {
  if constexpr (std::is_integral_v<L>)
    return static_cast<std::make_unsigned_t<L>>(y) > 1u;
  else
    return (y != L(0)) & (y != L(1));
}
// bool labels are read as their bytes (0 / 1): GCC does not vectorise loads of bool.
template <typename L>
using LabelStorage = std::conditional_t<std::is_same_v<L, bool>, uint8_t, L>;

template <typename T, typename L, bool kWeighted>
struct Inputs {
  using Scalar = T;
  static constexpr bool weighted = kWeighted;
  const T* s;
  const LabelStorage<L>* y;
  const T* a;  // positive weights (kWeighted only)
  const T* b;  // negative weights
  double m;
  bool label(int64_t i) const { return is_positive(y[i]); }
  bool bad_label(int64_t i) const {
    if constexpr (std::is_same_v<L, bool>)
      return false;
    else
      return not_binary(y[i]);
  }
  // the sample's own weight, selected by its label (no branch)
  double own_w(int64_t i, bool pos) const {
    if constexpr (kWeighted)
      return pos ? static_cast<double>(a[i]) : static_cast<double>(b[i]);
    else
      return 1.0;
  }
};

// The loop bodies are inlined into the instruction-set clones below (else the clones only call them).
#define TAUC_LOOP __attribute__((always_inline)) inline

// exp(x) in double for x <= 0, without a branch or a libm call so that the loops calling it
// vectorise: x = n ln2 + r with |r| <= ln2/2 (Cody-Waite, exact products), a degree-8 Taylor
// polynomial in r (truncation < 4e-10 relative), 2^n by bit cast; 0 below -700 (where 2^n would
// leave the normal range), NaN stays NaN. Float scores reach it with the key reduction in double:
// a float key reduction (exp_nonpos_poly on float(k - c)) would cost |k - c| * 6e-8 relative.
TAUC_LOOP double exp_nonpos_fast(double x) {
  constexpr double kRound = 6755399441055744.0;  // 1.5 * 2^52: adding it rounds to an integer
  const double xc = x > -700.0 ? x : -700.0;
  const double t = xc * 1.4426950408889634 + kRound;
  const double fn = t - kRound;
  const double r = (xc - fn * 6.93147180369123816490e-01) - fn * 1.90821492927058770002e-10;
  double p = 1.0 / 40320.0;
  p = p * r + 1.0 / 5040.0;
  p = p * r + 1.0 / 720.0;
  p = p * r + 1.0 / 120.0;
  p = p * r + 1.0 / 24.0;
  p = p * r + 1.0 / 6.0;
  p = p * r + 0.5;
  p = p * r + 1.0;
  p = p * r + 1.0;
  // the low bits of t hold n (t = kRound + n): (n + 1023) << 52 is the double 2^n
  const uint64_t bits = (__builtin_bit_cast(uint64_t, t) + 1023u) << 52;
  const double out = p * __builtin_bit_cast(double, bits);
  return x >= -700.0 ? out : (x < -700.0 ? 0.0 : x);
}
// Float / half / bfloat16 scores use the polynomial; float64 scores keep libm (the reference path).
template <typename T>
double exp_key(double x) {
  if constexpr (std::is_same_v<T, double>)
    return std::exp(x);
  else
    return exp_nonpos_fast(x);
}

// Labels of a sub-block of kSub samples as float 0 / 1 flags, and whether any is not binary. With
// the labels' bytes in them, GCC vectorises the double loops of a chunk on 16-byte vectors only (the
// avx512f clone has no AVX512BW byte operations): ~5x the instructions, with spills; reading float
// flags keeps them on full-width vectors. Every label dtype goes through it, so all give the same bits.
constexpr int64_t kSub = 512;
template <typename In>
TAUC_LOOP int label_flags(const In& in, int64_t lo, int64_t len, float* flag) {
  int bad = 0;
#pragma omp simd reduction(| : bad)
  for (int64_t j = 0; j < len; ++j) {
    flag[j] = in.label(lo + j) ? 1.0f : 0.0f;
    bad |= in.bad_label(lo + j);
  }
  return bad;
}
// Every pass loop runs as body(b, len, flag) over the sub-blocks [b, b + len) of [lo, hi), reading
// the labels from `flag` (label_flags); returns whether a label is not binary. The bodies are
// TAUC_BODY lambdas: inlined, so that they are compiled for the caller's instruction-set clone.
#define TAUC_BODY __attribute__((always_inline))
template <typename In, typename Body>
TAUC_LOOP int over_flagged_blocks(const In& in, int64_t lo, int64_t hi, const Body& body) {
  float flag[kSub];
  int bad = 0;
  for (int64_t b = lo; b < hi; b += kSub) {
    const int64_t len = std::min(kSub, hi - b);
    bad |= label_flags(in, b, len, flag);
    body(b, len, flag);
  }
  return bad;
}

// ---- pass 1, branch-free: both sides' sums are updated with a select on the label; the
// `omp simd` reductions let the compiler vectorise them (a fixed order per chunk and instruction
// set, so the sums are the same for every thread count).
template <typename In>
TAUC_LOOP ChunkStats square_chunk(const In& in_ref, int64_t lo, int64_t hi) {
  const In in = in_ref;  // a local copy: its pointers stay in registers (loop-invariant loads)
  const double m = in.m;
  double pw0 = 0.0, pw1 = 0.0, nw0 = 0.0, nw1 = 0.0;
  int nan = 0;
  const int bad = over_flagged_blocks(in, lo, hi, [&](int64_t b, int64_t len, const float* flag) TAUC_BODY {
#pragma omp simd reduction(+ : pw0, pw1, nw0, nw1) reduction(| : nan)
    for (int64_t j = 0; j < len; ++j) {
      const int64_t i = b + j;
      const double s = static_cast<double>(in.s[i]);
      const bool pos = flag[j] != 0.0f;
      nan |= s != s;
      const double w = in.own_w(i, pos);
      pw0 += pos ? w : 0.0;
      pw1 += pos ? w * (m - s) : 0.0;
      nw0 += pos ? 0.0 : w;
      nw1 += pos ? 0.0 : w * s;
    }
  });
  ChunkStats c;
  c.nan = nan != 0;
  c.bad_label = bad != 0;
  c.pos.w0 = pw0;
  c.pos.w1 = pw1;
  c.neg.w0 = nw0;
  c.neg.w1 = nw1;
  c.pos.c = pw0 != 0.0 ? pw1 / pw0 : 0.0;
  c.neg.c = nw0 != 0.0 ? nw1 / nw0 : 0.0;
  const double cp = c.pos.c, cn = c.neg.c;
  double ps1 = 0.0, ps2 = 0.0, ns1 = 0.0, ns2 = 0.0;
  // the chunk is in cache: centred moments cost no memory pass
  over_flagged_blocks(in, lo, hi, [&](int64_t b, int64_t len, const float* flag) TAUC_BODY {
#pragma omp simd reduction(+ : ps1, ps2, ns1, ns2)
    for (int64_t j = 0; j < len; ++j) {
      const int64_t i = b + j;
      const double s = static_cast<double>(in.s[i]);
      const bool pos = flag[j] != 0.0f;
      const double d = pos ? (m - s) - cp : s - cn, wd = in.own_w(i, pos) * d;
      ps1 += pos ? wd : 0.0;
      ps2 += pos ? wd * d : 0.0;
      ns1 += pos ? 0.0 : wd;
      ns2 += pos ? 0.0 : wd * d;
    }
  });
  c.pos.s1 = ps1;
  c.pos.s2 = ps2;
  c.neg.s1 = ns1;
  c.neg.s2 = ns2;
  return c;
}

// kStore (unweighted float32 scores with a gradient to write): each sample's e^{k - c_chunk} is also
// stored in the gradient buffer, negated for a positive (its sign bit is the label, and d key / d
// score = -m there), so that pass 2 only scales it (exp_scale_stored) instead of evaluating a second
// exp and reading the labels again: one float rounding more (< 6e-8 relative), and factors below
// float's range (e^{k - c_chunk} < 1e-45, so below 1e-45 of the side's largest gradient) flush to 0.
template <typename In, bool kStore = false>
TAUC_LOOP ChunkStats exp_chunk(const In& in_ref, int64_t lo, int64_t hi, float* store = nullptr) {
  static_assert(!kStore || (std::is_same_v<typename In::Scalar, float> && !In::weighted), "unweighted float32 only");
  const In in = in_ref;  // a local copy: its pointers stay in registers (loop-invariant loads)
  const double m = in.m, inf = std::numeric_limits<double>::infinity();
  double pw0 = 0.0, nw0 = 0.0, pmax = -inf, nmax = -inf;
  int nan = 0;
  const int bad = over_flagged_blocks(in, lo, hi, [&](int64_t b, int64_t len, const float* flag) TAUC_BODY {
#pragma omp simd reduction(+ : pw0, nw0) reduction(max : pmax, nmax) reduction(| : nan)
    for (int64_t j = 0; j < len; ++j) {
      const int64_t i = b + j;
      const double s = static_cast<double>(in.s[i]);
      const bool pos = flag[j] != 0.0f;
      nan |= s != s;
      const double w = in.own_w(i, pos), kp = -m * s, kn = m * s;
      pw0 += pos ? w : 0.0;
      nw0 += pos ? 0.0 : w;
      pmax = pos && kp > pmax ? kp : pmax;
      nmax = !pos && kn > nmax ? kn : nmax;
    }
  });
  ChunkStats c;
  c.nan = nan != 0;
  c.bad_label = bad != 0;
  c.pos.w0 = pw0;
  c.neg.w0 = nw0;
  c.pos.c = pmax;
  c.neg.c = nmax;
  if (c.nan) return c;  // the loss is NaN: the sums are not needed
  using T = typename In::Scalar;
  double ps = 0.0, ns = 0.0;
  // one exp per sample, of its key minus its side's max
  over_flagged_blocks(in, lo, hi, [&](int64_t b, int64_t len, const float* flag) TAUC_BODY {
#pragma omp simd reduction(+ : ps, ns)
    for (int64_t j = 0; j < len; ++j) {
      const int64_t i = b + j;
      const double s = static_cast<double>(in.s[i]);
      const bool pos = flag[j] != 0.0f;
      const double f = exp_key<T>(pos ? -m * s - pmax : m * s - nmax), e = in.own_w(i, pos) * f;
      if constexpr (kStore) store[i] = static_cast<float>(pos ? -f : f);
      ps += pos ? e : 0.0;
      ns += pos ? 0.0 : e;
    }
  });
  c.pos.s2 = ps;
  c.neg.s2 = ns;
  return c;
}

// ---- pass 2, branch-free: d loss / d score (and d loss / d own weight) per sample in [lo, hi),
// written in the input dtype, the opposite side's constants selected by the label.
struct SquareGrad {
  SideMoments P, N;
  GradScale g;
};
template <typename In, typename T = typename In::Scalar>
TAUC_LOOP void square_grads(const In& in_ref, const SquareGrad& k_ref, int64_t lo, int64_t hi, T* gx, T* ga, T* gb) {
  const In in = in_ref;  // local copies: loop-invariant loads
  const SquareGrad k = k_ref;
  const double m = in.m, gs = k.g.grad_scale;
  over_flagged_blocks(in, lo, hi, [&](int64_t b, int64_t len, const float* flag) TAUC_BODY {
#pragma omp simd
    for (int64_t j = 0; j < len; ++j) {
      const int64_t i = b + j;
      const double s = static_cast<double>(in.s[i]);
      const bool pos = flag[j] != 0.0f;
      // square_sample (math.h) against the opposite side; du/dx = -1 for a positive (u = m - x)
      const double o_w0 = pos ? k.N.w0 : k.P.w0, o_mean = pos ? k.N.mean : k.P.mean;
      const double d = (pos ? m - s : s) + o_mean;
      const double dk = 2.0 * in.own_w(i, pos) * o_w0 * d;
      gx[i] = static_cast<T>((pos ? -dk : dk) * gs);
      if constexpr (In::weighted) {  // ga, gb are given with the weights
        const double dw = o_w0 * d * d + (pos ? k.N.c2 : k.P.c2);
        const double grad_w = dw * gs - (pos ? k.g.pos_shift : k.g.neg_shift);
        ga[i] = static_cast<T>(pos ? grad_w : 0.0);
        gb[i] = static_cast<T>(pos ? 0.0 : grad_w);
      }
    }
  });
}

// exp: the factor e^{k + log O + log_scale} of a sample with key k. Fast form (float inputs):
// exp_nonpos_fast(k - c_own) * K_side with the side constant K = e^{c_own + log O + log_scale} in
// double (finite: checked), so the one exp per sample is the vectorised polynomial.
struct ExpGrad {
  ExpSide P, N;
  double log_scale, pos_c, neg_c, pos_K, neg_K;
  GradScale g;
};
template <bool kFast, typename In, typename T = typename In::Scalar>
TAUC_LOOP void exp_grads(const In& in_ref, const ExpGrad& k_ref, int64_t lo, int64_t hi, T* gx, T* ga, T* gb) {
  const In in = in_ref;  // local copies: loop-invariant loads
  const ExpGrad k = k_ref;
  const double m = in.m, gs = k.g.grad_scale;
  over_flagged_blocks(in, lo, hi, [&](int64_t b, int64_t len, const float* flag) TAUC_BODY {
#pragma omp simd
    for (int64_t j = 0; j < len; ++j) {
      const int64_t i = b + j;
      const double s = static_cast<double>(in.s[i]);
      const bool pos = flag[j] != 0.0f;
      const double key = pos ? -m * s : m * s;
      double f;
      if constexpr (kFast)
        f = exp_nonpos_fast(key - (pos ? k.pos_c : k.neg_c)) * (pos ? k.pos_K : k.neg_K);
      else
        f = exp_sample_factor(key, pos ? k.N : k.P, k.log_scale);
      const double dx = m * in.own_w(i, pos) * f;
      gx[i] = static_cast<T>((pos ? -dx : dx) * gs);
      if constexpr (In::weighted) {  // ga, gb are given with the weights
        const double grad_w = f * gs - (pos ? k.g.pos_shift : k.g.neg_shift);
        ga[i] = static_cast<T>(pos ? grad_w : 0.0);
        gb[i] = static_cast<T>(pos ? 0.0 : grad_w);
      }
    }
  });
}

// exp pass 2 after a storing pass 1: gx holds -e^{k - c_chunk} (positives) or e^{k - c_chunk}; the
// gradient is that times the chunk's constant of the sample's side, picked by the sign bit (g_pos,
// g_neg: margin, scale and e^{c_chunk + log O} together). Reads and writes gx only.
TAUC_LOOP void exp_scale_stored(double g_pos, double g_neg, int64_t lo, int64_t hi, float* gx) {
#pragma omp simd
  for (int64_t i = lo; i < hi; ++i) {
    const float v = gx[i];
    const bool pos = __builtin_bit_cast(int32_t, v) < 0;  // the sign bit, -0 included
    gx[i] = static_cast<float>(static_cast<double>(v) * (pos ? g_pos : g_neg));
  }
}

// float scores: the hot loops compiled for AVX-512, AVX2 and the baseline, picked at load time
// (non-template wrappers: target_clones does not apply to templates); other dtypes use the templates.
#define TAUC_CLONES __attribute__((target_clones("avx512f", "avx2", "default")))
#define TAUC_FLOAT_LOOPS(L, W)                                                                                       \
  TAUC_CLONES ChunkStats square_chunk_f32(const Inputs<float, L, W>& in, int64_t lo, int64_t hi) {                   \
    return square_chunk(in, lo, hi);                                                                                 \
  }                                                                                                                  \
  TAUC_CLONES ChunkStats exp_chunk_f32(const Inputs<float, L, W>& in, int64_t lo, int64_t hi) {                      \
    return exp_chunk(in, lo, hi);                                                                                    \
  }                                                                                                                  \
  TAUC_CLONES void square_grads_f32(const Inputs<float, L, W>& in, const SquareGrad& k, int64_t lo, int64_t hi,      \
                                    float* gx, float* ga, float* gb) {                                               \
    square_grads(in, k, lo, hi, gx, ga, gb);                                                                         \
  }                                                                                                                  \
  TAUC_CLONES void exp_grads_f32(const Inputs<float, L, W>& in, const ExpGrad& k, int64_t lo, int64_t hi, float* gx, \
                                 float* ga, float* gb) {                                                             \
    exp_grads<true>(in, k, lo, hi, gx, ga, gb);                                                                      \
  }
// the unweighted exp loss with a gradient: pass 1 stores the factors, pass 2 scales them
TAUC_CLONES void exp_scale_stored_f32(double g_pos, double g_neg, int64_t lo, int64_t hi, float* gx) {
  exp_scale_stored(g_pos, g_neg, lo, hi, gx);
}
#define TAUC_FLOAT_STORE_LOOPS(L)                                                                                    \
  TAUC_CLONES ChunkStats exp_chunk_store_f32(const Inputs<float, L, false>& in, int64_t lo, int64_t hi, float* gx) { \
    return exp_chunk<Inputs<float, L, false>, true>(in, lo, hi, gx);                                                 \
  }
TAUC_FLOAT_STORE_LOOPS(bool)
TAUC_FLOAT_STORE_LOOPS(int8_t)
TAUC_FLOAT_STORE_LOOPS(int64_t)
TAUC_FLOAT_STORE_LOOPS(float)
#undef TAUC_FLOAT_STORE_LOOPS
TAUC_FLOAT_LOOPS(bool, false)
TAUC_FLOAT_LOOPS(bool, true)
TAUC_FLOAT_LOOPS(int8_t, false)
TAUC_FLOAT_LOOPS(int8_t, true)
TAUC_FLOAT_LOOPS(int64_t, false)
TAUC_FLOAT_LOOPS(int64_t, true)
TAUC_FLOAT_LOOPS(float, false)
TAUC_FLOAT_LOOPS(float, true)
#undef TAUC_FLOAT_LOOPS
#undef TAUC_CLONES
#undef TAUC_BODY
#undef TAUC_LOOP

template <typename In>
constexpr bool kFloat = std::is_same_v<typename In::Scalar, float>;

template <typename In>
ChunkStats square_chunk_best(const In& in, int64_t lo, int64_t hi) {
  if constexpr (kFloat<In>)
    return square_chunk_f32(in, lo, hi);
  else
    return square_chunk(in, lo, hi);
}
// Whether the exp loss's pass 1 stores its factors in the gradient buffer `gx` (see exp_chunk).
template <typename In>
constexpr bool kExpStores = kFloat<In> && !In::weighted;

template <typename In>
ChunkStats exp_chunk_best(const In& in, int64_t lo, int64_t hi, typename In::Scalar* gx) {
  if constexpr (kExpStores<In>) {
    if (gx) return exp_chunk_store_f32(in, lo, hi, gx);
  }
  if constexpr (kFloat<In>)
    return exp_chunk_f32(in, lo, hi);
  else
    return exp_chunk(in, lo, hi);
}

// Below this many samples a pass runs on the calling thread: a parallel region costs more than the
// work there, and a descheduled worker (another process on the core) would stall the whole call.
constexpr int64_t kSerialBelow = 2 * kChunk;

// Runs chunk(c, lo, hi) for every fixed chunk c = [lo, hi) (in parallel above kSerialBelow).
template <typename F>
void for_each_chunk(int64_t n, const F& chunk) {
  at::parallel_for(0, (n + kChunk - 1) / kChunk, kSerialBelow / kChunk, [&](int64_t cb, int64_t ce) {
    for (int64_t c = cb; c < ce; ++c) chunk(c, c * kChunk, std::min(n, (c + 1) * kChunk));
  });
}
// Runs chunk(lo, hi) over the fixed chunks and returns their statistics in order.
template <typename F>
std::vector<ChunkStats> per_chunk(int64_t n, const F& chunk) {
  std::vector<ChunkStats> out((n + kChunk - 1) / kChunk);
  for_each_chunk(n, [&](int64_t c, int64_t lo, int64_t hi) { out[c] = chunk(lo, hi); });
  return out;
}
// Runs range(lo, hi) over [0, n) (in parallel above kSerialBelow).
template <typename F>
void per_range(int64_t n, const F& range) {
  at::parallel_for(0, n, kSerialBelow, [&](int64_t lo, int64_t hi) { range(lo, hi); });
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

// NaN scores: every score's gradient and each sample's own weight gradient is NaN (the other
// side's weight gradient stays 0), as the other surrogates do.
template <typename In, typename T = typename In::Scalar>
void nan_grads(const In& in, int64_t n, T* gx, T* ga, T* gb) {
  const double nan = std::numeric_limits<double>::quiet_NaN();
  per_range(n, [&](int64_t lo, int64_t hi) {
    for (int64_t i = lo; i < hi; ++i) {
      const bool pos = in.label(i);
      gx[i] = static_cast<T>(nan);
      if (ga) {
        ga[i] = static_cast<T>(pos ? nan : 0.0);
        gb[i] = static_cast<T>(pos ? 0.0 : nan);
      }
    }
  });
}

struct Result {
  GradScale g;
  bool bad_label;
};

template <typename T, typename L, bool kWeighted>
Result run(Surrogate sur, Reduction red, double scale, const Inputs<T, L, kWeighted>& in, int64_t n, T* gx, T* ga,
           T* gb) {
  using In = Inputs<T, L, kWeighted>;
  const std::vector<ChunkStats> parts = per_chunk(n, [&](int64_t lo, int64_t hi) {
    return sur == Surrogate::Square ? square_chunk_best(in, lo, hi) : exp_chunk_best(in, lo, hi, gx);
  });
  bool nan = false, bad = false;
  for (const ChunkStats& p : parts) {
    nan |= p.nan;
    bad |= p.bad_label;
  }
  if (bad) return {GradScale{}, true};
  if (sur == Surrogate::Square) {
    const SideMoments P = combine_square(parts, &ChunkStats::pos), N = combine_square(parts, &ChunkStats::neg);
    const GradScale g = finish_reduction(red, square_total(P, N), P.w0, N.w0, false, 0.0, nan, scale);
    if (gx && nan) nan_grads(in, n, gx, ga, gb);
    if (gx && !nan && g.grad_scale != 0.0) {
      const SquareGrad k{P, N, g};
      per_range(n, [&](int64_t lo, int64_t hi) {
        if constexpr (kFloat<In>)
          square_grads_f32(in, k, lo, hi, gx, ga, gb);
        else
          square_grads(in, k, lo, hi, gx, ga, gb);
      });
    }
    return {g, false};
  }
  const ExpTotals tp = combine_exp(parts, &ChunkStats::pos), tn = combine_exp(parts, &ChunkStats::neg);
  const double W = tp.w0 * tn.w0;
  if (nan || !(W != 0.0)) {
    const GradScale g = finish_reduction(red, 0.0, tp.w0, tn.w0, false, 0.0, nan, scale);
    if (gx && nan) nan_grads(in, n, gx, ga, gb);
    return {g, false};
  }
  const ExpSide P{tp.c, std::log(tp.sum)}, N{tn.c, std::log(tn.sum)};
  const double log_scale = red == Reduction::Mean ? -std::log(W) : 0.0;  // folded into each exponent
  const double S = std::exp(P.c + P.log_sum + N.c + N.log_sum);
  const double loss = std::exp(P.c + P.log_sum + N.c + N.log_sum + log_scale);
  const GradScale g = finish_reduction(red, S, tp.w0, tn.w0, true, loss, false, scale);
  if (gx) {
    const ExpGrad k{P,
                    N,
                    log_scale,
                    P.c,
                    N.c,
                    std::exp(P.c + N.c + N.log_sum + log_scale),
                    std::exp(N.c + P.c + P.log_sum + log_scale),
                    g};
    // the fast form needs finite side constants (an overflowing one: the exact per-sample exp)
    const bool fast = std::isfinite(k.pos_K) && std::isfinite(k.neg_K);
    if constexpr (kExpStores<In>) {
      // pass 1 stored e^{k - c_chunk}; each chunk's constants are the factor of a key at its max
      // (finite: c_chunk <= c, so they are at most the side constants; 0 for a side absent there)
      if (fast) {
        const double m_scale = in.m * g.grad_scale;  // the stored sign carries d key / d score's
        for_each_chunk(n, [&](int64_t c, int64_t lo, int64_t hi) {
          const double g_pos = m_scale * exp_sample_factor(parts[c].pos.c, N, log_scale);
          const double g_neg = m_scale * exp_sample_factor(parts[c].neg.c, P, log_scale);
          exp_scale_stored_f32(g_pos, g_neg, lo, hi, gx);
        });
        return {g, false};
      }
    }
    per_range(n, [&](int64_t lo, int64_t hi) {
      if constexpr (kFloat<In>) {
        if (fast) return exp_grads_f32(in, k, lo, hi, gx, ga, gb);
      }
      if constexpr (!std::is_same_v<T, double>) {
        if (fast) return exp_grads<true>(in, k, lo, hi, gx, ga, gb);
      }
      exp_grads<false>(in, k, lo, hi, gx, ga, gb);
    });
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
  const auto& [sur, red, scale, scores_arg, labels_arg, pos_arg, neg_arg] = args;
  // Weights of another dtype than the scores: all three in the promoted dtype (a lossless widening).
  at::ScalarType t = scores_arg.scalar_type();
  for (const auto& w : {pos_arg, neg_arg})
    if (w) t = at::promote_types(t, w->scalar_type());
  const at::Tensor scores = t == scores_arg.scalar_type() ? scores_arg : scores_arg.to(t);
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

  // At small n the fixed cost of the call is its tensor operations (each ~1 us): the score gradient
  // is allocated in its output shape when no conversion follows, and no output is made twice.
  const bool gx_is_output = t == scores_arg.scalar_type();
  at::Tensor gx, ga, gb;
  if (compute_grad) {
    gx = gx_is_output ? at::empty(scores_in.sizes(), scores.options()) : at::empty({n}, scores.options());
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
      const auto* y = reinterpret_cast<const LabelStorage<L>*>(labels.const_data_ptr<L>());
      if (weighted) {
        const Inputs<T, L, true> in{scores.const_data_ptr<T>(), y, ptr_or_null<T>(pos_w), ptr_or_null<T>(neg_w),
                                    margin};
        r = run(sur, red, scale, in, n, pgx, pga, pgb);
      } else {
        const Inputs<T, L, false> in{scores.const_data_ptr<T>(), y, nullptr, nullptr, margin};
        r = run(sur, red, scale, in, n, pgx, pga, pgb);
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
  const auto out_opts = scores_arg.options();
  at::Tensor loss = at::empty({}, out_opts);
  if (out_opts.dtype() == at::kFloat)  // the rounding of the float64 -> float32 copy below, without its three ops
    *loss.data_ptr<float>() = static_cast<float>(g.loss);
  else if (out_opts.dtype() == at::kDouble)
    *loss.data_ptr<double>() = g.loss;
  else
    loss.copy_(at::scalar_tensor(g.loss, out_opts.dtype(at::kDouble)));
  auto no_grad = [&] { return at::empty({0}, out_opts); };
  if (!compute_grad) return {loss, no_grad(), no_grad(), no_grad()};
  if (g.grad_scale == 0.0) {  // no pairs: zero gradient (not written by the passes)
    gx.zero_();
    if (weighted) {
      ga.zero_();
      gb.zero_();
    }
  }
  at::Tensor g_s = gx_is_output ? gx : gx.to(scores_arg.scalar_type()).view(scores_in.sizes());
  at::Tensor g_a = pos_w_in ? ga.to(pos_w_in->scalar_type()).view(pos_w_in->sizes()) : no_grad();
  at::Tensor g_b = neg_w_in ? gb.to(neg_w_in->scalar_type()).view(neg_w_in->sizes()) : no_grad();
  return {loss, g_s, g_a, g_b};
}

}  // namespace torchauc::pairwise
