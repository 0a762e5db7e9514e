// Vectorised float sigmoid for the multiclass / pixel AUC loss kernels.
#pragma once
#include <cmath>
#include <cstdint>

#include "core/fast_math.h"

namespace torchauc::multiclass {

// v = sigmoid(x), dv = sigmoid'(x) = e / (1 + e)^2 with e = exp(-|x|) (no 1 - v cancellation), by the
// polynomial exp of core/fast_math.h: branch-free, so loops calling it vectorise (it if-converts under
// the CPU target's -fno-trapping-math). A NaN logit gives a NaN v (the polynomial alone would give 0).
inline void sigmoid_f32(float x, float* v, float* dv) {
  const float e = exp_nonpos_poly(-std::fabs(x));
  const float inv = 1.0f / (1.0f + e);
  const float ei = e * inv;
  *v = x >= 0.0f ? inv : (x < 0.0f ? ei : x);
  *dv = ei * inv;
}

// In place over a tile: v holds logits on entry, sigmoid(v) on exit; dv gets sigmoid'(logit).
void sigmoid_tile_f32(float* v, float* dv, int64_t n);

}  // namespace torchauc::multiclass
