// Splits items into two classes and radix-sorts each class's keys (stable LSD, payload optional),
// with the split fused into the sort: one read of the input yields every pass's digit histograms
// per class, and the first non-trivial pass scatters straight from the input (key transform, class
// split and first digit in one write). The remaining passes run on each class's array, and the
// result stays in whichever buffer the last pass wrote (no copy back). Binary AUROC and the hinge
// losses sort their positives and negatives this way: no label or index travels through the sort
// unless the caller asks for a payload.
#pragma once
#include <ATen/Parallel.h>

#include <algorithm>
#include <cstdint>
#include <memory>
#include <type_traits>
#include <vector>

#include "core/radix_sort.h"

namespace torchauc {

// 11-bit digits (3 passes over 32-bit keys) at every size: measured against 8-bit digits (4 passes)
// at n = 2^23 on the 2-core Xeon, 2 threads, the AUROC op took 175 / 168 ms against 209 / 239 ms.
constexpr int kSplitSortBits = 11;

template <typename K, typename V>
struct SplitSorted {
  int64_t count[2] = {0, 0};
  const K* keys[2] = {nullptr, nullptr};  // class c's keys, ascending
  const V* vals[2] = {nullptr, nullptr};  // their payloads (null for NoPayload)
  std::unique_ptr<K[]> key_buf[2][2];
  std::unique_ptr<V[]> val_buf[2][2];
};

namespace detail {

// The chunk (of T, `chunk` items each) that holds slot `pos`.
inline int64_t chunk_of(int64_t pos, int64_t T, int64_t chunk) {
  return T == 1 ? 0 : T == 2 ? static_cast<int64_t>(pos >= chunk) : pos / chunk;
}

// item(i, key, val) stores item i's key (and payload) and returns its class, 0 or 1; it is called
// twice per item (histograms, then scatter) and must return the same both times. Each scatter also
// counts the next pass's digits per destination chunk, so no pass re-reads its input to count.
template <int kBits, typename K, typename V, typename Item>
void split_radix_sort_bits(SplitSorted<K, V>& out, int64_t n, const Item& item) {
  constexpr int kKeyBits = 8 * static_cast<int>(sizeof(K));
  constexpr int kBuckets = 1 << kBits;
  constexpr int kPasses = (kKeyBits + kBits - 1) / kBits;
  constexpr bool kHasVals = !std::is_same_v<V, NoPayload>;
  int64_t T = (at::in_parallel_region() || n < (1 << 16)) ? 1 : std::max<int64_t>(1, at::get_num_threads());
  T = std::max<int64_t>(1, std::min<int64_t>(T, (n + 4095) / 4096));
  const int64_t chunk = (n + T - 1) / T;
  auto digit = [](K k, int p) { return static_cast<int>((k >> (p * kBits)) & (kBuckets - 1)); };
  auto hist_at = [&](std::vector<int64_t>& h, int64_t t, int c, int p) {
    return h.data() + ((t * 2 + c) * kPasses + p) * kBuckets;
  };

  // Every pass's digit histogram per (input chunk, class), from one read of the input.
  std::vector<int64_t> hist(static_cast<size_t>(T) * 2 * kPasses * kBuckets, 0);
  at::parallel_for(0, T, 1, [&](int64_t tb, int64_t te) {
    for (int64_t t = tb; t < te; ++t) {
      int64_t* h[2] = {hist_at(hist, t, 0, 0), hist_at(hist, t, 1, 0)};
      const int64_t e = std::min(n, (t + 1) * chunk);
      for (int64_t i = t * chunk; i < e; ++i) {
        K k;
        V v;
        int64_t* hc = h[item(i, k, v)];
        for (int p = 0; p < kPasses; ++p) ++hc[p * kBuckets + digit(k, p)];
      }
    }
  });

  // Per class: its size, its passes whose digit differs between keys (the others are skipped), and
  // the first of them (-1: none, the scatter only splits).
  bool active[2][kPasses];
  int first[2];
  int64_t cchunk[2];
  for (int c = 0; c < 2; ++c) {
    int64_t cnt = 0;
    for (int64_t t = 0; t < T; ++t)
      for (int d = 0; d < kBuckets; ++d) cnt += hist_at(hist, t, c, 0)[d];
    out.count[c] = cnt;
    cchunk[c] = std::max<int64_t>(1, (cnt + T - 1) / T);
    first[c] = -1;
    for (int p = 0; p < kPasses; ++p) {
      active[c][p] = false;
      for (int d = 0; d < kBuckets && cnt > 0; ++d) {
        int64_t tot = 0;
        for (int64_t t = 0; t < T; ++t) tot += hist_at(hist, t, c, p)[d];
        if (tot != 0) {
          active[c][p] = tot != cnt;
          break;
        }
      }
      if (active[c][p] && first[c] < 0) first[c] = p;
    }
    for (int b = 0; b < 2; ++b) {
      out.key_buf[c][b].reset(new K[std::max<int64_t>(cnt, 1)]);
      if constexpr (kHasVals) out.val_buf[c][b].reset(new V[std::max<int64_t>(cnt, 1)]);
    }
  }
  auto next_active = [&](int c, int p) {
    for (int q = p + 1; q < kPasses; ++q)
      if (active[c][q]) return q;
    return -1;
  };

  // The fused pass: slots of (input chunk, class, digit), then the scatter from the input.
  std::vector<int64_t> offs(static_cast<size_t>(T) * 2 * kBuckets, 0);
  int shift[2], nxt_pass[2];
  K mask[2];
  for (int c = 0; c < 2; ++c) {
    const int p = first[c];
    shift[c] = p < 0 ? 0 : p * kBits;
    mask[c] = p < 0 ? K(0) : K(kBuckets - 1);
    nxt_pass[c] = p < 0 ? -1 : next_active(c, p);
    int64_t run = 0;
    for (int d = 0; d < (p < 0 ? 1 : kBuckets); ++d) {
      for (int64_t t = 0; t < T; ++t) {
        offs[(t * 2 + c) * kBuckets + d] = run;
        if (p >= 0) {
          run += hist_at(hist, t, c, p)[d];
        } else {
          for (int e = 0; e < kBuckets; ++e) run += hist_at(hist, t, c, 0)[e];
        }
      }
    }
  }
  // next[c][(src chunk * T + dst chunk) * kBuckets + digit]: the next pass's per-chunk histograms
  std::vector<int64_t> next[2];
  for (int c = 0; c < 2; ++c) next[c].assign(static_cast<size_t>(T) * T * kBuckets, 0);
  K* dst_k[2] = {out.key_buf[0][0].get(), out.key_buf[1][0].get()};
  V* dst_v[2] = {out.val_buf[0][0].get(), out.val_buf[1][0].get()};
  at::parallel_for(0, T, 1, [&](int64_t tb, int64_t te) {
    for (int64_t t = tb; t < te; ++t) {
      int64_t* o[2] = {offs.data() + (t * 2) * kBuckets, offs.data() + (t * 2 + 1) * kBuckets};
      int64_t* h[2] = {next[0].data() + t * T * kBuckets, next[1].data() + t * T * kBuckets};
      const int64_t e = std::min(n, (t + 1) * chunk);
      for (int64_t i = t * chunk; i < e; ++i) {
        K k;
        V v;
        const int c = item(i, k, v);
        const int64_t slot = o[c][static_cast<int>((k >> shift[c]) & mask[c])]++;
        dst_k[c][slot] = k;
        if constexpr (kHasVals) dst_v[c][slot] = v;
        if (nxt_pass[c] >= 0) ++h[c][chunk_of(slot, T, cchunk[c]) * kBuckets + digit(k, nxt_pass[c])];
      }
    }
  });

  // The remaining active passes of each class, chunk t of its array scattered by thread t.
  std::vector<int64_t> next2(static_cast<size_t>(T) * T * kBuckets), o2(static_cast<size_t>(T) * kBuckets);
  for (int c = 0; c < 2; ++c) {
    int cur = 0;
    const int64_t m = out.count[c], ch = cchunk[c];
    for (int p = nxt_pass[c]; p >= 0; p = next_active(c, p)) {
      const int after = next_active(c, p);
      int64_t run = 0;
      for (int d = 0; d < kBuckets; ++d) {
        for (int64_t t = 0; t < T; ++t) {
          o2[t * kBuckets + d] = run;
          for (int64_t src = 0; src < T; ++src) run += next[c][(src * T + t) * kBuckets + d];
        }
      }
      std::fill(next2.begin(), next2.end(), 0);
      const K* sk = out.key_buf[c][cur].get();
      const V* sv = out.val_buf[c][cur].get();
      K* dk = out.key_buf[c][1 - cur].get();
      V* dv = out.val_buf[c][1 - cur].get();
      at::parallel_for(0, T, 1, [&](int64_t tb, int64_t te) {
        for (int64_t t = tb; t < te; ++t) {
          int64_t* o = o2.data() + t * kBuckets;
          int64_t* h = next2.data() + t * T * kBuckets;
          const int64_t e = std::min(m, (t + 1) * ch);
          for (int64_t i = t * ch; i < e; ++i) {
            const K k = sk[i];
            const int64_t slot = o[digit(k, p)]++;
            dk[slot] = k;
            if constexpr (kHasVals) dv[slot] = sv[i];
            if (after >= 0) ++h[chunk_of(slot, T, ch) * kBuckets + digit(k, after)];
          }
        }
      });
      next[c].swap(next2);
      cur = 1 - cur;
    }
    out.keys[c] = out.key_buf[c][cur].get();
    out.vals[c] = out.val_buf[c][cur].get();
  }
}

}  // namespace detail

// Sorts each class's keys ascending (stable); see detail::split_radix_sort_bits for `item`.
template <typename K, typename V, typename Item>
SplitSorted<K, V> split_radix_sort(int64_t n, const Item& item) {
  SplitSorted<K, V> out;
  detail::split_radix_sort_bits<kSplitSortBits>(out, n, item);
  return out;
}

}  // namespace torchauc
