// cudasim shadow of <cuda_bf16.h>: __nv_bfloat16 as the upper 16 bits of a float with bit-exact
// conversions (round to nearest even, NaN -> 0x7fff as CUDA's __float2bfloat16). Only the
// conversions the kernels use; no bfloat16 arithmetic.
#pragma once
#include <cstdint>
#include <cstring>

struct __nv_bfloat16 {
  uint16_t __x;
  __nv_bfloat16() = default;
  __nv_bfloat16(float f);
  operator float() const;
};

inline float __bfloat162float(__nv_bfloat16 h) {
  const uint32_t bits = uint32_t(h.__x) << 16;
  float f;
  std::memcpy(&f, &bits, 4);
  return f;
}
inline __nv_bfloat16 __float2bfloat16_rn(float f) {
  uint32_t x;
  std::memcpy(&x, &f, 4);
  __nv_bfloat16 h;
  if ((x & 0x7fffffffu) > 0x7f800000u)
    h.__x = 0x7fff;
  else
    h.__x = uint16_t((x + 0x7fffu + ((x >> 16) & 1u)) >> 16);
  return h;
}
inline __nv_bfloat16 __float2bfloat16(float f) { return __float2bfloat16_rn(f); }
inline __nv_bfloat16::__nv_bfloat16(float f) : __x(__float2bfloat16_rn(f).__x) {}
inline __nv_bfloat16::operator float() const { return __bfloat162float(*this); }
