// Math of the fused AUTKC loss (autkc_loss_rows), shared by the CPU and CUDA kernels: one row's
// softmax, its m top competitors (math.h's selection), the surrogate terms and the row's gradient,
// so forward and backward cost a few passes over the row instead of a dozen (B, C) ATen ops.
//
// Row b with label y and scores s = softmax(x) (s = x for the hinge surrogate):
//   loss_b = (1/k) sum_{i<m} l(t_i),  t_i = s_y - s_[i]  (s_[i]: the i-th largest competitor)
//   d loss_b / d s_y = (1/k) sum_i l'(t_i),  d loss_b / d s_[i] = -(1/k) l'(t_i),  0 elsewhere
// and through the softmax d loss_b / d x_j = s_j (g_j - sum_l g_l s_l) (g: the sparse d loss / d s).
#pragma once
#include <cmath>
#include <cstdint>

#include "autkc/ce_math.h"
#include "autkc/math.h"
#include "autkc/row_passes.h"
#include "core/fast_math.h"
#include "core/macros.h"

namespace torchauc::autkc {

// The ops' surrogate names, in the order of options.AUTKC_SURROGATE, then "ce": the top-k cross entropy
// (ce_math.h; m = k - 1 excluded competitors instead of m terms).
enum class Surrogate : int { Square, Exp, Logistic, Hinge, CrossEntropy };

// l(t) and dl/dt: square (1 - t)^2, exp e^{-t}, logistic log(1 + e^{-t}), hinge (1 - t)_+ (as
// torch.clamp_min: NaN stays NaN with derivative 0, the kink at t = 1 takes derivative -1).
TAUC_HD double surrogate_term(Surrogate sur, double t, double* dl) {
  switch (sur) {
    case Surrogate::Square: *dl = -2.0 * (1.0 - t); return (1.0 - t) * (1.0 - t);
    case Surrogate::Exp: {
      const double e = exp(-t);
      *dl = -e;
      return e;
    }
    case Surrogate::Logistic: {  // softplus(-t) without overflow; d = -sigmoid(-t)
      const double e = exp(-fabs(t));
      *dl = t > 0 ? -e / (1.0 + e) : -1.0 / (1.0 + e);
      return (t > 0 ? 0.0 : -t) + log1p(e);
    }
    default: {
      const double u = 1.0 - t;
      *dl = u >= 0.0 ? -1.0 : 0.0;
      return u < 0.0 ? 0.0 : u;
    }
  }
}

// p = softmax of the row load(0..C-1) in Acc (float for float and 16-bit logits, as torch.softmax;
// double for double); false when the row holds a NaN or an infinite maximum, where torch.softmax
// gives NaN everywhere.
template <typename Acc, typename Load>
TAUC_HD bool softmax_row(const Load& load, int64_t C, Acc* p) {
  for (int64_t j = 0; j < C; ++j) p[j] = load(j);
  bool nan = false;
  const Acc m = row_max(p, C, static_cast<Acc>(-INFINITY), &nan);
  if (nan || m == INFINITY || m == -INFINITY) return false;
  const Acc total = exp_shift_sum(p, C, m);
  for (int64_t j = 0; j < C; ++j) p[j] /= total;
  return true;
}

// The loss terms of one row whose scores s_j (softmax or raw) are p[0, C): selects the m top
// competitors (cols/vals: m scratch entries; the NaN-free fast path when the row has no NaN), returns
// the row loss and fills g[0, m] with d loss / d s at the label (g[0]) and at cols[i] (g[i + 1]).
// Needs 0 <= m <= C - 1.
template <typename Acc>
TAUC_HD double row_terms(const Acc* p, int64_t C, int64_t y, int64_t m, int64_t k, Surrogate sur, bool has_nan,
                         double* vals, int64_t* cols, double* g) {
  row_topk_competitors(p, C, y, m, has_nan, vals, cols);
  const double sy = p[y];
  double loss = 0.0, gy = 0.0;
  for (int64_t i = 0; i < m; ++i) {
    double dl;
    loss += surrogate_term(sur, sy - static_cast<double>(p[cols[i]]), &dl);
    gy += dl;
    g[i + 1] = -dl / static_cast<double>(k);
  }
  g[0] = gy / static_cast<double>(k);
  return loss / static_cast<double>(k);
}

// sum_l g_l s_l over the label and the selected columns (the softmax backward's inner product).
template <typename Acc>
TAUC_HD double selected_dot(const Acc* p, int64_t y, int64_t m, const int64_t* cols, const double* g) {
  double dot = g[0] * static_cast<double>(p[y]);
  for (int64_t i = 0; i < m; ++i) dot += g[i + 1] * static_cast<double>(p[cols[i]]);
  return dot;
}

// A row's gradient value v times the reduction's factor (1 / B for the mean), in the accumulation type:
// for float rows the stores stay float vector code (a float64 product read ~8% slower a call, noisy).
// Two roundings (v to Acc, the product): within two ulps of the rows' gradient over B.
template <typename Acc>
TAUC_HD Acc reduced_grad(double v, Acc scale) {
  return static_cast<Acc>(v) * scale;
}

// One row of autkc_loss_rows: returns loss_b and, when `store` is given (grad wanted), writes
// d loss_b / d x_j through store(j, value). p: C scratch scores; vals, cols: m; g: m + 1.
template <typename Acc, typename Load, typename Store>
TAUC_HD double autkc_row(const Load& load, int64_t C, int64_t y, int64_t m, int64_t k, Surrogate sur, bool want_grad,
                         const Store& store, Acc* p, double* vals, int64_t* cols, double* g) {
  if (sur == Surrogate::CrossEntropy) return ce_topk_row(load, C, y, m, want_grad, store, p, vals, cols);
  const bool softmax = sur != Surrogate::Hinge;
  if (softmax && !softmax_row(load, C, p)) {
    if (want_grad)
      for (int64_t j = 0; j < C; ++j) store(j, NAN);
    return NAN;
  }
  const bool has_nan = !softmax && load_row(load, C, p);  // a softmax row here has none
  const double loss = row_terms(p, C, y, m, k, sur, has_nan, vals, cols, g);
  if (!want_grad) return loss;
  // softmax: s_j (g_j - dot) with g_j = 0 off the label and the selected columns; hinge: g itself
  const double dot = softmax ? selected_dot(p, y, m, cols, g) : 0.0;
  const Acc off = static_cast<Acc>(-dot);
  for (int64_t j = 0; j < C; ++j) store(j, softmax ? p[j] * off : Acc(0));
  const double sy = softmax ? static_cast<double>(p[y]) : 1.0;
  store(y, sy * (g[0] - dot));
  for (int64_t i = 0; i < m; ++i) store(cols[i], (softmax ? static_cast<double>(p[cols[i]]) : 1.0) * (g[i + 1] - dot));
  return loss;
}

}  // namespace torchauc::autkc
