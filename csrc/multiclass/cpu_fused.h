// Fused float32 loops of the multiclass / pixel AUC loss (square, linear, exp): the activation, the
// column statistics and the gradient in one sweep of 16 lanes per step, instantiated in AVX-512, AVX2
// and default clones. Statistics are double over 2 x 8 fixed lanes combined in a fixed order, so values
// depend neither on the thread count nor (beyond float rounding: FMA contraction) on the ISA clone.
// Error bounds (2^-24 = float's half ulp, act = the activation):
//   square, linear: the gradient is formed in float (coefficients rounded to float): each element is
//     within a few float ulps of |act'(x)| (|a v| + |b|) of the double result, (a, b) its column's
//     coefficients (math.h); the statistics are exact double sums.
//   exp: each key's e^{key - M} is a float exp (< 4 ulp) of the double difference rounded to float, so
//     its relative error is below (|key - M| + 4) 2^-24, key - M in [-(|m| R + 1), 0] with R the range
//     of the activated scores in the column; the cells, and so the loss, inherit that relative bound.
//     A gradient element is a float coefficient (rounded once) times such an exp: relative error below
//     (|m| R + 8) 2^-24, plus the activation's own rounding times |m v|.
#pragma once
#include <cstdint>

#include "multiclass/math.h"

namespace torchauc::multiclass {

// Which statistics the loops gather: the moments {u1, u2, d1, d2} (square, linear) or the exp cells
// {Mn, En, Mp, Ep} (negatives' and positives' log-sum-exp cells, math.h, the weight outside the key).
struct FusedSurrogate {
  bool exp;
  double margin;
};

// A run of one column c of the NCHW layout (len scores x of samples with labels y, -1 = ignored, and
// weights w = rho): adds the run to the column's statistics st[q * stride], q = 0..3 (sums added,
// cells merged).
void mc_plane_stats_f32(const FusedSurrogate& sur, Activation act, const float* x, const int32_t* y, const double* w,
                        int64_t len, int32_t c, double* st, int64_t stride);

// The gradient of the same run: g[t] = act'(x) dL/dv (0 for ignored samples), from the column's
// coefficients (moments: math.h's; exp: the shifted form of mc_exp_coef_shifted).
void mc_plane_grad_f32(const FusedSurrogate& sur, Activation act, const float* x, const int32_t* y, const double* w,
                       int64_t len, int32_t c, const Coef& cf, float* g);

// Rows [0, rows) of the (N, C) layout (x row-major, labels y with -1 = ignored, weights w = rho):
// adds them to the statistics st[q * C + c], q = 0..3, the order of the plane's (ignored rows add
// nothing). Rows of C < 16 columns go 16 rows at a time through the plane's lanes (a fixed function of
// rows and C, so still independent of the thread count); wider rows one 16-column vector at a time.
void mc_rows_stats_f32(const FusedSurrogate& sur, Activation act, const float* x, int64_t rows, int64_t C,
                       const int32_t* y, const double* w, double* st);

// The gradient of those rows (0 for ignored rows) from per-column float coefficients
// cf = {ad, bd, ao, bo} (each C long).
void mc_rows_grad_f32(const FusedSurrogate& sur, Activation act, const float* x, int64_t rows, int64_t C,
                      const int32_t* y, const double* w, const float* cf, float* g);

}  // namespace torchauc::multiclass
