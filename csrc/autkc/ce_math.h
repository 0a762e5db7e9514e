// Math of the top-k cross entropy row (autkc_loss_rows with surrogate "ce", CETopKLoss), shared by the
// CPU and CUDA kernels: the selection of the k - 1 best competitors, the masked log-sum-exp and its
// gradient in a few passes over one row (the composite took a dozen (B, C) ATen passes).
//
// Row b with label y, logits x, E its m = k - 1 best competitors (math.h's ranking, NaN first) and
// z_j = x_j - x_y over the kept columns K (neither y nor in E):
//   loss_b = log(1 + sum_{j in K} e^{z_j}),  d loss_b / d x_j = e^{z_j} / (1 + sum e^z) (j in K),
//   d loss_b / d x_y = -sum_{j in K} d loss_b / d x_j,  0 on E.
// As the former composite (z, then torch.logsumexp over [0, z_K]): a NaN z gives NaN loss and NaN
// gradient on K and y; a +inf z gives loss +inf, gradient NaN where z = +inf and at y, 0 elsewhere on K.
#pragma once
#include <cmath>
#include <cstdint>

#include "autkc/math.h"
#include "autkc/row_passes.h"
#include "core/fast_math.h"
#include "core/macros.h"

namespace torchauc::autkc {

// One row: returns loss_b and, with want_grad, stores d loss_b / d x_j through store(j, value).
// p: C scratch values in Acc (float for float and 16-bit logits, double for double); vals, cols: m.
// The sum runs in Acc as torch.logsumexp does; the log in double: within rounding of the composite.
template <typename Acc, typename Load, typename Store>
TAUC_HD double ce_topk_row(const Load& load, int64_t C, int64_t y, int64_t m, bool want_grad, const Store& store,
                           Acc* p, double* vals, int64_t* cols) {
  row_topk_competitors(p, C, y, m, load_row(load, C, p), vals, cols);
  const Acc xy = p[y];
  for (int64_t j = 0; j < C; ++j) p[j] -= xy;
  for (int64_t i = 0; i < m; ++i) p[cols[i]] = -INFINITY;  // E and y leave the sum
  p[y] = -INFINITY;
  bool nan = false;
  const Acc mx = row_max(p, C, static_cast<Acc>(0), &nan);  // max(0, z_K)
  if (nan || mx == INFINITY) {                              // the composite's non-finite rows (see the header comment)
    if (want_grad) {
      for (int64_t j = 0; j < C; ++j) store(j, nan || p[j] == INFINITY ? NAN : 0.0);
      for (int64_t i = 0; i < m; ++i) store(cols[i], 0.0);
      store(y, NAN);
    }
    return nan ? NAN : INFINITY;
  }
  const Acc rest = exp_shift_sum(p, C, mx);  // sum_K e^{z_j - mx}: -inf (E, y, x_j = -inf) gives 0
  const Acc e0 = exp_nonpos(static_cast<Acc>(-mx)), total = e0 + rest;
  // mx = 0: log1p keeps a tiny loss relative-accurate (the composite's log(1 + r) rounds r at 1)
  const double loss = mx == 0 ? log1p(static_cast<double>(rest)) : mx + log(static_cast<double>(total));
  if (!want_grad) return loss;
  for (int64_t j = 0; j < C; ++j) store(j, p[j] / total);
  store(y, -(rest / total));
  return loss;
}

}  // namespace torchauc::autkc
