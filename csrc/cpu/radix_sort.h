// Stable parallel LSD radix sort of (unsigned key, value) pairs on the CPU, 11-bit digits.
// Each pass: per-chunk digit histograms, one prefix over (digit, chunk), a stable parallel scatter.
// Passes whose digit is equal for every key are skipped (common for float keys in a narrow range).
// Inside an enclosing at::parallel_for region it runs on one thread.
#pragma once
#include <ATen/Parallel.h>

#include <algorithm>
#include <cstdint>
#include <utility>
#include <vector>

namespace torchauc {

template <typename K, typename V>
void radix_sort_pairs(K* keys, V* vals, K* keys_tmp, V* vals_tmp, int64_t n) {
  constexpr int kBits = 11;
  constexpr int kBuckets = 1 << kBits;
  constexpr int kPasses = (static_cast<int>(sizeof(K)) * 8 + kBits - 1) / kBits;
  if (n <= 1) return;
  int64_t T = (at::in_parallel_region() || n < (1 << 16)) ? 1 : std::max<int64_t>(1, at::get_num_threads());
  T = std::min<int64_t>(T, (n + 4095) / 4096);
  const int64_t chunk = (n + T - 1) / T;

  // One read for the digit histograms of all passes: which passes can be skipped.
  std::vector<int64_t> all(static_cast<size_t>(T) * kPasses * kBuckets, 0);
  at::parallel_for(0, T, 1, [&](int64_t tb, int64_t te) {
    for (int64_t t = tb; t < te; ++t) {
      int64_t* h = all.data() + t * kPasses * kBuckets;
      const int64_t e = std::min(n, (t + 1) * chunk);
      for (int64_t i = t * chunk; i < e; ++i) {
        const K k = keys[i];
        for (int p = 0; p < kPasses; ++p) ++h[p * kBuckets + ((k >> (p * kBits)) & (kBuckets - 1))];
      }
    }
  });
  std::vector<int64_t> offs(static_cast<size_t>(T) * kBuckets);
  K* src_k = keys;
  V* src_v = vals;
  K* dst_k = keys_tmp;
  V* dst_v = vals_tmp;
  bool moved = false;  // the one-read counts describe the chunks until a pass moves the data
  for (int p = 0; p < kPasses; ++p) {
    const int shift = p * kBits;
    // skip when one bucket holds every key
    bool trivial = false;
    for (int d = 0; d < kBuckets && !trivial; ++d) {
      int64_t tot = 0;
      for (int64_t t = 0; t < T; ++t) tot += all[(t * kPasses + p) * kBuckets + d];
      if (tot == n) trivial = true;
      if (tot != 0) break;
    }
    if (trivial) continue;
    if (moved) {
      // per-chunk histograms of the current layout
      at::parallel_for(0, T, 1, [&](int64_t tb, int64_t te) {
        for (int64_t t = tb; t < te; ++t) {
          int64_t* h = all.data() + (t * kPasses + p) * kBuckets;
          std::fill(h, h + kBuckets, 0);
          const int64_t e = std::min(n, (t + 1) * chunk);
          for (int64_t i = t * chunk; i < e; ++i) ++h[(src_k[i] >> shift) & (kBuckets - 1)];
        }
      });
    }
    int64_t run = 0;
    for (int d = 0; d < kBuckets; ++d) {
      for (int64_t t = 0; t < T; ++t) {
        offs[t * kBuckets + d] = run;
        run += all[(t * kPasses + p) * kBuckets + d];
      }
    }
    at::parallel_for(0, T, 1, [&](int64_t tb, int64_t te) {
      for (int64_t t = tb; t < te; ++t) {
        int64_t* o = offs.data() + t * kBuckets;
        const int64_t e = std::min(n, (t + 1) * chunk);
        for (int64_t i = t * chunk; i < e; ++i) {
          const K k = src_k[i];
          const int64_t pos = o[(k >> shift) & (kBuckets - 1)]++;
          dst_k[pos] = k;
          dst_v[pos] = src_v[i];
        }
      }
    });
    std::swap(src_k, dst_k);
    std::swap(src_v, dst_v);
    moved = true;
  }
  if (src_k != keys) {
    at::parallel_for(0, n, 1 << 16, [&](int64_t b, int64_t e) {
      std::copy(src_k + b, src_k + e, keys + b);
      std::copy(src_v + b, src_v + e, vals + b);
    });
  }
}

}  // namespace torchauc
