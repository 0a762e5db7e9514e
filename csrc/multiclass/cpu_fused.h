// Fused float32 loops of the multiclass / pixel AUC loss (square, linear): the activation, the column
// statistics and the gradient in one sweep of 16 lanes per step, instantiated in AVX-512, AVX2 and
// default clones. Statistics are summed in double over 2 x 8 fixed lanes combined in a fixed order, so
// values depend neither on the ISA clone nor on the thread count. The gradient is formed in float
// (coefficients rounded to float): each element is within a few float ulps of
// |act'(x)| (|a v| + |b|) of the double result, (a, b) its column's coefficients (math.h).
#pragma once
#include <cstdint>

#include "multiclass/math.h"

namespace torchauc::multiclass {

// A run of one column c of the NCHW layout (len scores x of samples with labels y, -1 = ignored, and
// weights w): adds {u1, u2, d1, d2} (math.h) of the activated scores to acc.
void mc_plane_moments_f32(Activation act, const float* x, const int32_t* y, const double* w, int64_t len, int32_t c,
                          double* acc);

// The gradient of the same run: g[t] = act'(x) dL/dv (0 for ignored samples).
void mc_plane_grad_f32(Activation act, const float* x, const int32_t* y, const double* w, int64_t len, int32_t c,
                       const Coef& cf, float* g);

// One (N, C) row of label y and weight w: u1[t] += w v[t], u2[t] += w v[t]^2 for t != y, and
// d1[y] += v[y], d2[y] += v[y]^2.
void mc_row_moments_f32(Activation act, const float* x, int64_t C, int32_t y, double w, double* u1, double* u2,
                        double* d1, double* d2);

// The gradient of that row from per-column float coefficients cf = {ad, bd, ao, bo} (each C long).
void mc_row_grad_f32(Activation act, const float* x, int64_t C, int32_t y, double w, const float* cf, float* g);

}  // namespace torchauc::multiclass
