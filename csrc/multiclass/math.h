// The math of the multiclass (and pixel-level) AUC loss, written once for CPU and CUDA.
//
// Samples k have a label y_k in [0, C) (ignored samples are dropped before) and a score row s_{k,.}.
// Class i's positives P_i are the samples of label i; its negatives are the other samples, a sample of
// label j weighted by w_ij:
//   ovo: w_ij = 1 / (N_i N_j)            ova: w_ij = 1 / (N_i (N - N_i))
// and the loss is
//   L = scale * sum_i sum_{p in P_i} sum_{q not in P_i} w_{i y_q} l(s_{p,i} - s_{q,i}),
//   l(t) = 1/2 (m - t)^2 (square, the 1/2 of XCurve/AUCSeg), exp(-m t) (exp), max(0, m - t) (hinge),
//          m - t (linear: XCurve's "hinge", with its missing N_i factor restored).
// A class is "active" when it has positives and negatives; inactive classes add nothing.
// scale = 1 / F with F (C_b = number of classes present, C = number of columns):
//   normalization "present": ovo C_b (C_b - 1) (AUCSeg), ova C_b (a mean over classes);
//   normalization "xcurve":  ovo C (C - 1),  ova 1 (a sum over classes; XCurve and AUCSeg's ova).
// F = 0 (fewer than two classes present) gives loss 0 with zero gradient.
//
// The weights factorise: for j != i (both present) w_ij = rho_j * kappa_i with
//   ovo: rho_j = 1/N_j, kappa_i = 1/N_i          ova: rho_j = 1, kappa_i = 1/(N_i (N - N_i)),
// so every sample carries one weight rho_k = rho_{y_k} (0 when ignored) and class i needs only O(1)
// statistics of column i, with no C x C table (u over the negatives, d over the positives):
//   square, linear: u1 = sum_{y_k != i} rho_k s_{k,i},  u2 = sum rho_k s_{k,i}^2,
//                   d1 = sum_{y_k == i} s_{k,i},        d2 = sum s_{k,i}^2
//   exp:            log-sum-exps, as (max M, sum E of e^{key-M}), of the keys -m s (positives) and
//                   m s + log rho_k (negatives)
// The column epilogues below turn them into the loss and four gradient coefficients of the column:
//   square, linear: dL/ds_{k,i} = ad s + bd (y_k = i),   rho_k (ao s + bo) (y_k != i)
//   exp:            dL/ds_{k,i} = ad exp(-m s + bd),     ao exp(m s + log rho_k + bo)
// (an inactive column has all coefficients 0).
#pragma once
#include <math.h>
#include <stdint.h>

#include "core/fast_math.h"
#include "core/macros.h"

