// The kept count of a partial-AUC region, written once for the losses and the metrics, CPU and
// CUDA: one-way keeps k- = R(max_fpr * n-) negatives, two-way also k+ = R((1 - min_tpr) * n+)
// positives, where R is floor (default, the TPAUC metric convention), ceil or round half up. A
// relative slack of 1e-9 absorbs binary rounding of the product (0.3 * 10 = 2.9999999999999996 keeps
// 3, 0.29 * 100 keeps 29).
#pragma once
#include <math.h>
#include <stdint.h>

#include "core/macros.h"

namespace torchauc {

enum class Rounding : int { Floor = 0, Ceil = 1, Round = 2 };

TAUC_HD int64_t kept_count(double fraction, int64_t n, Rounding r = Rounding::Floor) {
  const double x = fraction * static_cast<double>(n);
  const double slack = 1e-9 * (x > 1.0 ? x : 1.0);
  double k;
  if (r == Rounding::Floor)
    k = floor(x + slack);
  else if (r == Rounding::Ceil)
    k = ceil(x - slack);
  else
    k = floor(x + 0.5 + slack);
  if (k < 0.0) k = 0.0;
  if (k > static_cast<double>(n)) k = static_cast<double>(n);
  return static_cast<int64_t>(k);
}

}  // namespace torchauc
