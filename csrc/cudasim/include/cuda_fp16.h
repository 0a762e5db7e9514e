// cudasim shadow of <cuda_fp16.h>: __half as IEEE binary16 bits with bit-exact conversions
// (round to nearest even, NaN -> 0x7fff as CUDA's __float2half). Emulates only the conversions
// the kernels use; no half arithmetic, no half2.
#pragma once
#include <cstdint>
#include <cstring>

struct __half {
  uint16_t __x;
  __half() = default;
  __half(float f);
  operator float() const;
};

inline float __half2float(__half h) {
  const uint32_t sign = uint32_t(h.__x & 0x8000u) << 16;
  uint32_t exp = (h.__x >> 10) & 0x1fu, man = h.__x & 0x3ffu, bits;
  if (exp == 0x1f) {
    bits = sign | 0x7f800000u | (man << 13);  // inf / NaN
  } else if (exp != 0) {
    bits = sign | ((exp + 112) << 23) | (man << 13);
  } else if (man == 0) {
    bits = sign;
  } else {  // subnormal: normalise
    int e = -1;
    do {
      ++e;
      man <<= 1;
    } while ((man & 0x400u) == 0);
    bits = sign | (uint32_t(112 - e) << 23) | ((man & 0x3ffu) << 13);
  }
  float f;
  std::memcpy(&f, &bits, 4);
  return f;
}

inline __half __float2half_rn(float f) {
  uint32_t x;
  std::memcpy(&x, &f, 4);
  const uint16_t sign = uint16_t((x >> 16) & 0x8000u);
  const uint32_t ax = x & 0x7fffffffu;
  __half h;
  if (ax > 0x7f800000u) {
    h.__x = 0x7fff;  // NaN
  } else if (ax >= 0x477ff000u) {
    h.__x = sign | 0x7c00u;               // rounds to infinity (or is infinity)
  } else if (ax >= 0x38800000u) {         // normal half: drop 13 bits, round to nearest even
    const uint32_t r = ax - 0x38000000u;  // rebias the exponent (127 - 15 = 112 -> << 23)
    const uint32_t base = r >> 13, rem = r & 0x1fffu;
    h.__x = uint16_t(sign | (base + (rem > 0x1000u || (rem == 0x1000u && (base & 1u)))));
  } else if (ax > 0x33000000u) {  // subnormal half
    const uint32_t e = ax >> 23, man = (ax & 0x7fffffu) | 0x800000u;
    const uint32_t shift = 126 - e;  // 14 - (e - 127) + ... : value = man * 2^(e - 150), unit 2^-24
    const uint32_t base = man >> shift, rem = man & ((1u << shift) - 1), half = 1u << (shift - 1);
    h.__x = uint16_t(sign | (base + (rem > half || (rem == half && (base & 1u)))));
  } else {
    h.__x = sign;  // rounds to zero
  }
  return h;
}
inline __half __float2half(float f) { return __float2half_rn(f); }
inline __half::__half(float f) : __x(__float2half_rn(f).__x) {}
inline __half::operator float() const { return __half2float(*this); }
