// Math of the size-invariant SOD ops (Li et al., ICML 2024), shared by the CPU and CUDA kernels:
// frame membership (boxes and the official bitmask), the base losses and their gradients, the
// per-image SI loss from the per-(image, frame) sums, and the threshold bins of the metrics.
//
// Layouts (python/torchauc/sod/ uses the same):
//   boxes   (B, K, 4) int64 rows [x0, y0, x1, y1), half-open; rows k >= counts[b] are padding.
//   loss sums (B, Kr + 1, C, 4) double, Kr = loss_rows(K): row k < Kr = frame k (row 0 also the
//           whole-image fallback frame), channel c: [sum bce, sum p g, sum p, sum g]; row Kr,
//           channel 0: background [sum (mean_c p - g)^2, pixel count, -, -].
//   metric regions r of an image: r < K frame r, r = K background (no box), r = K + 1 whole image.
#pragma once
#include <cmath>
#include <cstdint>

#include "core/macros.h"

namespace torchauc::sod {

enum Base : int { kBce = 1, kDice = 2 };  // bit flags: "bce+dice" = kBce | kDice
constexpr double kDiceEps = 1e-5;         // the official DiceLoss smoothing
constexpr double kBceLogMin = -100.0;     // torch.nn.functional.binary_cross_entropy clamps log at -100
constexpr double kBceGradEps = 1e-12;     // ... and its gradient's denominator at 1e-12
constexpr int kStats = 4;                 // doubles per (image, frame, channel) of the loss sums

// Box k of an image: rows [y0, y1), columns [x0, x1).
struct Box {
  int64_t x0, y0, x1, y1;
  TAUC_HD bool contains(int64_t y, int64_t x) const { return y >= y0 && y < y1 && x >= x0 && x < x1; }
  TAUC_HD int64_t area() const { return (x1 > x0 && y1 > y0) ? (x1 - x0) * (y1 - y0) : 0; }
};

// Box k of image b, clipped to the image (the CUDA kernels cannot raise on a bad box).
TAUC_HD Box box_at(const int64_t* boxes, int64_t b, int64_t k, int64_t K, int64_t H, int64_t W) {
  const int64_t* r = boxes + (b * K + k) * 4;
  auto clip = [](int64_t v, int64_t hi) { return v < 0 ? int64_t(0) : (v > hi ? hi : v); };
  return Box{clip(r[0], W), clip(r[1], H), clip(r[2], W), clip(r[3], H)};
}

// Frames of image b: counts[b] clipped to [0, K].
TAUC_HD int64_t frames_of(const int64_t* counts, int64_t b, int64_t K) {
  const int64_t n = counts[b];
  return n < 0 ? 0 : (n > K ? K : n);
}

// The official per-pixel bitmask: bit k set when the pixel lies in box k (at most 63 frames).
TAUC_HD uint64_t frame_bits(const int64_t* boxes, int64_t b, int64_t kb, int64_t K, int64_t H, int64_t W, int64_t y,
                            int64_t x) {
  uint64_t v = 0;
  for (int64_t k = 0; k < kb; ++k)
    if (box_at(boxes, b, k, K, H, W).contains(y, x)) v |= uint64_t(1) << k;
  return v;
}

// Index of the lowest set bit of v > 0.
TAUC_HD int64_t lowest_bit(uint64_t v) {
  int64_t i = 0;
  while (!(v & 1)) v >>= 1, ++i;
  return i;
}

// ------------------------------------------------------------------ SI loss
// torch's binary_cross_entropy of one pixel (A: float for 16/32-bit predictions, as torch computes
// it, double for double), and its derivative in p.
TAUC_HD float log_of(float v) { return logf(v); }
TAUC_HD double log_of(double v) { return log(v); }
TAUC_HD float log1p_of(float v) { return log1pf(v); }
TAUC_HD double log1p_of(double v) { return log1p(v); }
template <typename A>
TAUC_HD A bce(A p, A g) {  // NaN (or p outside [0, 1]) gives NaN
  const A lo = (A)kBceLogMin;
  // A 0/1 target with p in [0, 1] needs one log: the other term is 0 times a finite clamped log, so
  // the value is the same (up to the sign of a zero), at half the cost.
  if (p >= A(0) && p <= A(1) && (g == A(0) || g == A(1))) {
    const A l = g == A(0) ? log1p_of(-p) : log_of(p);
    return -(l < lo ? lo : l);
  }
  A lp = log_of(p), lq = log1p_of(-p);
  lp = lp < lo ? lo : lp;
  lq = lq < lo ? lo : lq;
  return (g - A(1)) * lq - g * lp;
}
TAUC_HD double bce_grad(double p, double g) {
  const double d = (1.0 - p) * p;
  return (p - g) / (d > kBceGradEps ? d : kBceGradEps);
}

// Base loss of one (frame, channel) from its sums s = [bce, pg, p, g] over `area` pixels.
TAUC_HD double base_loss(int base, const double* s, double area) {
  double l = 0.0;
  if (base & kBce) l += s[0] / area;
  if (base & kDice) l += 1.0 - (2.0 * s[1] + kDiceEps) / (s[2] + s[3] + kDiceEps);
  return l;
}
// Its derivative in the prediction p of a pixel of the frame (target g) is a bce'(p, g) + v - u g:
// a = 1 / area (BCE mean), and for Dice = 1 - num / den: d/dp = -(2 g den - num) / den^2.
struct FrameCoef {
  double a, u, v;
};
TAUC_HD FrameCoef frame_coef(int base, const double* s, double area) {
  FrameCoef f{0.0, 0.0, 0.0};
  if (area == 0.0) return f;
  if (base & kBce) f.a = 1.0 / area;
  if (base & kDice) {
    const double num = 2.0 * s[1] + kDiceEps, den = s[2] + s[3] + kDiceEps;
    f.u = 2.0 / den;
    f.v = num / (den * den);
  }
  return f;
}
// The gradient of a pixel from the coefficients summed over the frames that contain it.
TAUC_HD double frames_grad(double a, double u, double v, double p, double g) {
  return (a != 0.0 ? a * bce_grad(p, g) : 0.0) + v - u * g;
}

// The frames an image's loss runs over: its boxes, or the whole image when it has none (the
// official plain-loss fallback, without the background term).
struct LossFrames {
  int64_t n;      // frames used (>= 1)
  bool fallback;  // true: one frame, the whole image, no background term
};
TAUC_HD LossFrames loss_frames(const int64_t* counts, int64_t b, int64_t K) {
  const int64_t kb = frames_of(counts, b, K);
  return kb > 0 ? LossFrames{kb, false} : LossFrames{1, true};
}
TAUC_HD Box loss_box(const int64_t* boxes, int64_t b, int64_t k, int64_t K, int64_t H, int64_t W, bool fallback) {
  return fallback ? Box{0, 0, W, H} : box_at(boxes, b, k, K, H, W);
}

// Frame rows of the loss sums: at least one, for the whole-image fallback frame.
TAUC_HD int64_t loss_rows(int64_t K) { return K > 0 ? K : 1; }

// L_b = sum_k sum_c base(frame k, channel c) + alpha_b * mean_bg (mean_c p - g)^2, with
// alpha_b = |bg| / (HW - |bg|), so the background term is sum_bg (.)^2 / (HW - |bg|).
TAUC_HD double image_loss(int base, const double* sums, const int64_t* boxes, const int64_t* counts, int64_t b,
                          int64_t K, int64_t C, int64_t H, int64_t W) {
  const LossFrames f = loss_frames(counts, b, K);
  const int64_t Kr = loss_rows(K);
  const double* sb = sums + b * (Kr + 1) * C * kStats;
  double l = 0.0;
  for (int64_t k = 0; k < f.n; ++k) {
    const double area = (double)loss_box(boxes, b, k, K, H, W, f.fallback).area();
    if (area == 0.0) continue;  // an empty box (only from user-made boxes) has no pixel to score
    for (int64_t c = 0; c < C; ++c) l += base_loss(base, sb + (k * C + c) * kStats, area);
  }
  const double* bg = sb + Kr * C * kStats;
  if (!f.fallback && bg[1] > 0.0) l += bg[0] / ((double)(H * W) - bg[1]);
  return l;
}

// Coefficient of (mean_c p - g) in the gradient of a background pixel of image b: 2 / (C (HW - |bg|)).
TAUC_HD double background_coef(const double* sums, int64_t b, int64_t K, int64_t C, int64_t H, int64_t W) {
  const double* bg = sums + (b * (loss_rows(K) + 1) + loss_rows(K)) * C * kStats;
  return 2.0 / ((double)C * ((double)(H * W) - bg[1]));
}

// d L_b / d p[b, c, y, x] for one pixel with prediction p (channel c), mean prediction pbar, target g.
TAUC_HD double pixel_grad(int base, const double* sums, const int64_t* boxes, const int64_t* counts, int64_t b,
                          int64_t K, int64_t C, int64_t H, int64_t W, int64_t c, int64_t y, int64_t x, double p,
                          double pbar, double g) {
  const LossFrames f = loss_frames(counts, b, K);
  const double* sb = sums + b * (loss_rows(K) + 1) * C * kStats;
  double a = 0.0, u = 0.0, v = 0.0;
  bool in_frame = false;
  for (int64_t k = 0; k < f.n; ++k) {
    const Box bx = loss_box(boxes, b, k, K, H, W, f.fallback);
    if (!bx.contains(y, x)) continue;
    in_frame = true;
    const FrameCoef e = frame_coef(base, sb + (k * C + c) * kStats, (double)bx.area());
    a += e.a, u += e.u, v += e.v;
  }
  const double d = frames_grad(a, u, v, p, g);
  return (in_frame || f.fallback) ? d : d + background_coef(sums, b, K, C, H, W) * (pbar - g);
}

// ------------------------------------------------------------------ SI metrics
// Threshold bin of a score: the number of thresholds t_i <= s (thresholds ascending); a pixel of
// bin j passes the thresholds i < j (s >= t_i). NaN passes none (bin 0), as in `pred >= t`. The
// guess from evenly spaced thresholds is corrected by walking, so any ascending table is exact.
template <typename T>
TAUC_HD int64_t threshold_bin(const T* thr, int64_t n, double s) {
  if (!(s >= (double)thr[0])) return 0;  // also NaN
  if (s >= (double)thr[n - 1]) return n;
  const double span = (double)thr[n - 1] - (double)thr[0];
  double guess = span > 0.0 ? (s - (double)thr[0]) / span * (double)(n - 1) : 0.0;
  int64_t j = (int64_t)(guess < 0.0 ? 0.0 : (guess > (double)(n - 1) ? (double)(n - 1) : guess)) + 1;
  while (j > 1 && (double)thr[j - 1] > s) --j;
  while (j < n && (double)thr[j] <= s) ++j;
  return j;
}

// Fixed-point scale of the target sums of the histograms: integer sums are exact and independent of
// the summation order, so the CPU and CUDA histograms agree bit for bit (a target in [0, 1] is
// rounded to 2^-24; binary masks are exact).
constexpr double kTargetScale = 16777216.0;
TAUC_HD int64_t target_fixed(double g) { return (int64_t)llrint(g * kTargetScale); }

// Regions of image b (kb frames) a pixel with bitmask v belongs to, for the histograms:
// frame r (bit test, or the official equality test v == r + 1), background (v == 0), whole image.
TAUC_HD bool in_hist_region(int64_t r, int64_t K, int64_t kb, uint64_t v, bool official) {
  if (r == K + 1) return true;
  if (r == K) return v == 0;
  if (r >= kb) return false;
  return official ? v == (uint64_t)(r + 1) : ((v >> r) & 1) != 0;
}
// ... and for the MAE sums (always the bit test, as the official SI-MAE).
TAUC_HD bool in_sum_region(int64_t r, int64_t K, int64_t kb, uint64_t v) { return in_hist_region(r, K, kb, v, false); }

// The pixels an item (image, region) scans: a region lies inside this box. Official region r holds
// the pixels of value r + 1, which lie in the box of its lowest bit.
TAUC_HD Box scan_box(const int64_t* boxes, int64_t b, int64_t r, int64_t K, int64_t kb, int64_t H, int64_t W,
                     bool official) {
  if (r >= K) return Box{0, 0, W, H};
  if (r >= kb) return Box{0, 0, 0, 0};
  return box_at(boxes, b, official ? lowest_bit((uint64_t)(r + 1)) : r, K, H, W);
}

}  // namespace torchauc::sod
