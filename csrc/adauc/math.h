// The math of the AdAUC family, written once for CPU and CUDA.
//
// Loss (Ying et al. 2016 instance-wise saddle form of the square pairwise AUC loss), over n samples
// with prior p, scalars a, b (minimised) and alpha (maximised), margin m:
//   F = (1-p)/n sum_P (s-a)^2 + p/n sum_N (s-b)^2 + 2(m+alpha)/n (p sum_N s - (1-p) sum_P s) - c alpha^2
// with c = p(1-p) (canonical) or c = p (XCurve's AdvAUROCLoss). One pass collects seven sums; the
// per-sample gradient is then affine in s.
//
// PGD step: the projected ascent step of one sample's perturbation (linf: sign step and box; l2:
// normalised step and renorm onto the ball, as XCurve's PGDAdversary), then the input-range clamp.
#pragma once
#include <cmath>

#include "core/macros.h"

namespace torchauc::adauc {

enum class Form : int { Canonical = 0, XCurve = 1 };
enum class Norm : int { Linf = 0, L2 = 1 };

// sums[0..6] = (sum_P (s-a)^2, sum_P (s-a), sum_P s, sum_N (s-b)^2, sum_N (s-b), sum_N s, n_pos)
constexpr int kSums = 7;

TAUC_HD void adauc_add(double s, bool positive, double a, double b, double* acc) {
  if (positive) {
    const double d = s - a;
    acc[0] += d * d;
    acc[1] += d;
    acc[2] += s;
    acc[6] += 1.0;
  } else {
    const double d = s - b;
    acc[3] += d * d;
    acc[4] += d;
    acc[5] += s;
  }
}

// The loss, the scalar gradients, and the coefficients of the per-sample gradient
// dF/ds = kp (s - a) - cp at positives, kn (s - b) + cn at negatives.
struct AdaucScalars {
  double loss, grad_a, grad_b, grad_alpha;
  double kp, cp, kn, cn, a, b;
};

// imratio < 0 means: the batch's positive rate.
TAUC_HD AdaucScalars adauc_finish(const double* sums, double n, double imratio, double a, double b, double alpha,
                                  double margin, Form form) {
  const double p = imratio < 0.0 ? sums[6] / n : imratio, q = 1.0 - p;
  const double c = form == Form::Canonical ? p * q : p;
  const double lin = p * sums[5] - q * sums[2];  // p sum_N s - (1-p) sum_P s
  AdaucScalars r;
  r.loss = (q * sums[0] + p * sums[3] + 2.0 * (margin + alpha) * lin) / n - c * alpha * alpha;
  r.grad_a = -2.0 * q * sums[1] / n;
  r.grad_b = -2.0 * p * sums[4] / n;
  r.grad_alpha = 2.0 * lin / n - 2.0 * c * alpha;
  r.kp = 2.0 * q / n;
  r.cp = 2.0 * (margin + alpha) * q / n;
  r.kn = 2.0 * p / n;
  r.cn = 2.0 * (margin + alpha) * p / n;
  r.a = a;
  r.b = b;
  return r;
}

TAUC_HD double adauc_grad_score(const AdaucScalars& c, double s, bool positive) {
  return positive ? c.kp * (s - c.a) - c.cp : c.kn * (s - c.b) + c.cn;
}

// sign with torch.sign's conventions: sign(0) = 0, NaN stays NaN.
template <typename T>
TAUC_HD T sign_of(T g) {
  return g > T(0) ? T(1) : (g < T(0) ? T(-1) : g);
}

// Clamp so that x + d stays in [lower, upper] (d in [lower - x, upper - x], computed in T like the
// plain PyTorch loop).
template <typename T>
TAUC_HD T range_clamp(T d, T x, T lower, T upper) {
  const T lo = lower - x, hi = upper - x;
  return d < lo ? lo : (d > hi ? hi : d);
}

// linf: clamp(d + step sign(g), -eps, eps), then the range clamp.
template <typename T>
TAUC_HD T linf_step(T d, T g, T x, T eps, T step, T lower, T upper) {
  T v = d + step * sign_of(g);
  v = v < -eps ? -eps : (v > eps ? eps : v);
  return range_clamp(v, x, lower, upper);
}

// l2, given denom = ||g|| + 1e-10 of the sample's gradient: the unprojected step d + g / denom * step.
template <typename T>
TAUC_HD T l2_raw_step(T d, T g, T denom, T step) {
  return d + g / denom * step;
}
TAUC_HD double l2_denom(double sum_sq) { return sqrt(sum_sq) + 1e-10; }
// torch.renorm's factor for the stepped perturbation with squared norm sum_sq.
TAUC_HD double l2_renorm_factor(double sum_sq, double eps) {
  const double norm = sqrt(sum_sq);
  return norm > eps ? eps / (norm + 1e-7) : 1.0;
}

}  // namespace torchauc::adauc
