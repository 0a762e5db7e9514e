// Order-preserving integer keys for floating-point scores, for radix sorts on CPU and CUDA.
#pragma once
#include <cstdint>
#include "common/macros.h"

namespace torchauc {

// Order-preserving map float -> uint32 (a < b <=> key(a) < key(b); -0.0 and +0.0 map to the same key
// because the caller adds 0.0f first). NaN is rejected before sorting.
TAUC_HD uint32_t float_sort_key(float f) {
  f = f + 0.0f;  // -0.0 -> +0.0
  uint32_t u;
#if defined(__CUDA_ARCH__)
  u = __float_as_uint(f);
#else
  __builtin_memcpy(&u, &f, sizeof(u));
#endif
  return (u & 0x80000000u) ? ~u : (u | 0x80000000u);
}

TAUC_HD uint64_t double_sort_key(double d) {
  d = d + 0.0;
  uint64_t u;
#if defined(__CUDA_ARCH__)
  u = static_cast<uint64_t>(__double_as_longlong(d));
#else
  __builtin_memcpy(&u, &d, sizeof(u));
#endif
  return (u & 0x8000000000000000ull) ? ~u : (u | 0x8000000000000000ull);
}

}  // namespace torchauc
