// Multiclass AUROC counts by search (CPU, unweighted float16/bfloat16/float32 scores, many classes).
// Column k only needs, for every sample q of another class, #{p in class k : k_p < k_q} +
// #{p in class k : k_p <= k_q}. The ~n/C positives of a column are bucketed by key
// (PositiveTable); every sample of the column then reads its count from the table without a
// data-dependent branch in the common case, and the same pass checks the keys for NaN. The counts
// are int64, so 2U is exact and U equals the tie-group walk's bit for bit. (N, C) scores are first
// transposed into uint32 keys in one pass over row tiles (the key conversion fused with the copy);
// (B, C, *spatial) columns are read in place.
#pragma once
#include <ATen/Parallel.h>

#include <algorithm>
#include <atomic>
#include <cstdint>
#include <limits>
#include <memory>
#include <vector>

#include "core/sort_keys.h"

namespace torchauc::auroc {

// The search path is taken from this many classes on ...
constexpr int64_t kSearchMinClasses = 16;
// ... and at most this many positives per class on average (their table stays in L1/L2).
constexpr int64_t kSearchMaxMeanPositives = 1 << 14;

// The sort key of a float16/bfloat16/float32 score, and the range of a set of keys.
template <typename scalar_t>
uint32_t score_key(scalar_t v) {
  return float_sort_key(static_cast<float>(v));
}

struct KeyRange {
  uint32_t lo = std::numeric_limits<uint32_t>::max(), hi = 0;
  void add(uint32_t q) {
    lo = std::min(lo, q);
    hi = std::max(hi, q);
  }
  bool has_nan() const {  // NaN keys lie beyond those of -inf and +inf
    return lo < float_sort_key(-std::numeric_limits<float>::infinity()) ||
           hi > float_sort_key(std::numeric_limits<float>::infinity());
  }
};

// One column's positives, bucketed by the high bits of key - min over [min, max] (8 to 16 buckets
// per positive, at most 2^16). A bucket is 8 bytes: 2 s, with s the number of positives in the
// buckets below, and its positive's key when it holds exactly one (a sentinel above every valid key
// when it holds none). Keys of later buckets lie above every sample of this one, so a sample q of
// the bucket has #{P < q} + #{P <= q} = 2 s + [key < q] + [key <= q], without a data-dependent
// branch. A bucket of two or more positives is marked by the low bit of 2 s and binary-searched
// among its sorted keys. A sample outside [min, max] lands in the first or the last bucket. At 655
// positives the table is 64 KiB: 4 buckets per positive (32 KiB, in L1) put 3x more samples in
// crowded buckets, whose branch mispredicts, and measured slower. Up to 2^16 buckets (512 KiB, in
// L2): clustered keys (logits of both signs leave most of the key range empty) need many buckets to
// keep the occupied ones sparse.
class PositiveTable {
 public:
  // Buckets the np positives' keys, key_of(t) for t < np (np = 0: every count is 0).
  template <typename KeyOf>
  void build(int64_t np, const KeyOf& key_of) {
    if (np == 0) {
      base_ = span_ = 0;
      shift_ = 0;
      table_.assign(2, Bucket{0, kSentinel});
      return;
    }
    keys_.resize(np);
    KeyRange range;
    for (int64_t t = 0; t < np; ++t) {
      keys_[t] = key_of(t);
      range.add(keys_[t]);
    }
    base_ = range.lo;
    span_ = range.hi - range.lo;
    int64_t buckets = 2;
    while (buckets < kBucketsPerPositive * np && buckets < kMaxBuckets) buckets <<= 1;
    shift_ = 0;  // at most 31: span_ >> 31 <= 1 < buckets
    while ((span_ >> shift_) >= buckets) ++shift_;
    const int64_t used = (span_ >> shift_) + 1;
    table_.assign(used + 1, Bucket{0, kSentinel});  // and one past the last bucket
    for (const uint32_t k : keys_) {
      Bucket& b = table_[(k - base_) >> shift_];
      ++b.twice_below;  // the bucket's count for now
      b.key = k;
    }
    uint32_t below = 0;
    for (int64_t b = 0; b <= used; ++b) {
      const uint32_t m = table_[b].twice_below;
      table_[b] = m > 1 ? Bucket{2 * below | 1u, 0} : Bucket{2 * below, table_[b].key};  // key: a cursor below
      below += m;
    }
    // Only crowded buckets read keys_: theirs go to [s, e) (their key field counts them in), sorted.
    crowded_keys_.resize(np);
    for (const uint32_t k : keys_) {
      Bucket& b = table_[(k - base_) >> shift_];
      if (b.twice_below & 1u) crowded_keys_[(b.twice_below >> 1) + b.key++] = k;
    }
    for (int64_t b = 0; b < used; ++b) {
      if (table_[b].twice_below & 1u) {
        uint32_t* first = crowded_keys_.data() + (table_[b].twice_below >> 1);
        std::sort(first, first + table_[b].key);
      }
    }
  }

  // acc[cls[i]] += #{P < q} + #{P <= q} with q = key_of(i), for i < m; range takes every q.
  template <typename KeyOf>
  void add_counts(int64_t m, const KeyOf& key_of, const uint32_t* cls, int64_t* acc, KeyRange& range) const {
    const Bucket* table = table_.data();  // locals: acc's stores alias no loop state
    const uint32_t base = base_, span = span_;
    const int shift = shift_;
    KeyRange r = range;
    for (int64_t i = 0; i < m; ++i) {
      const uint32_t q = key_of(i);
      r.add(q);
      uint32_t d = (q - base) & (0u - static_cast<uint32_t>(q >= base));  // 0 below base, no branch
      d = d < span ? d : span;
      const Bucket& b = table[d >> shift];
      uint32_t c;
      if (b.twice_below & 1u) [[unlikely]] {
        c = crowded(q, b.twice_below >> 1, (&b)[1].twice_below >> 1);
      } else {
        c = b.twice_below + static_cast<uint32_t>(b.key < q) + (b.key <= q);
      }
      acc[cls[i]] += c;
    }
    range = r;
  }

