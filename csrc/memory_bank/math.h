// Math of the AUCSeg T-Memory Bank ops, shared by the CPU kernels and the CUDA kernels:
// request-table layouts and OpenCV's resize coordinate conventions (generic code path of
// cv::resize, imgproc/src/resize.cpp), so a paste from a stored crop reproduces the official
// "resize the whole stored image, then paste" pixel for pixel.
#pragma once
#include <cmath>
#include <cstdint>

#include "core/macros.h"

namespace torchauc::memory_bank {

// Rows of the int64 request tables (python/torchauc/memory_bank.py uses the same column order).
// Gather: copy the crop [y0, y0+h) x [x0, x0+w) of batch image `image` and its mask (label == cls)
// to the pool at pixel offset `offset` (pixel-interleaved image rows, one bool per mask pixel).
enum GatherField : int { kGImage = 0, kGClass, kGY0, kGX0, kGH, kGW, kGOffset, kGatherFields };
// Paste: the pool entry (crop at (y0, x0), size h x w, of a source image of size src_h x src_w) is
// resized as the whole source image would be to rh x rw and written at (oy, ox) of image `image`
// wherever the resized mask is set; rows are applied in order (later rows overwrite earlier ones).
enum PasteField : int {
  kPImage = 0,
  kPClass,
  kPOY,
  kPOX,
  kPRH,
  kPRW,
  kPSrcH,
  kPSrcW,
  kPY0,
  kPX0,
  kPH,
  kPW,
  kPOffset,
  kPasteFields
};

// cv::resize with an explicit dsize: inv_scale = dst / src, and both interpolations use
// scale = 1 / inv_scale (double).
TAUC_HD double resize_scale(int64_t src, int64_t dst) { return 1.0 / ((double)dst / (double)src); }

// INTER_NEAREST (resizeNN): s = min(floor(d * scale), n_src - 1).
TAUC_HD int64_t nearest_source(int64_t d, double scale, int64_t n_src) {
  const int64_t s = (int64_t)floor((double)d * scale);
  return s < n_src - 1 ? s : n_src - 1;
}

// INTER_LINEAR taps of destination index d: f = (float)((d + 0.5) * scale - 0.5), s = floor(f),
// weight of s + 1 is f - s; clamped to the border (s < 0 -> s = 0, s >= n - 1 -> s = n - 1, weight 0).
struct LinearTap {
  int64_t i0, i1;
  float w1;
};
TAUC_HD LinearTap linear_source(int64_t d, double scale, int64_t n_src) {
  float f = (float)(((double)d + 0.5) * scale - 0.5);
  int64_t s = (int64_t)floorf(f);
  f -= (float)s;
  if (s < 0) {
    s = 0;
    f = 0.f;
  }
  if (s >= n_src - 1) {
    s = n_src - 1;
    f = 0.f;
  }
  return LinearTap{s, s + 1 < n_src ? s + 1 : s, f};
}

// Separately rounded multiply and add (no fused multiply-add on the device), so CPU and CUDA give
// the same bits as OpenCV's float path. T is float or double.
template <typename T>
TAUC_HD T mul_rn(T a, T b) {
#if defined(__CUDA_ARCH__)
  if constexpr (sizeof(T) == sizeof(double))
    return __dmul_rn(a, b);
  else
    return __fmul_rn(a, b);
#else
  return a * b;
#endif
}
template <typename T>
TAUC_HD T add_rn(T a, T b) {
#if defined(__CUDA_ARCH__)
  if constexpr (sizeof(T) == sizeof(double))
    return __dadd_rn(a, b);
  else
    return __fadd_rn(a, b);
#else
  return a + b;
#endif
}

// Runs of equal labels in row[xb, xe): f(label, first, last) once per run (the bbox reduction does
// one table update per run instead of one per pixel).
template <typename L, typename F>
TAUC_HD void for_each_run(const L* row, int64_t xb, int64_t xe, F&& f) {
  for (int64_t x = xb; x < xe;) {
    const L v = row[x];
    int64_t x2 = x + 1;
    while (x2 < xe && row[x2] == v) ++x2;
    f(v, x, x2 - 1);
    x = x2;
  }
}

// OpenCV's separable bilinear: horizontal pass on both rows, then vertical, weights in float,
// arithmetic in Acc (float, or double for float64 images).
template <typename Acc>
TAUC_HD Acc bilinear(Acc v00, Acc v01, Acc v10, Acc v11, float wx, float wy) {
  const Acc ax0 = (Acc)(1.f - wx), ax1 = (Acc)wx, ay0 = (Acc)(1.f - wy), ay1 = (Acc)wy;
  const Acc r0 = add_rn(mul_rn(v00, ax0), mul_rn(v01, ax1));
  const Acc r1 = add_rn(mul_rn(v10, ax0), mul_rn(v11, ax1));
  return add_rn(mul_rn(r0, ay0), mul_rn(r1, ay1));
}

// Range of destination indices [lo, hi] whose nearest source index can fall in [s0, s1]
// (a superset, never empty-checked: callers test nearest_source exactly), clipped to [0, n_dst).
TAUC_HD void destination_range(int64_t s0, int64_t s1, double scale, int64_t n_dst, int64_t& lo, int64_t& hi) {
  lo = (int64_t)floor((double)s0 / scale) - 1;
  hi = (int64_t)ceil((double)(s1 + 1) / scale) + 1;
  if (lo < 0) lo = 0;
  if (hi > n_dst - 1) hi = n_dst - 1;
}

}  // namespace torchauc::memory_bank
