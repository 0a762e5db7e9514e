// Order-preserving integer keys for floating-point scores, for radix sorts on CPU and CUDA.
#pragma once
#include <cstdint>
#include <type_traits>

#include "core/macros.h"

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

// The key type and key of a float or double, and the inverse map (-0.0 comes back as +0.0).
template <typename K>
using sort_key_t = std::conditional_t<sizeof(K) == 4, uint32_t, uint64_t>;

template <typename K>
TAUC_HD sort_key_t<K> sort_key(K x) {
  if constexpr (sizeof(K) == 4)
    return float_sort_key(x);
  else
    return double_sort_key(x);
}

template <typename K>
inline K from_sort_key(sort_key_t<K> u) {
  using U = sort_key_t<K>;
  constexpr U sign = U(1) << (8 * sizeof(U) - 1);
  u = (u & sign) ? (u & ~sign) : ~u;
  K x;
  __builtin_memcpy(&x, &u, sizeof(u));
  return x;
}

}  // namespace torchauc
