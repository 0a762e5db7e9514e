// exp and log1p for the pairwise kernels. On the device these are the CUDA intrinsics-free libm
// functions; on the host, float uses branch-free polynomials that GCC vectorises (libm calls do not),
// double uses libm (it serves the float64 reference/gradcheck path, where accuracy beats speed).
#pragma once
#include <cmath>
#include <cstdint>

#include "core/macros.h"

namespace torchauc {

#if !defined(__CUDA_ARCH__)
// e^{-a} for a >= 0 in float, relative error < 4 ulp (3e-7); above a = 87 it returns e^{-87} ~ 1.6e-38
// (no select: the clamp keeps 2^n normal). Branch-free so loops calling it vectorise; a must not be NaN.
// Reduction a = -(n ln2 + r), |r| <= ln2 / 2, with n = round(-a log2 e) read off the low mantissa bits of
// -a log2 e + (1.5 * 2^23 + 127) (so no float-to-int conversion and no bias add: the shift makes 2^n);
// e^r is a degree-5 minimax fit (7.5e-8 relative on the range), 5 FMAs against the former 8 operations.
inline float exp_neg_poly(float a) {
  const float ac = a < 87.0f ? a : 87.0f;
  constexpr float kShifter = 12583039.0f;  // 1.5 * 2^23 + 127
  const float t = ac * -1.44269504088896341f + kShifter;
  const float fn = t - kShifter;
  const float r = (-(fn * 0.693359375f) - ac) - fn * (-2.12194440e-4f);  // two-step ln2: exact n ln2
  float p = 8.297642693e-03f;
  p = p * r + 4.191538319e-02f;
  p = p * r + 1.666757464e-01f;
  p = p * r + 4.999889433e-01f;
  p = p * r + 9.999997020e-01f;
  p = p * r + 1.000000119e+00f;
  return p * __builtin_bit_cast(float, __builtin_bit_cast(int32_t, t) << 23);
}

// exp(x) for x <= 0 in float, relative error < 4 ulp; exactly 0 below -87 (exp underflows there).
inline float exp_nonpos_poly(float x) { return x > -87.0f ? exp_neg_poly(-x) : 0.0f; }

// log1p(e) for e in [0, 1] as e P(e), P a degree-6 minimax fit of log1p(e) / e: relative error < 1.3e-6
// (plus rounding, < 1.5e-6) over [0, 1], subnormal e included (it scales e, no cancellation near 0), no
// division. Degree 6 rather than 8 (2.1e-7): two operations less per pair, well inside the tiled
// surrogates' stated 1e-4 bound.
inline float log1p_unit_poly(float e) {
  float q = 1.414033212e-02f;
  q = q * e - 6.639975309e-02f;
  q = q * e + 1.492215991e-01f;
  q = q * e - 2.350374460e-01f;
  q = q * e + 3.310942352e-01f;
  q = q * e - 4.998696446e-01f;
  q = q * e + 9.999987483e-01f;
  return e * q;
}

// 1 / x for x in [1, 2^126] in float, relative error <= 1 ulp (2.5 half-ulps without FMA; checked over every
// 7th float of [1, 6.6e35]) on the FMA ports: a bit-trick seed (5.1e-2 relative) and three Newton steps
// (2.5e-3, 6.4e-6, then rounding). Where a loop is bound by the divider (one vdivps zmm per 16 lanes every
// few cycles), this is faster; where the FMA ports are the bound, the division is.
inline float reciprocal_newton(float x) {
  float y = __builtin_bit_cast(float, 0x7EF311C7 - __builtin_bit_cast(int32_t, x));
  y = y * (2.0f - x * y);
  y = y * (2.0f - x * y);
  return y * (2.0f - x * y);
}
#endif

// 1 / x for x >= 1 (see reciprocal_newton; double and the device divide).
TAUC_HD float reciprocal_ge1(float x) {
#if defined(__CUDA_ARCH__)
  return 1.0f / x;
#else
  return reciprocal_newton(x);
#endif
}
TAUC_HD double reciprocal_ge1(double x) { return 1.0 / x; }

// |x| as one bit operation (x < 0 ? -x : x is a compare and a select in vector code: it keeps -0).
TAUC_HD float abs_of(float x) {
#if defined(__CUDA_ARCH__)
  return fabsf(x);
#else
  return __builtin_fabsf(x);
#endif
}
TAUC_HD double abs_of(double x) { return fabs(x); }

TAUC_HD float exp_nonpos(float x) {
#if defined(__CUDA_ARCH__)
  return expf(x);
#else
  return exp_nonpos_poly(x);
#endif
}
TAUC_HD double exp_nonpos(double x) { return exp(x); }

// e^{-a} for a >= 0 (e^{-87} rather than 0 above a = 87 in float on the host, see exp_neg_poly).
TAUC_HD float exp_neg(float a) {
#if defined(__CUDA_ARCH__)
  return expf(-a);
#else
  return exp_neg_poly(a);
#endif
}
TAUC_HD double exp_neg(double a) { return exp(-a); }

TAUC_HD float log1p_unit(float e) {
#if defined(__CUDA_ARCH__)
  return log1pf(e);
#else
  return log1p_unit_poly(e);
#endif
}
TAUC_HD double log1p_unit(double e) { return log1p(e); }

// The logistic function's pieces at any v without overflow: e = e^{-|v|} in (0, 1] and inv = 1 / (1 + e), so
// sigmoid(v) = inv for v >= 0 and e inv below, and sigmoid'(v) = e inv^2 (no 1 - sigmoid cancellation). In
// host float e is e^{-87} ~ 1.6e-38 where the true value is smaller (exp_neg): an absolute error below 1.6e-38.
template <typename T>
struct SigmoidParts {
  T e, inv;
};
template <typename T>
TAUC_HD SigmoidParts<T> sigmoid_parts(T v) {
  const T e = exp_neg(abs_of(v));
  return {e, T(1) / (T(1) + e)};
}
template <typename T>
TAUC_HD T sigmoid_from_parts(T v, const SigmoidParts<T>& p) {
  return v >= T(0) ? p.inv : p.e * p.inv;
}

// softplus(v) = log(1 + e^v) = max(v, 0) + log1p(e^{-|v|}) and its derivative sigmoid(v), stable for any v (no
// overflow at v = 100, where log(1 + exp(v)) gives inf). Host float: log1p_unit's 1.5e-6 relative plus e's
// error above (absolute < 1.6e-38 where v < -87).
template <typename T>
TAUC_HD void softplus_sigmoid(T v, T* value, T* dvalue_dv) {
  const SigmoidParts<T> p = sigmoid_parts(v);
  *value = (v + abs_of(v)) * T(0.5) + log1p_unit(p.e);  // max(v, 0) exactly, without a compare and select
  *dvalue_dv = sigmoid_from_parts(v, p);
}

}  // namespace torchauc