 private:
  struct Bucket {
    uint32_t twice_below;  // 2 #{positives in lower buckets}, | 1 when this bucket holds two or more
    uint32_t key;          // the bucket's one positive, or kSentinel
  };
  uint32_t crowded(uint32_t q, uint32_t s, uint32_t e) const {
    const uint32_t* keys = crowded_keys_.data();
    const uint32_t* lo = std::lower_bound(keys + s, keys + e, q);
    return static_cast<uint32_t>((lo - keys) + (std::upper_bound(lo, keys + e, q) - keys));
  }
  // Valid keys stop at the key of +inf (0xFF800000); only a NaN (rejected) reaches the sentinel.
  static constexpr uint32_t kSentinel = std::numeric_limits<uint32_t>::max();
  static constexpr int64_t kBucketsPerPositive = 8;
  static constexpr int64_t kMaxBuckets = 1 << 16;
  std::vector<uint32_t> keys_;          // the positives, in no order
  std::vector<uint32_t> crowded_keys_;  // [s, e) of a crowded bucket: its keys, ascending
  std::vector<Bucket> table_;           // one per bucket, then one holding 2 np
  uint32_t base_ = 0, span_ = 0;
  int shift_ = 0;
};

// (N, C) scores as column-major keys, out[k * n + i] = key of scores[i * C + k], in tiles of 64 rows
// (25 KiB of scores at C = 100, read once from memory and then from L1, one column at a time).
template <typename scalar_t>
void transposed_keys(const scalar_t* scores, int64_t n, int64_t C, uint32_t* out) {
  constexpr int64_t kRows = 64;
  at::parallel_for(0, (n + kRows - 1) / kRows, 1, [&](int64_t tb, int64_t te) {
    for (int64_t t = tb; t < te; ++t) {
      const int64_t i0 = t * kRows, m = std::min(kRows, n - i0);
      const scalar_t* src = scores + i0 * C;
      for (int64_t k = 0; k < C; ++k) {
        uint32_t* dst = out + k * n + i0;
        for (int64_t r = 0; r < m; ++r) dst[r] = score_key(src[r * C + k]);
      }
    }
  });
}

// Fills U (C, C) row-major and W (C,) as auroc_multiclass_stats does: U[k][j] = #{(p, q) : p in class
// k, q in class j, s_{p,k} > s_{q,k}} (ties 1/2), W[j] = #{class j}. Scores read as (B, C, M): sample
// i = b * M + m, column k at element (b * C + k) * M + m. cls[i] in [0, C] (C: ignored);
// n = B * M < 2^31. Returns false when a score is NaN.
template <typename scalar_t>
bool multiclass_counts_by_search(const scalar_t* scores, int64_t B, int64_t C, int64_t M, const uint32_t* cls,
                                 double* U, double* W) {
  const int64_t n = B * M;
  // class c's samples: members[first[c], first[c + 1])
  std::vector<int64_t> first(C + 2, 0);
  for (int64_t i = 0; i < n; ++i) ++first[cls[i] + 1];
  for (int64_t c = 0; c <= C; ++c) first[c + 1] += first[c];
  std::vector<uint32_t> members(n);
  {
    std::vector<int64_t> next(first.begin(), first.end() - 1);
    for (int64_t i = 0; i < n; ++i) members[next[cls[i]]++] = static_cast<uint32_t>(i);
  }
  for (int64_t j = 0; j < C; ++j) W[j] = static_cast<double>(first[j + 1] - first[j]);
  // (N, C): the columns of a transposed key copy (the size of the scores); else read in place.
  std::unique_ptr<uint32_t[]> keys;
  if (M == 1) {
    keys.reset(new uint32_t[n * C]);
    transposed_keys(scores, n, C, keys.get());
  }
  const auto key_at = [&](int64_t k, int64_t i) -> uint32_t {
    if (M == 1) return keys[k * n + i];
    const int64_t b = i / M;
    return score_key(scores[(b * C + k) * M + (i - b * M)]);
  };
  std::atomic<bool> nan{false};
  at::parallel_for(0, C, 1, [&](int64_t kb, int64_t ke) {
    PositiveTable table;
    std::vector<int64_t> acc(C + 1);
    for (int64_t k = kb; k < ke; ++k) {
      const int64_t np = first[k + 1] - first[k];
      table.build(np, [&](int64_t t) { return key_at(k, members[first[k] + t]); });
      std::fill(acc.begin(), acc.end(), 0);
      KeyRange range;  // every key is checked for NaN here
      if (M == 1) {
        const uint32_t* col = keys.get() + k * n;
        table.add_counts(n, [col](int64_t i) { return col[i]; }, cls, acc.data(), range);
      } else {
        for (int64_t b = 0; b < B; ++b) {
          const scalar_t* plane = scores + (b * C + k) * M;
          table.add_counts(M, [plane](int64_t m) { return score_key(plane[m]); }, cls + b * M, acc.data(), range);
        }
      }
      if (range.has_nan()) nan.store(true, std::memory_order_relaxed);
      double* u = U + k * C;
      for (int64_t j = 0; j < C; ++j) {  // 2 #{above} + #{tied} = 2 np - (#{below} + #{below or tied})
        const int64_t nj = first[j + 1] - first[j];
        if (j != k) u[j] = 0.5 * static_cast<double>(2 * np * nj - acc[j]);
      }
    }
  });
  return !nan.load();
}

}  // namespace torchauc::auroc
