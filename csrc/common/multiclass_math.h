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
// Square, linear and exp reduce to per-(label j, column i) tables over the samples of label j:
//   T1[j,i] = sum s_{k,i},  T2[j,i] = sum s_{k,i}^2           (square, linear)
//   log sum e^{key}, key = -m s on the diagonal (j = i), +m s off it, kept as (max M, sum E of e^{key-M})
// The column epilogues below turn them into the loss and per-(j,i) gradient coefficients (A, B):
//   square, linear: dL/ds_{k,i} = A[y_k,i] s_{k,i} + B[y_k,i]
//   exp:            dL/ds_{k,i} = A[y_k,i] exp(key_{k,i} + B[y_k,i])
// Tables are row-major [label j][column i] (index j * C + i).
#pragma once
#include <math.h>
#include <stdint.h>
#include "common/fast_math.h"
#include "common/macros.h"

namespace torchauc {

enum class McSurrogate : int { Square = 0, Exp = 1, Hinge = 2, Linear = 3 };
enum class McMode : int { Ovo = 0, Ova = 1 };
enum class McNorm : int { Present = 0, XCurve = 1 };
enum class McActivation : int { None = 0, Sigmoid = 1 };

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
TAUC_HD double mc_scale(McMode mode, McNorm norm, int64_t C, double Cb) {
  double F;
  if (norm == McNorm::Present) {
    F = mode == McMode::Ovo ? Cb * (Cb - 1.0) : (Cb >= 2.0 ? Cb : 0.0);
  } else {
    F = mode == McMode::Ovo ? static_cast<double>(C) * static_cast<double>(C - 1) : 1.0;
  }
  return F > 0.0 ? 1.0 / F : 0.0;
}

// Weight of one negative of label j (j != i) for class i; 0 when either class is absent.
TAUC_HD double mc_pair_weight(McMode mode, double Ni, double Nj, double Ntot) {
  if (!(Ni > 0.0) || !(Nj > 0.0)) return 0.0;
  return mode == McMode::Ovo ? 1.0 / (Ni * Nj) : 1.0 / (Ni * (Ntot - Ni));
}

// Total negative weight W_i = sum_{j != i} w_ij N_j (0 when class i is inactive).
TAUC_HD double mc_negative_total(McMode mode, int64_t C, int64_t i, const double* N, double Ntot) {
  double W = 0.0;
  for (int64_t j = 0; j < C; ++j) {
    if (j != i) W += mc_pair_weight(mode, N[i], N[j], Ntot) * N[j];
  }
  return W;
}

// ---- square and linear: column i of the epilogue. Writes A, B at (j, i) for every j and returns
// scale * L_i. With u_p = m - x_p (positives) and z_q (negatives):
//   L_i = 1/2 (W sum u^2 + 2 sum u * sum w z + N_i sum w z^2)      (square)
//   L_i = W sum u + N_i sum w z                                     (linear)
// Cell (j, i) of T1, T2, A, B is at j * sj + i * si: (sj, si) = (C, 1) is row-major (the CUDA
// kernel, one thread per column, reads coalesced), (1, C) the transposed layout the CPU uses so that
// a column is contiguous.
TAUC_HD double mc_moment_column(McSurrogate sur, McMode mode, int64_t C, int64_t i, const double* N,
                                double Ntot, const double* T1, const double* T2, double m, double scale,
                                double* A, double* B, int64_t sj, int64_t si) {
  const double Ni = N[i];
  double W = 0.0, Z1 = 0.0, Z2 = 0.0;
  for (int64_t j = 0; j < C; ++j) {
    const double w = j == i ? 0.0 : mc_pair_weight(mode, Ni, N[j], Ntot);
    if (w != 0.0) {
      W += w * N[j];
      Z1 += w * T1[j * sj + i * si];
      Z2 += w * T2[j * sj + i * si];
    }
  }
  const bool active = scale != 0.0 && Ni > 0.0 && W > 0.0;
  const double x1 = T1[i * sj + i * si], x2 = T2[i * sj + i * si];
  const double P1 = m * Ni - x1;                    // sum u
  const double P2 = m * m * Ni - 2.0 * m * x1 + x2;  // sum u^2
  const bool sq = sur == McSurrogate::Square;
  for (int64_t j = 0; j < C; ++j) {
    double a = 0.0, b = 0.0;
    if (active) {
      if (j == i) {
        a = sq ? W * scale : 0.0;
        b = sq ? -(W * m + Z1) * scale : -W * scale;
      } else {
        const double w = mc_pair_weight(mode, Ni, N[j], Ntot);
        a = sq ? w * Ni * scale : 0.0;
        b = sq ? w * P1 * scale : w * Ni * scale;
      }
    }
    A[j * sj + i * si] = a;
    B[j * sj + i * si] = b;
  }
  if (!active) return 0.0;
  const double L = sq ? 0.5 * (W * P2 + 2.0 * P1 * Z1 + Ni * Z2) : W * P1 + Ni * Z1;
  return L * scale;
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

// Column i of the exp epilogue: L_i = (sum_P e^{-m x}) (sum_Q w e^{m z}), evaluated in logs.
// Cell layout as in mc_moment_column.
TAUC_HD double mc_exp_column(McMode mode, int64_t C, int64_t i, const double* N, double Ntot,
                             const LseCell* T, double m, double scale, double* A, double* B, int64_t sj,
                             int64_t si) {
  const double Ni = N[i];
  const double W = mc_negative_total(mode, C, i, N, Ntot);
  const bool active = scale != 0.0 && Ni > 0.0 && W > 0.0;
  double log_pos = -INFINITY, log_neg = -INFINITY;
  if (active) {
    log_pos = lse_log(T[i * sj + i * si]);
    LseCell neg = lse_empty();
    for (int64_t j = 0; j < C; ++j) {
      const double w = j == i ? 0.0 : mc_pair_weight(mode, Ni, N[j], Ntot);
      if (w != 0.0) lse_merge(neg, LseCell{lse_log(T[j * sj + i * si]) + log(w), 1.0});
    }
    log_neg = lse_log(neg);
  }
  const double log_scale = active ? log(scale) : 0.0;
  for (int64_t j = 0; j < C; ++j) {
    double a = 0.0, b = -INFINITY;
    if (active) {
      if (j == i) {
        a = -m;
        b = log_neg + log_scale;
      } else {
        const double w = mc_pair_weight(mode, Ni, N[j], Ntot);
        if (w != 0.0) {
          a = m;
          b = log(w) + log_pos + log_scale;
        }
      }
    }
    A[j * sj + i * si] = a;
    B[j * sj + i * si] = b;
  }
  return active ? exp(log_pos + log_neg + log_scale) : 0.0;
}

// exp key of score s at (label j, column i).
TAUC_HD double mc_exp_key(double s, bool diagonal, double m) { return diagonal ? -m * s : m * s; }

// ---- elementwise gradient of one score, given its cell's coefficients.
TAUC_HD double mc_grad_moment(double s, double a, double b) { return a * s + b; }
TAUC_HD double mc_grad_exp(double key, double a, double b) { return a == 0.0 ? 0.0 : a * exp(key + b); }

// ---- activation: v = act(x) and dv/dx. The sigmoid uses e = exp(-|x|): v = 1/(1+e) or e/(1+e),
// dv/dx = e/(1+e)^2 (no 1 - v cancellation).
template <typename T>
TAUC_HD void mc_activate(McActivation act, T x, T* v, T* dv) {
  if (act == McActivation::None) {
    *v = x;
    *dv = T(1);
    return;
  }
  const T e = exp_nonpos(x < T(0) ? x : -x);
  const T inv = T(1) / (T(1) + e);
  *v = x >= T(0) ? inv : e * inv;
  *dv = e * inv * inv;
}

}  // namespace torchauc
