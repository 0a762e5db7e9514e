// The math of the partial-AUC ops, written once for CPU and CUDA.
//
// 1. Selection counts. One-way (FPR <= max_fpr) keeps k- = R(max_fpr * n-) highest-scored negatives;
//    two-way also keeps k+ = R((1 - min_tpr) * n+) lowest-scored positives (TPR >= min_tpr), where R
//    is floor (default, the TPAUC metric convention), ceil or round. A relative slack of 1e-9 absorbs
//    binary rounding of the product (0.29 * 100 = 28.999999999999996 counts as 29).
//
// 2. Exp row statistics of the LibAUC DRO/KL losses. For a positive with score x and a negative with
//    score z, d = margin - x + z and the pair surrogate is
//        squared_hinge: l = max(d, 0)^2, l' = 2 max(d, 0);   hinge: l = max(d, 0), l' = 1[d > 0].
//    l is nondecreasing in z, so the row maximum of l / lambda is reached at the largest negative:
//    c = l(margin - x + z_max) / lambda, and every exp(l / lambda - c) lies in (0, 1] (no overflow).
#pragma once
#include <math.h>
#include "common/macros.h"

namespace torchauc {

enum class PaucRounding : int { Floor = 0, Ceil = 1, Round = 2 };
enum class PaucSurrogate : int { SquaredHinge = 0, Hinge = 1 };

TAUC_HD long long pauc_count(double fraction, long long n, PaucRounding r) {
  const double x = fraction * static_cast<double>(n);
  const double slack = 1e-9 * (x > 1.0 ? x : 1.0);
  double k;
  if (r == PaucRounding::Floor) k = floor(x + slack);
  else if (r == PaucRounding::Ceil) k = ceil(x - slack);
  else k = floor(x + 0.5 + slack);  // half up
  if (k < 0.0) k = 0.0;
  if (k > static_cast<double>(n)) k = static_cast<double>(n);
  return static_cast<long long>(k);
}

// Pair surrogate value and derivative in d = margin - x + z.
template <PaucSurrogate S, typename T>
TAUC_HD void pauc_surrogate(T d, T* l, T* dl) {
  const T h = d > T(0) ? d : T(0);
  if (S == PaucSurrogate::SquaredHinge) {
    *l = h * h;
    *dl = T(2) * h;
  } else {
    *l = h;
    *dl = d > T(0) ? T(1) : T(0);
  }
}

// Row shift c = l(d_max) / lambda for the positive with key k = margin - x, given z_max.
template <typename T>
TAUC_HD T pauc_row_shift(PaucSurrogate s, T k, T z_max, T inv_lambda) {
  const T d = k + z_max;
  const T h = d > T(0) ? d : T(0);
  return (s == PaucSurrogate::SquaredHinge ? h * h : h) * inv_lambda;
}

}  // namespace torchauc
