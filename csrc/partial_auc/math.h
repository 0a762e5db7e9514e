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

}  // namespace torchauc::partial_auc
