// exp and log1p for the pairwise kernels. On the device these are the CUDA intrinsics-free libm
// functions; on the host, float uses branch-free polynomials that GCC vectorises (libm calls do not),
// double uses libm (it serves the float64 reference/gradcheck path, where accuracy beats speed).
#pragma once
#include <cmath>
#include <cstdint>

#include "core/macros.h"

namespace torchauc {

#if !defined(__CUDA_ARCH__)
// exp(x) for x <= 0 in float, relative error ~2 ulp; returns 0 below -87 (exp underflows there).
// Branch-free (selects and a bit cast) so that loops calling it vectorise; x must not be NaN.
inline float exp_nonpos_poly(float x) {
  const float xc = x > -87.0f ? x : -87.0f;
  float fn = xc * 1.44269504088896341f;
  fn = (fn + 12582912.0f) - 12582912.0f;  // round to nearest integer (|fn| < 2^22)
  const float r = (xc - fn * 0.693359375f) - fn * (-2.12194440e-4f);
  float p = 1.9875691500e-4f;
  p = p * r + 1.3981999507e-3f;
  p = p * r + 8.3334519073e-3f;
  p = p * r + 4.1665795894e-2f;
  p = p * r + 1.6666665459e-1f;
  p = p * r + 5.0000001201e-1f;
  p = p * r * r + r + 1.0f;
  const int32_t bits = (static_cast<int32_t>(fn) + 127) << 23;
  const float out = p * __builtin_bit_cast(float, bits);
  return x > -87.0f ? out : 0.0f;
}

// log1p(e) for e in [0, 1] as e P(e), P a degree-8 Chebyshev fit of log1p(e) / e: relative error
// < 3.5 ulp (2.1e-7) over [0, 1], subnormal e included (it scales e, no cancellation near 0), and
// no division (the former atanh series divided once per call, as costly as the rest together).
inline float log1p_unit_poly(float e) {
  float q = 5.253587838e-3f;
  q = q * e - 2.958923540e-2f;
  q = q * e + 7.836324886e-2f;
  q = q * e - 1.367494499e-1f;
  q = q * e + 1.911153885e-1f;
  q = q * e - 2.484440674e-1f;
  q = q * e + 3.331927792e-1f;
  q = q * e - 4.999950204e-1f;
  q = q * e + 9.999999707e-1f;
  return e * q;
}
#endif

TAUC_HD float exp_nonpos(float x) {
#if defined(__CUDA_ARCH__)
  return expf(x);
#else
  return exp_nonpos_poly(x);
#endif
}
TAUC_HD double exp_nonpos(double x) { return exp(x); }

TAUC_HD float log1p_unit(float e) {
#if defined(__CUDA_ARCH__)
  return log1pf(e);
#else
  return log1p_unit_poly(e);
#endif
}
TAUC_HD double log1p_unit(double e) { return log1p(e); }

}  // namespace torchauc
