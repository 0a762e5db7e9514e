// The math of the partial-AUC ops, written once for CPU and CUDA.
//
// Selection counts: core/kept_count.h.
//
// Exp row statistics of the LibAUC DRO/KL losses. For a positive with score x and a negative with
//    score z, d = margin - x + z and the pair surrogate is
//        squared_hinge: l = max(d, 0)^2, l' = 2 max(d, 0);   hinge: l = max(d, 0), l' = 1[d > 0].
//    l is nondecreasing in z, so the row maximum of l / lambda is reached at the largest negative:
//    c = l(margin - x + z_max) / lambda, and every exp(l / lambda - c) lies in (0, 1] (no overflow).
#pragma once
#include <math.h>

#include "core/kept_count.h"
#include "core/macros.h"

namespace torchauc::partial_auc {

enum class Surrogate : int { SquaredHinge = 0, Hinge = 1 };

// Pair surrogate value and derivative in d = margin - x + z.
template <Surrogate S, typename T>
TAUC_HD void pauc_surrogate(T d, T* l, T* dl) {
  const T h = d > T(0) ? d : T(0);
  if (S == Surrogate::SquaredHinge) {
    *l = h * h;
    *dl = T(2) * h;
  } else {
    *l = h;
    *dl = d > T(0) ? T(1) : T(0);
  }
}

// Row shift c = l(d_max) / lambda for the positive with key k = margin - x, given z_max.
template <typename T>
TAUC_HD T pauc_row_shift(Surrogate s, T k, T z_max, T inv_lambda) {
  const T d = k + z_max;
  const T h = d > T(0) ? d : T(0);
  return (s == Surrogate::SquaredHinge ? h * h : h) * inv_lambda;
}

// ---------------------------------------------------------------- UPAUCI
// The exactly unbiased instance-wise partial AUC (Shao et al., TPAMI 2026, Sec. 4.3.2). Score f,
// per-sample weight c in [0, 1], scalars p = (a, b, g, s, s', theta_a, theta_b):
//   P = (f - a)^2 - 2(1 + g) f (positives),   N = (f - b)^2 + 2(1 + g) f (negatives)
//   OPAUC: L = mean+[P] + s' + mean-[c (N - s')]/beta - g^2 - theta_b (b - 1 - g)
//              - omega (g^2 + mean-[c^2])
//   TPAUC: L = s + mean+[c (P - s)]/alpha + s' + mean-[c (N - s')]/beta - g^2 - theta_b (b - 1 - g)
//              + theta_a (a + g) - omega (g^2 + mean[c^2])
// (alpha = 1 - min_tpr, beta = max_fpr; an absent class's term, s or s' included, is 0). Every term is a class sum of
// per-sample values, so one pass collects the ten sums below and writes the per-sample gradients;
// the epilogue turns the sums into the loss and the seven scalar gradients.
enum UpauciParam : int { kUpA = 0, kUpB, kUpG, kUpS, kUpSn, kUpThA, kUpThB, kUpauciParams };
// sums: [0..4] positives: u, u (P - t), u f, u (f - a), c^2 (two-way only); u = c, t = s two-way,
//       u = 1, t = 0 one-way; [5..9] negatives: c, c (N - s'), c f, c (f - b), c^2.
constexpr int kUpauciSums = 10;

// Per-class coefficients: kp = d L / d sum+ (1/n+ or 1/(alpha n+)), kn = 1/(beta n-), kc = 2 omega / n_c
// (n_c: the samples that carry a weight, n- one-way, n two-way, at least 1).
struct UpauciCoef {
  double kp, kn, kc, nc;
  double hp, hn;  // 1 when the class is present: an absent class's whole term (s or s' included) is 0
  bool two_way;
};

TAUC_HD UpauciCoef upauci_coef(int64_t n_pos, int64_t n_neg, double alpha, double beta, double omega, bool two_way) {
  const double np = n_pos > 0 ? static_cast<double>(n_pos) : 1.0;
  const double nn = n_neg > 0 ? static_cast<double>(n_neg) : 1.0;
  const double nc = two_way ? (n_pos + n_neg > 0 ? static_cast<double>(n_pos + n_neg) : 1.0) : nn;
  return UpauciCoef{two_way ? 1.0 / (alpha * np) : 1.0 / np,
                    1.0 / (beta * nn),
                    2.0 * omega / nc,
                    nc,
                    n_pos > 0 ? 1.0 : 0.0,
                    n_neg > 0 ? 1.0 : 0.0,
                    two_way};
}

// One sample: adds its terms to acc[kUpauciSums] and returns d L / d f, d L / d c. T is the compute
// type (float or double); p holds the seven scalars.
template <typename T, typename P>
TAUC_HD void upauci_sample(const UpauciCoef& k, const P* p, T f, bool pos, T c, double* acc, T* gf, T* gc) {
  const T g1 = T(2) * (T(1) + static_cast<T>(p[kUpG]));
  if (pos) {
    const T d = f - static_cast<T>(p[kUpA]);
    const T q = d * d - g1 * f, dq = T(2) * d - g1;
    const T u = k.two_way ? c : T(1);
    const T t = k.two_way ? static_cast<T>(p[kUpS]) : T(0);
    acc[0] += static_cast<double>(u);
    acc[1] += static_cast<double>(u * (q - t));
    acc[2] += static_cast<double>(u * f);
    acc[3] += static_cast<double>(u * d);
    if (k.two_way) acc[4] += static_cast<double>(c * c);
    *gf = static_cast<T>(k.kp) * u * dq;
    *gc = k.two_way ? static_cast<T>(k.kp) * (q - t) - static_cast<T>(k.kc) * c : T(0);
  } else {
    const T d = f - static_cast<T>(p[kUpB]);
    const T q = d * d + g1 * f, dq = T(2) * d + g1;
    const T r = q - static_cast<T>(p[kUpSn]);
    acc[5] += static_cast<double>(c);
    acc[6] += static_cast<double>(c * r);
    acc[7] += static_cast<double>(c * f);
    acc[8] += static_cast<double>(c * d);
    acc[9] += static_cast<double>(c * c);
    *gf = static_cast<T>(k.kn) * c * dq;
    *gc = static_cast<T>(k.kn) * r - static_cast<T>(k.kc) * c;
  }
}

// The loss and d L / d p (kUpauciParams) from the sums.
TAUC_HD void upauci_epilogue(const UpauciCoef& k, const double* S, const double* p, double omega, double* loss,
                             double* grad) {
  const double a = p[kUpA], b = p[kUpB], g = p[kUpG], s = p[kUpS], sn = p[kUpSn], tha = p[kUpThA], thb = p[kUpThB];
  const double tw = k.two_way ? 1.0 : 0.0;
  *loss = tw * k.hp * s + k.kp * S[1] + k.hn * sn + k.kn * S[6] - g * g - thb * (b - 1.0 - g) + tw * tha * (a + g) -
          omega * (g * g + (S[4] + S[9]) / k.nc);
  grad[kUpA] = -2.0 * k.kp * S[3] + tw * tha;
  grad[kUpB] = -2.0 * k.kn * S[8] - thb;
  grad[kUpG] = -2.0 * k.kp * S[2] + 2.0 * k.kn * S[7] - 2.0 * g * (1.0 + omega) + thb + tw * tha;
  grad[kUpS] = tw * k.hp * (1.0 - k.kp * S[0]);
  grad[kUpSn] = k.hn * (1.0 - k.kn * S[5]);
  grad[kUpThA] = tw * (a + g);
  grad[kUpThB] = -(b - 1.0 - g);
}

}  // namespace torchauc::partial_auc
