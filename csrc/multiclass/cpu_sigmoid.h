// Vectorised float sigmoid over a tile, for the multiclass / pixel AUC loss kernels.
#pragma once
#include <cstdint>

namespace torchauc::multiclass {

// In place: v holds logits on entry, sigmoid(v) on exit; dv gets sigmoid'(logit) = e / (1 + e)^2 with
// e = exp(-|logit|) (no 1 - v cancellation).
void sigmoid_tile_f32(float* v, float* dv, int64_t n);

}  // namespace torchauc::multiclass
