// The math of the AUC-M family (LibAUC's AUCMLoss / MultiLabelAUCMLoss), written once for CPU and CUDA.
//
// Per label c of a (B, C) batch, from six label-grouped moments (n+, n-, sum_P h, sum_N h,
// sum_P h^2, sum_N h^2) and the batch size n (Yuan et al., ICCV 2021; LibAUC 2.0.1's v1):
//   v1: (1-p)/n sum_P (h-a)^2 + p/n sum_N (h-b)^2 + 2 alpha (p(1-p) m + (p S1n - (1-p) S1p)/n) - p(1-p) alpha^2
//   v2: mean_P (h-a)^2 + mean_N (h-b)^2 + 2 alpha (m + mean_N h - mean_P h) - alpha^2, a mean over an
//       empty side is 0 and the alpha-gap term needs both sides.
// The loss op returns sum_c w_c loss_c; d/dh is affine in h per side: kp (h-a) + cp on positives,
// kn (h-b) + cn on negatives. Sides are multiplied in as 0/1 indicators (a label other than 0 or 1
// is neither side) so that a NaN score anywhere in a column makes that label's loss NaN.
#pragma once
#include <cmath>

#include "core/macros.h"

namespace torchauc::aucm {

constexpr int kMoments = 6;  // rows of the (6, C) moments: n+, n-, S1p, S1n, S2p, S2n

// The 0/1 side indicators of one label value (compared as a double: exact for every label dtype).
struct Sides {
  double pos, neg;
};
TAUC_HD Sides sides_of(double y) { return {y == 1.0 ? 1.0 : 0.0, y == 0.0 ? 1.0 : 0.0}; }

// Folds one score into a label's moments (references, so the CPU loops can keep one array per
// moment and vectorise over the label columns).
TAUC_HD void aucm_add(double h, Sides s, double& n_pos, double& n_neg, double& s1p, double& s1n, double& s2p,
                      double& s2n) {
  const double hp = h * s.pos, hn = h * s.neg;
  n_pos += s.pos;
  n_neg += s.neg;
  s1p += hp;
  s1n += hn;
  s2p += hp * h;
  s2n += hn * h;
}

// One label's parameters: a, b, alpha, the v1 prior p (read only when the op was given one; else
// the batch's n+/n) and the weight w of its loss in the op's output.
struct LabelParams {
  double a, b, alpha, p, w;
};

// One label's weighted loss and gradients, and the coefficients of d loss / d h.
struct LabelResult {
  double loss, grad_a, grad_b, grad_alpha;
  double kp, cp, kn, cn, a, b;
};

TAUC_HD LabelResult aucm_finish(double sp, double sn, double s1p, double s1n, double s2p, double s2n, double n,
                                const LabelParams& q, double margin, bool v2, bool batch_prior) {
  const double a = q.a, b = q.b, alpha = q.alpha;
  const double qp = s2p - 2.0 * a * s1p + a * a * sp;  // sum_P (h-a)^2
  const double qn = s2n - 2.0 * b * s1n + b * b * sn;
  double wp, wn, gap, c, both = 1.0;
  if (v2) {
    both = (sp > 0.0 && sn > 0.0) ? 1.0 : 0.0;
    wp = 1.0 / (sp > 1.0 ? sp : 1.0);
    wn = 1.0 / (sn > 1.0 ? sn : 1.0);
    gap = (margin + wn * s1n - wp * s1p) * both;  // NaN * 0 stays NaN, as the moments' sums
    c = 1.0;
  } else {
    const double p = batch_prior ? sp / n : q.p;
    wp = (1.0 - p) / n;
    wn = p / n;
    c = p * (1.0 - p);
    gap = c * margin + wn * s1n - wp * s1p;
  }
  LabelResult r;
  r.loss = q.w * (wp * qp + wn * qn + 2.0 * alpha * gap - c * alpha * alpha);
  r.grad_a = q.w * (-2.0 * wp * (s1p - a * sp));
  r.grad_b = q.w * (-2.0 * wn * (s1n - b * sn));
  r.grad_alpha = q.w * (2.0 * gap - 2.0 * c * alpha);
  r.kp = q.w * 2.0 * wp;
  r.cp = q.w * (-2.0 * alpha * wp * both);
  r.kn = q.w * 2.0 * wn;
  r.cn = q.w * (2.0 * alpha * wn * both);
  r.a = a;
  r.b = b;
  return r;
}

TAUC_HD double aucm_grad(double h, Sides s, double kp, double cp, double kn, double cn, double a, double b) {
  return s.pos * (kp * (h - a) + cp) + s.neg * (kn * (h - b) + cn);
}
TAUC_HD double aucm_grad_score(const LabelResult& r, double h, Sides s) {
  return aucm_grad(h, s, r.kp, r.cp, r.kn, r.cn, r.a, r.b);
}

}  // namespace torchauc::aucm
