// Own translation unit: without trapping-math GCC if-converts the polynomial exp of
// common/fast_math.h and vectorises the loop (8 lanes with the AVX2 clone): ~7x faster than the
// branchy scalar loop it builds otherwise. Values are unchanged (no reassociation).
#pragma GCC optimize("no-trapping-math")
#include "cpu/multiclass_sigmoid.h"

#include <cmath>
#include "common/fast_math.h"

namespace torchauc {

__attribute__((target_clones("avx2", "default"))) void sigmoid_tile_f32(float* v, float* dv, int64_t n) {
#pragma omp simd
  for (int64_t t = 0; t < n; ++t) {
    const float x = v[t];
    const float e = exp_nonpos_poly(-std::fabs(x));
    const float inv = 1.0f / (1.0f + e);
    const float ei = e * inv;
    v[t] = x >= 0.0f ? inv : ei;
    dv[t] = ei * inv;
  }
}

}  // namespace torchauc
