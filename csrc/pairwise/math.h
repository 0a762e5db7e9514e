// The math of the binary pairwise AUC loss, written once for CPU and CUDA.
//
//   S = sum_{i in P} sum_{j in N} a_i b_j l(margin, x_i - z_j),   W = (sum_P a)(sum_N b)
//   loss = S / W ("mean") or S ("sum").
//
// Each surrogate reduces to per-side statistics; the kernels compute those statistics (moment sums,
// sorted suffix sums, tiled row/column sums) and these functions turn them into values and gradients.
// Conventions: dS_dx is d S / d score; dS_dw is d S / d (that sample's own weight).
#pragma once
#include "core/fast_math.h"
#include "core/macros.h"

namespace torchauc::pairwise {

enum class Surrogate : int { Square = 0, Exp = 1, Hinge = 2, SquaredHinge = 3, Logistic = 4, Sigmoid = 5 };
enum class Reduction : int { Mean = 0, Sum = 1 };

// ---- square: (m - x + z)^2 = (u + z)^2 with u = m - x; centred moments keep it exact for large |s|.
// Side moments: w0 = sum w, mean = sum w k / w0, c2 = sum w (k - mean)^2, where the key k is u for
// positives and z for negatives.
struct SideMoments {
  double w0, mean, c2;
};

TAUC_HD double square_total(const SideMoments& P, const SideMoments& N) {
  const double d = P.mean + N.mean;
  return N.w0 * P.c2 + P.w0 * N.c2 + P.w0 * N.w0 * d * d;
}
// For one sample with key k and weight w on a side whose opposite side has moments O:
// dS/dk = 2 w O.w0 (k + O.mean), dS/dw = O.w0 (k + O.mean)^2 + O.c2.
TAUC_HD void square_sample(double k, double w, const SideMoments& O, double* dS_dk, double* dS_dw) {
  const double d = k + O.mean;
  *dS_dk = 2.0 * w * O.w0 * d;
  *dS_dw = O.w0 * d * d + O.c2;
}

// ---- exp: exp(m (z - x)) = exp(p_i) exp(q_j), p = -m x, q = m z. Each side keeps its max key c and
// the shifted sum log_sum = log sum w exp(k - c) so nothing overflows before the final value.
struct ExpSide {
  double c, log_sum;  // log sum w e^k = c + log_sum
};
// For one sample with key k (p or q) and weight w against the opposite side O:
// dS/dk = w e^{k + log O}, dS/dw = e^{k + log O}; `log_scale` (-log W for mean) is folded in.
TAUC_HD double exp_sample_factor(double k, const ExpSide& O, double log_scale) {
  return exp(k + O.c + O.log_sum + log_scale);
}

// ---- hinge (power 1) and squared hinge (power 2): max(0, u + z)^p with u = m - x.
// Given the suffix moments (m0, m1, m2) = sum over the opposite-side samples with key > -k of
// (w, w k', w k'^2), the sample with key k gets:
//   value V(k) = sum w' (k + k')^p,   dV/dk = p * sum w' (k + k')^(p-1).
TAUC_HD void hinge_sample(int power, double k, double m0, double m1, double m2, double* value, double* dvalue_dk) {
  if (power == 1) {
    *value = k * m0 + m1;
    *dvalue_dk = m0;
  } else {
    *value = k * k * m0 + 2.0 * k * m1 + m2;
    *dvalue_dk = 2.0 * (k * m0 + m1);
  }
}

// ---- general surrogates on v = m (z - x) = p + q: value and d/dv, numerically stable for any v.
//   logistic: softplus(v) = log(1 + e^v);  sigmoid: 1 / (1 + e^{-v}).
// Templated on the surrogate so the tiled inner loops carry no branch on it.
template <Surrogate S, typename T>
TAUC_HD void tiled_surrogate(T v, T* value, T* dvalue_dv) {
  static_assert(S == Surrogate::Logistic || S == Surrogate::Sigmoid, "tiled surrogates only");
  if (S == Surrogate::Logistic) {
    softplus_sigmoid(v, value, dvalue_dv);
  } else {
    const SigmoidParts<T> p = sigmoid_parts(v);
    *value = sigmoid_from_parts(v, p);
    *dvalue_dv = p.e * p.inv * p.inv;
  }
}

// The same surrogates from v and both exponentials ep = e^v, em = e^{-v}, given finite and normal (the CPU's
// float tiles form them as products of per-sample factors, see pairwise/tile_kernel.h): no exp and no sign
// select per pair. logistic: max(v, 0) + log1p(min(ep, em)), derivative 1 / (1 + em); sigmoid: 1 / (1 + em),
// derivative (em / (1 + em)) / (1 + em) (in that order: em / (1 + em)^2 would underflow for em ~ e^80).
// The sigmoid's pair is little more than the reciprocal, so it takes reciprocal_ge1 off the divider.
template <Surrogate S, typename T>
TAUC_HD void tiled_surrogate_from_exps(T v, T ep, T em, T* value, T* dvalue_dv) {
  static_assert(S == Surrogate::Logistic || S == Surrogate::Sigmoid, "tiled surrogates only");
  const T sig = S == Surrogate::Logistic ? T(1) / (T(1) + em) : reciprocal_ge1(T(1) + em);  // sigmoid(v)
  if (S == Surrogate::Logistic) {
    *value = (v > T(0) ? v : T(0)) + log1p_unit(ep < em ? ep : em);
    *dvalue_dv = sig;
  } else {
    *value = sig;
    *dvalue_dv = (em * sig) * sig;
  }
}

// Turns (S, dS/d...) into the reduced loss and its gradients. For "mean", with A = sum_P a and
// B = sum_N b: loss = S / (A B), dloss/dx = dS/dx / (A B), dloss/da_i = (dS/da_i - loss B) / (A B),
// dloss/db_j = (dS/db_j - loss A) / (A B). An empty side or zero pair weight gives loss 0, grad 0;
// NaN scores give NaN everywhere. `prescaled` marks per-sample dS values that already carry the
// 1/(A B) factor (exp folds it into its exponent), with `prescaled_loss` the reduced loss. `scale`
// multiplies the loss and every gradient (the op's argument).
struct GradScale {
  double loss, grad_scale, pos_shift, neg_shift;
};
TAUC_HD GradScale finish_reduction(Reduction r, double S, double A, double B, bool prescaled, double prescaled_loss,
                                   bool has_nan, double scale) {
  if (has_nan) {
    const double nan = NAN;
    return GradScale{nan, nan, 0.0, 0.0};
  }
  const double W = A * B;
  if (!(W != 0.0)) return GradScale{0.0, 0.0, 0.0, 0.0};  // no pairs
  if (r == Reduction::Sum) return GradScale{(prescaled ? prescaled_loss : S) * scale, scale, 0.0, 0.0};
  const double loss = prescaled ? prescaled_loss : S / W;
  return GradScale{loss * scale, (prescaled ? 1.0 : 1.0 / W) * scale, loss * B / W * scale, loss * A / W * scale};
}

// Per-sample gradients: d loss / d score and d loss / d (own weight).
TAUC_HD void finish_sample(const GradScale& g, bool positive, double dS_dx, double dS_dw, double* grad_x,
                           double* grad_w) {
  *grad_x = dS_dx * g.grad_scale;
  *grad_w = dS_dw * g.grad_scale - (positive ? g.pos_shift : g.neg_shift);
}

}  // namespace torchauc::pairwise
