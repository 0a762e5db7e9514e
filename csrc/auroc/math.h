// Math shared by the CPU and CUDA AUROC metric kernels: order-preserving integer sort keys for
// floats, the tie-aware Mann-Whitney group contribution, the kept counts of the two-way partial AUC
// and the clipped trapezoid of the one-way (McClish) partial AUC.
#pragma once
#include <cmath>
#include <cstdint>

#include "core/kept_count.h"
#include "core/macros.h"
#include "core/sort_keys.h"

namespace torchauc::auroc {

// One tie group of a column sorted by score: the positive weight strictly above the group
// (p_above) and inside it (p_tie). A negative of weight w in the group adds
// w * (p_above + p_tie / 2) to the Mann-Whitney count U = sum_{p pos, q neg} w_p w_q H(s_p - s_q),
// H(t) = 1 (t > 0), 1/2 (t == 0), 0 (t < 0).
TAUC_HD double tie_group_pairs(double w_neg, double p_above, double p_tie) { return w_neg * (p_above + 0.5 * p_tie); }

// Area under the ROC segment from (x0, y0) to (x1, y1) (x = FPR, y = TPR, x0 <= x1) restricted to
// x <= beta, with the segment interpolated linearly at beta (what scikit-learn's max_fpr does).
TAUC_HD double clipped_trapezoid(double x0, double y0, double x1, double y1, double beta) {
  if (x0 >= beta || x1 <= x0) return 0.0;
  if (x1 <= beta) return 0.5 * (x1 - x0) * (y0 + y1);
  const double yb = y0 + (y1 - y0) * (beta - x0) / (x1 - x0);
  return 0.5 * (beta - x0) * (y0 + yb);
}

// One tie group's term of the average precision: its positive weight d_tp times the precision at
// its threshold, tp / (tp + fp) with tp, fp the weights at scores >= the group's (zero when d_tp = 0,
// which also covers groups of zero weight).
TAUC_HD double ap_step(double d_tp, double tp, double fp) { return d_tp > 0.0 ? d_tp * (tp / (tp + fp)) : 0.0; }

// McClish standardisation of a partial area over FPR in [0, beta] (scikit-learn roc_auc_score).
TAUC_HD double mcclish(double area, double beta) {
  const double min_area = 0.5 * beta * beta;
  const double max_area = beta;
  return 0.5 * (1.0 + (area - min_area) / (max_area - min_area));
}

}  // namespace torchauc::auroc
