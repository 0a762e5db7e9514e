// Key-range buckets (CPU, uint32 keys, two classes): instead of radix-sorting each class's n keys in
// three passes through memory, one read counts the keys' 16-bit prefixes per class, consecutive
// prefixes are grouped into buckets of at most ~8K keys, one scatter writes each class's keys into
// its buckets, and every bucket is then sorted in cache and handed to a per-bucket count. Every key of
// a higher bucket is above every key of a lower one, so a count over the whole sorted order is a sum
// of per-bucket counts given the keys above the bucket. Unweighted binary AUROC:
//   2U = sum over buckets b [2 nn_b * (positives above b) + 2 np_b nn_b - merged_counts(P_b, N_b)],
// counted exactly in int64 (the same U as the full sort and merge); average precision takes its
// tie-group terms per bucket the same way (auroc/ap_terms.h).
#pragma once
#include <ATen/Parallel.h>

#include <algorithm>
#include <cstdint>
#include <limits>
#include <memory>
#include <vector>

#include "auroc/merge_count.h"
#include "core/radix_sort.h"

namespace torchauc::auroc {

constexpr int kPrefixBits = 16;
constexpr int64_t kPrefixes = int64_t(1) << kPrefixBits;
// Bucket size: at least kBucketMinKeys, and at most ~kMaxRangeBuckets buckets (each class's scatter then
// writes to at most ~2 kMaxRangeBuckets streams, as an 11-bit radix pass does).
constexpr int64_t kBucketMinKeys = 1 << 13;
constexpr int64_t kMaxRangeBuckets = 1 << 10;
// A bucket larger than this (one 16-bit prefix holding many keys: heavy ties, a narrow range) would
// be sorted outside the cache on one thread; the caller then takes the full split sort instead.
constexpr int64_t kBucketMaxKeys = 1 << 18;
constexpr int kLocalDigitBits = 11;

// Sorts a[0, m) ascending, every key in [lo, hi]; LSD passes over the bits of key - lo only, with
// tmp[0, m) as the second buffer. Returns the buffer that holds the result.
inline uint32_t* sort_in_cache(uint32_t* a, uint32_t* tmp, int64_t m, uint32_t lo, uint32_t hi) {
  if (m < 2 || lo == hi) return a;
  if (m < 256) {
    std::sort(a, a + m);
    return a;
  }
  const int bits = 32 - __builtin_clz(hi - lo);
  const int passes = (bits + kLocalDigitBits - 1) / kLocalDigitBits;
  const int width = (bits + passes - 1) / passes;
  const uint32_t mask = (uint32_t(1) << width) - 1;
  uint32_t hist[3][1 << kLocalDigitBits];
  for (int p = 0; p < passes; ++p) std::fill(hist[p], hist[p] + (mask + 1), 0u);
  for (int64_t i = 0; i < m; ++i) {
    const uint32_t d = a[i] - lo;
    for (int p = 0; p < passes; ++p) ++hist[p][(d >> (p * width)) & mask];
  }
  uint32_t *src = a, *dst = tmp;
  for (int p = 0; p < passes; ++p) {
    uint32_t run = 0;
    for (uint32_t d = 0; d <= mask; ++d) {
      const uint32_t c = hist[p][d];
      hist[p][d] = run;
      run += c;
    }
    uint32_t* pos = hist[p];
    const int shift = p * width;
    for (int64_t i = 0; i < m; ++i) {
      const uint32_t k = src[i];
      dst[pos[((k - lo) >> shift) & mask]++] = k;
    }
    std::swap(src, dst);
  }
  return src;
}

// sum: the per-bucket counts' total; np, nn: the positives and negatives.
struct BucketedCount {
  bool done = false;  // false: a bucket would be too large (nothing else is set)
  int64_t sum = 0, np = 0, nn = 0;
  uint32_t lo = std::numeric_limits<uint32_t>::max(), hi = 0;  // the smallest and largest key
};

// One bucket, sorted: class c's keys sorted[c][0, m[c]) ascending, above[c] keys of class c in
// higher buckets, begin[c] the bucket's offset in class c's bucket-major array (0: negative, 1: positive).
struct SortedBucket {
  const uint32_t* sorted[2];
  int64_t m[2], above[2], begin[2];
};

// item(i, key) stores sample i's key and returns its class (1: positive); called twice per sample,
// it must return the same both times. count(const SortedBucket&) -> int64_t runs once per bucket,
// concurrently for different buckets; the results are summed (exactly) into `sum`.
template <typename Item, typename CountFn>
BucketedCount for_each_sorted_bucket(int64_t n, const Item& item, const CountFn& count) {
  BucketedCount out;
  int64_t T = (at::in_parallel_region() || n < (1 << 16)) ? 1 : std::max<int64_t>(1, at::get_num_threads());
  T = std::max<int64_t>(1, std::min<int64_t>(T, (n + 4095) / 4096));
  const int64_t chunk = (n + T - 1) / T;

  // Prefix histogram per (chunk, class).
  std::vector<uint32_t> hist(static_cast<size_t>(T) * 2 * kPrefixes, 0);
  at::parallel_for(0, T, 1, [&](int64_t tb, int64_t te) {
    for (int64_t t = tb; t < te; ++t) {
      uint32_t* h[2] = {hist.data() + (t * 2) * kPrefixes, hist.data() + (t * 2 + 1) * kPrefixes};
      const int64_t e = std::min(n, (t + 1) * chunk);
      for (int64_t i = t * chunk; i < e; ++i) {
        uint32_t k;
        const int c = item(i, k);
        ++h[c][k >> (32 - kPrefixBits)];
      }
    }
  });

  // Consecutive prefixes grouped into buckets of about `target` keys.
  const int64_t target = std::max(kBucketMinKeys, (n + kMaxRangeBuckets - 1) / kMaxRangeBuckets);
  std::vector<uint16_t> bucket_of(kPrefixes, 0);
  std::vector<int64_t> tot(kPrefixes, 0);
  for (int64_t t = 0; t < 2 * T; ++t)
    for (int64_t p = 0; p < kPrefixes; ++p) tot[p] += hist[t * kPrefixes + p];
  int64_t nb = 0, cur = 0;
  for (int64_t p = 0; p < kPrefixes; ++p) {
    if (tot[p] > kBucketMaxKeys) return out;
    if (tot[p] == 0) continue;
    if (nb == 0 || cur + tot[p] > target) {
      ++nb;
      cur = 0;
    }
    bucket_of[p] = static_cast<uint16_t>(nb - 1);
    cur += tot[p];
    if (cur > kBucketMaxKeys) return out;
  }

  // Slots: class c's array is bucket-major, chunk-minor.
  std::vector<int64_t> offs(static_cast<size_t>(T) * 2 * nb, 0), first[2];
  for (int64_t t = 0; t < T; ++t)
    for (int c = 0; c < 2; ++c)
      for (int64_t p = 0; p < kPrefixes; ++p)
        offs[(t * 2 + c) * nb + bucket_of[p]] += hist[(t * 2 + c) * kPrefixes + p];
  std::unique_ptr<uint32_t[]> keys[2];
  for (int c = 0; c < 2; ++c) {
    first[c].assign(nb + 1, 0);
    int64_t run = 0;
    for (int64_t b = 0; b < nb; ++b) {
      first[c][b] = run;
      for (int64_t t = 0; t < T; ++t) {
        const int64_t cnt = offs[(t * 2 + c) * nb + b];
        offs[(t * 2 + c) * nb + b] = run;
        run += cnt;
      }
    }
    first[c][nb] = run;
    keys[c].reset(new uint32_t[std::max<int64_t>(run, 1)]);
  }
  out.np = first[1][nb];
  out.nn = first[0][nb];

  at::parallel_for(0, T, 1, [&](int64_t tb, int64_t te) {
    for (int64_t t = tb; t < te; ++t) {
      int64_t* o[2] = {offs.data() + (t * 2) * nb, offs.data() + (t * 2 + 1) * nb};
      uint32_t* dst[2] = {keys[0].get(), keys[1].get()};
      const int64_t e = std::min(n, (t + 1) * chunk);
      for (int64_t i = t * chunk; i < e; ++i) {
        uint32_t k;
        const int c = item(i, k);
        dst[c][o[c][bucket_of[k >> (32 - kPrefixBits)]]++] = k;
      }
    }
  });

  // Buckets sorted and counted in cache; the threads take runs of buckets holding about n / T keys.
  std::vector<int64_t> split(T + 1, nb);
  split[0] = 0;
  for (int64_t b = 0, t = 1; b < nb && t < T; ++b)
    if (first[0][b + 1] + first[1][b + 1] >= n * t / T) split[t++] = b + 1;
  std::vector<BucketedCount> part(T);
  at::parallel_for(0, T, 1, [&](int64_t tb, int64_t te) {
    for (int64_t t = tb; t < te; ++t) {
      BucketedCount& r = part[t];
      int64_t largest = 1;
      for (int64_t b = split[t]; b < split[t + 1]; ++b)
        for (int c = 0; c < 2; ++c) largest = std::max(largest, first[c][b + 1] - first[c][b]);
      std::unique_ptr<uint32_t[]> tmp(new uint32_t[2 * largest]);
      for (int64_t b = split[t]; b < split[t + 1]; ++b) {
        SortedBucket bucket;
        for (int c = 0; c < 2; ++c) {
          uint32_t* a = keys[c].get() + first[c][b];
          bucket.m[c] = first[c][b + 1] - first[c][b];
          bucket.begin[c] = first[c][b];
          bucket.above[c] = first[c][nb] - first[c][b + 1];
          uint32_t lo = std::numeric_limits<uint32_t>::max(), hi = 0;
          for (int64_t i = 0; i < bucket.m[c]; ++i) {
            lo = std::min(lo, a[i]);
            hi = std::max(hi, a[i]);
          }
          r.lo = std::min(r.lo, lo);
          r.hi = std::max(r.hi, hi);
          bucket.sorted[c] = sort_in_cache(a, tmp.get() + c * largest, bucket.m[c], lo, hi);
        }
        r.sum += count(bucket);
      }
    }
  });
  for (const BucketedCount& r : part) {
    out.sum += r.sum;
    out.lo = std::min(out.lo, r.lo);
    out.hi = std::max(out.hi, r.hi);
  }
  out.done = true;
  return out;
}

// 2U of unweighted binary AUROC (see the top of this file); BucketedCount::sum holds it.
template <typename Item>
BucketedCount bucketed_twice_u(int64_t n, const Item& item) {
  return for_each_sorted_bucket(n, item, [](const SortedBucket& b) {
    int64_t twice_u = 2 * b.m[0] * b.above[1];  // the positives in higher buckets
    if (b.m[0] > 0 && b.m[1] > 0)
      twice_u += 2 * b.m[1] * b.m[0] - merged_counts(b.sorted[1], b.m[1], b.sorted[0], 0, b.m[0]);
    return twice_u;
  });
}

}  // namespace torchauc::auroc
