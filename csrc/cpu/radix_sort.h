// LSD radix sort of floating-point keys with an int64 payload (the source index), for the CPU
// kernels that need sorted scores. Keys are mapped to order-preserving unsigned integers (sign bit
// flipped for positives, all bits for negatives), sorted one byte per pass, and mapped back.
// Passes whose byte is the same for every key are skipped. NaN keys must be excluded by the caller.
#pragma once
#include <array>
#include <cstdint>
#include <cstring>
#include <type_traits>
#include <vector>

namespace torchauc {

template <typename K>
using radix_uint_t = std::conditional_t<sizeof(K) == 4, uint32_t, uint64_t>;

template <typename K>
inline radix_uint_t<K> radix_encode(K key) {
  using U = radix_uint_t<K>;
  U u;
  std::memcpy(&u, &key, sizeof(u));
  constexpr U sign = U(1) << (8 * sizeof(U) - 1);
  return (u & sign) ? ~u : (u | sign);
}

template <typename K>
inline K radix_decode(radix_uint_t<K> u) {
  using U = radix_uint_t<K>;
  constexpr U sign = U(1) << (8 * sizeof(U) - 1);
  u = (u & sign) ? (u & ~sign) : ~u;
  K key;
  std::memcpy(&key, &u, sizeof(u));
  return key;
}

// Sorts keys ascending in place and permutes idx alongside (stable).
template <typename K>
void radix_sort_pairs(std::vector<K>& keys, std::vector<int64_t>& idx) {
  using U = radix_uint_t<K>;
  constexpr int kPasses = sizeof(U);
  const size_t n = keys.size();
  if (n < 2) return;
  std::vector<U> a(n), b(n);
  std::vector<int64_t> ia(std::move(idx)), ib(n);
  std::vector<std::array<size_t, 256>> hist(kPasses);
  for (auto& h : hist) h.fill(0);
  for (size_t i = 0; i < n; ++i) {
    const U u = radix_encode(keys[i]);
    a[i] = u;
    for (int p = 0; p < kPasses; ++p) ++hist[p][(u >> (8 * p)) & 0xFF];
  }
  for (int p = 0; p < kPasses; ++p) {
    auto& h = hist[p];
    if (h[(a[0] >> (8 * p)) & 0xFF] == n) continue;  // every key has this byte: nothing to do
    size_t offset = 0;
    for (auto& c : h) {
      const size_t count = c;
      c = offset;
      offset += count;
    }
    for (size_t i = 0; i < n; ++i) {
      const size_t dst = h[(a[i] >> (8 * p)) & 0xFF]++;
      b[dst] = a[i];
      ib[dst] = ia[i];
    }
    a.swap(b);
    ia.swap(ib);
  }
  for (size_t i = 0; i < n; ++i) keys[i] = radix_decode<K>(a[i]);
  idx = std::move(ia);
}

}  // namespace torchauc
