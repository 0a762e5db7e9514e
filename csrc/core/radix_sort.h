// Stable parallel LSD radix sort on the CPU. kBits-bit digits: 8 (256 buckets keep the scatter's
// write streams in cache) for large arrays, 11 (fewer passes) for arrays that fit in cache. Each pass: per-chunk digit
// histograms, one prefix over (digit, chunk), a stable parallel scatter. Only the bits [begin_bit, end_bit) of the key
// are sorted, so a key can carry a payload in its low bits; passes whose digit is equal for every key are skipped.
// Inside an enclosing at::parallel_for region it runs on one thread.
#pragma once
#include <ATen/Parallel.h>

#include <algorithm>
#include <cstdint>
#include <utility>
#include <vector>

#include "core/sort_keys.h"

namespace torchauc {

struct NoPayload {};

template <int kBits, typename K, typename V>
void radix_sort_bits(K* keys, V* vals, K* keys_tmp, V* vals_tmp, int64_t n, int begin_bit, int end_bit) {
  constexpr int kBuckets = 1 << kBits;
  constexpr bool kHasVals = !std::is_same_v<V, NoPayload>;
  const int passes = (end_bit - begin_bit + kBits - 1) / kBits;
  if (n <= 1 || passes <= 0) return;
  int64_t T = (at::in_parallel_region() || n < (1 << 16)) ? 1 : std::max<int64_t>(1, at::get_num_threads());
  T = std::min<int64_t>(T, (n + 4095) / 4096);
  const int64_t chunk = (n + T - 1) / T;
  auto digit = [&](K k, int p) { return static_cast<int>((k >> (begin_bit + p * kBits)) & (kBuckets - 1)); };

  // One read for the digit histograms of all passes (valid per chunk until the data moves).
  std::vector<int64_t> hist(static_cast<size_t>(T) * passes * kBuckets, 0);
  at::parallel_for(0, T, 1, [&](int64_t tb, int64_t te) {
    for (int64_t t = tb; t < te; ++t) {
      int64_t* h = hist.data() + t * passes * kBuckets;
      const int64_t e = std::min(n, (t + 1) * chunk);
      for (int64_t i = t * chunk; i < e; ++i) {
        const K k = keys[i];
        for (int p = 0; p < passes; ++p) ++h[p * kBuckets + digit(k, p)];
      }
    }
  });
  std::vector<int64_t> offs(static_cast<size_t>(T) * kBuckets);
  K *src_k = keys, *dst_k = keys_tmp;
  V *src_v = vals, *dst_v = vals_tmp;
  bool moved = false;
  for (int p = 0; p < passes; ++p) {
    bool trivial = false;
    for (int d = 0; d < kBuckets; ++d) {
      int64_t tot = 0;
      for (int64_t t = 0; t < T; ++t) tot += hist[(t * passes + p) * kBuckets + d];
      if (tot != 0) {
        trivial = tot == n;
        break;
      }
    }
    if (trivial) continue;
    if (moved && T > 1) {  // one chunk: its histogram is that of the whole array, unchanged by moves
      at::parallel_for(0, T, 1, [&](int64_t tb, int64_t te) {
        for (int64_t t = tb; t < te; ++t) {
          int64_t* h = hist.data() + (t * passes + p) * kBuckets;
          std::fill(h, h + kBuckets, 0);
          const int64_t e = std::min(n, (t + 1) * chunk);
          for (int64_t i = t * chunk; i < e; ++i) ++h[digit(src_k[i], p)];
        }
      });
    }
    int64_t run = 0;
    for (int d = 0; d < kBuckets; ++d) {
      for (int64_t t = 0; t < T; ++t) {
        offs[t * kBuckets + d] = run;
        run += hist[(t * passes + p) * kBuckets + d];
      }
    }
    at::parallel_for(0, T, 1, [&](int64_t tb, int64_t te) {
      for (int64_t t = tb; t < te; ++t) {
        int64_t* o = offs.data() + t * kBuckets;
        const int64_t e = std::min(n, (t + 1) * chunk);
        for (int64_t i = t * chunk; i < e; ++i) {
          const K k = src_k[i];
          const int64_t pos = o[digit(k, p)]++;
          dst_k[pos] = k;
          if constexpr (kHasVals) dst_v[pos] = src_v[i];
        }
      }
    });
    std::swap(src_k, dst_k);
    if constexpr (kHasVals) std::swap(src_v, dst_v);
    moved = true;
  }
  if (src_k != keys) {
    at::parallel_for(0, n, 1 << 16, [&](int64_t b, int64_t e) {
      std::copy(src_k + b, src_k + e, keys + b);
      if constexpr (kHasVals) std::copy(src_v + b, src_v + e, vals + b);
    });
  }
}

// Sorts by bits [begin_bit, end_bit) of the keys, stable; vals (may be NoPayload) follow the keys.
template <typename K, typename V>
void radix_sort(K* keys, V* vals, K* keys_tmp, V* vals_tmp, int64_t n, int begin_bit, int end_bit) {
  if (n <= (int64_t(1) << 18)) {
    radix_sort_bits<11>(keys, vals, keys_tmp, vals_tmp, n, begin_bit, end_bit);
  } else {
    radix_sort_bits<8>(keys, vals, keys_tmp, vals_tmp, n, begin_bit, end_bit);
  }
}

// Convenience for float/double scores: sorts keys ascending in place (stable) and permutes idx
// alongside. NaN must be excluded by the caller; -0.0 comes back as +0.0.
template <typename K>
void radix_sort_pairs(std::vector<K>& keys, std::vector<int64_t>& idx) {
  using U = sort_key_t<K>;
  const int64_t n = static_cast<int64_t>(keys.size());
  std::vector<U> enc(n), enc_tmp(n);
  std::vector<int64_t> idx_tmp(n);
  for (int64_t r = 0; r < n; ++r) enc[r] = sort_key(keys[r]);
  radix_sort(enc.data(), idx.data(), enc_tmp.data(), idx_tmp.data(), n, 0, 8 * static_cast<int>(sizeof(U)));
  for (int64_t r = 0; r < n; ++r) keys[r] = from_sort_key<K>(enc[r]);
}

}  // namespace torchauc