namespace torchauc::multiclass {

enum class Surrogate : int { Square = 0, Exp = 1, Hinge = 2, Linear = 3 };
enum class Mode : int { Ovo = 0, Ova = 1 };
enum class Norm : int { Present = 0, XCurve = 1 };
enum class Activation : int { None = 0, Sigmoid = 1 };

// Number of present classes and of (non-ignored) samples, from the class counts.
TAUC_HD void mc_class_totals(int64_t C, const double* N, double* Cb, double* Ntot) {
  double cb = 0.0, nt = 0.0;
  for (int64_t j = 0; j < C; ++j) {
    cb += N[j] > 0.0 ? 1.0 : 0.0;
    nt += N[j];
  }
  *Cb = cb;
  *Ntot = nt;
}

// 1 / F (0 when there is nothing to average).
TAUC_HD double mc_scale(Mode mode, Norm norm, int64_t C, double Cb) {
  double F;
  if (norm == Norm::Present) {
    F = mode == Mode::Ovo ? Cb * (Cb - 1.0) : (Cb >= 2.0 ? Cb : 0.0);
  } else {
    F = mode == Mode::Ovo ? static_cast<double>(C) * static_cast<double>(C - 1) : 1.0;
  }
  return F > 0.0 ? 1.0 / F : 0.0;
}

// rho_j of a sample of label j (present classes only).
TAUC_HD double mc_sample_weight(Mode mode, double Nj) { return mode == Mode::Ovo ? 1.0 / Nj : 1.0; }

// kappa_i and the total negative weight W_i = sum_{j != i} w_ij N_j of column i; active when the
// column adds a term (scale != 0, positives and negatives present).
struct Column {
  double kappa, W;
  bool active;
};
TAUC_HD Column mc_column(Mode mode, double Ni, double Ntot, double Cb, double scale) {
  Column col{0.0, 0.0, false};
  if (!(Ni > 0.0)) return col;
  if (mode == Mode::Ovo) {
    col.kappa = 1.0 / Ni;
    col.W = (Cb - 1.0) / Ni;  // each other present class j weighs (1/(N_i N_j)) N_j
  } else if (Ntot > Ni) {
    col.kappa = 1.0 / (Ni * (Ntot - Ni));
    col.W = 1.0 / Ni;
  }
  col.active = scale != 0.0 && col.W > 0.0;
  return col;
}

// Gradient coefficients of one column (see the header comment).
struct Coef {
  double ad, bd, ao, bo;
};

// ---- square and linear: column i. With u_p = m - x_p (positives) and z_q (negatives of weight w):
//   L_i = 1/2 (W sum u^2 + 2 sum u * sum w z + N_i sum w z^2)      (square)
//   L_i = W sum u + N_i sum w z                                     (linear)
// where sum w z = kappa u1 and sum w z^2 = kappa u2. Returns scale * L_i.
TAUC_HD double mc_moment_column(Surrogate sur, const Column& col, double Ni, double u1, double u2, double d1, double d2,
                                double m, double scale, Coef* cf) {
  *cf = Coef{0.0, 0.0, 0.0, 0.0};
  if (!col.active) return 0.0;
  const double W = col.W, k = col.kappa;
  const double Z1 = k * u1, Z2 = k * u2;
  const double P1 = m * Ni - d1;                     // sum u
  const double P2 = m * m * Ni - 2.0 * m * d1 + d2;  // sum u^2
  if (sur == Surrogate::Square) {
    *cf = Coef{W * scale, -(W * m + Z1) * scale, Ni * k * scale, P1 * k * scale};
    return 0.5 * (W * P2 + 2.0 * P1 * Z1 + Ni * Z2) * scale;
  }
  *cf = Coef{0.0, -W * scale, 0.0, Ni * k * scale};
  return (W * P1 + Ni * Z1) * scale;
}

// ---- exp: a cell (max M, shifted sum E) of log-sum-exp; an empty cell is (-inf, 0).
struct LseCell {
  double M, E;
};
TAUC_HD LseCell lse_empty() { return LseCell{-INFINITY, 0.0}; }
// Adds one key (online; one exp per key). NaN keys make E NaN.
TAUC_HD void lse_add(LseCell& c, double k) {
  if (k > c.M) {
    c.E = c.E * exp(c.M - k) + 1.0;
    c.M = k;
  } else {
    c.E += exp(k - c.M);
  }
}
TAUC_HD void lse_merge(LseCell& c, const LseCell& o) {
  if (!(o.E != 0.0)) {
    if (o.E != o.E) c.E = o.E;  // NaN
    return;
  }
  if (o.M > c.M) {
    c.E = c.E * exp(c.M - o.M) + o.E;
    c.M = o.M;
  } else {
    c.E += o.E * exp(o.M - c.M);
  }
}
TAUC_HD double lse_log(const LseCell& c) { return c.M + log(c.E); }

// Column i of the exp epilogue: L_i = (sum_P e^{-m x}) (kappa sum_Q rho e^{m z}), evaluated in logs
// from the positive and negative cells. Returns scale * L_i.
TAUC_HD double mc_exp_column(const Column& col, const LseCell& pos, const LseCell& neg, double m, double scale,
                             Coef* cf) {
  *cf = Coef{0.0, -INFINITY, 0.0, -INFINITY};
  if (!col.active) return 0.0;
  const double log_pos = lse_log(pos), log_neg = lse_log(neg) + log(col.kappa), log_scale = log(scale);
  *cf = Coef{-m, log_neg + log_scale, m, log(col.kappa) + log_pos + log_scale};
  return exp(log_pos + log_neg + log_scale);
}

// The same coefficients in the shifted form of the float32 kernels (cpu_fused.h):
//   dL/ds_{k,i} = ad exp(-m s - bd) (y_k = i),   rho_k ao exp(m s - bo) (y_k != i),
// the shifts bd, bo the positive and negative cells' maxima (M >= every key, cells with the weight
// outside the key) rounded to float, so the kernels form the exponent exactly in double and it is
// <= 0 up to that rounding; ad, ao are the largest gradient terms (all 0 for an inactive column).
TAUC_HD Coef mc_exp_coef_shifted(const Coef& cf, double Mp, double Mn) {
  if (cf.ad == 0.0) return Coef{0.0, 0.0, 0.0, 0.0};
  const double bd = static_cast<float>(Mp), bo = static_cast<float>(Mn);
  return Coef{cf.ad * exp(cf.bd + bd), bd, cf.ao * exp(cf.bo + bo), bo};
}

// ---- elementwise gradient of one score v of column c, from its sample's label y (>= 0) and
// weight r (rho for square/linear, log rho for exp).
TAUC_HD double mc_grad_moment(double v, bool diag, double r, const Coef& cf) {
  return diag ? cf.ad * v + cf.bd : r * (cf.ao * v + cf.bo);
}
TAUC_HD double mc_grad_exp(double v, bool diag, double lr, double m, const Coef& cf) {
  if (diag) return cf.ad == 0.0 ? 0.0 : cf.ad * exp(-m * v + cf.bd);
  return cf.ao == 0.0 ? 0.0 : cf.ao * exp(m * v + lr + cf.bo);
}

// ---- activation: v = act(x) and dv/dx. The sigmoid from core/fast_math.h's pieces e = exp(-|x|) and
// inv = 1/(1+e): v = inv or e inv, dv/dx = e inv^2 (no 1 - v cancellation).
template <typename T>
TAUC_HD void mc_activate(Activation act, T x, T* v, T* dv) {
  if (act == Activation::None) {
    *v = x;
    *dv = T(1);
    return;
  }
  const SigmoidParts<T> p = sigmoid_parts(x);
  *v = sigmoid_from_parts(x, p);
  *dv = p.e * p.inv * p.inv;
}

}  // namespace torchauc::multiclass
