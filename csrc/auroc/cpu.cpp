// CPU kernels of the exact AUROC metrics: every column of scores is radix-sorted once (integer keys
// that preserve the float order), then one pass over its tie groups accumulates the weighted
// Mann-Whitney counts U[j] = sum_{p in the positive group, q in group j} w_p w_q H(s_p - s_q)
// (ties 1/2). Binary and multilabel AUROC use groups {negative, positive}; multiclass (and pixel)
// AUROC uses the classes, which gives Hand & Till's pairwise A(i|j) and one-vs-rest from one table.
// Many columns: one column per task (at::parallel_for); one big column: parallel sort and walk.
#include <ATen/ATen.h>
#include <ATen/Parallel.h>
#include <torch/library.h>

#include <algorithm>
#include <atomic>
#include <cmath>
#include <limits>
#include <memory>
#include <vector>

#include "auroc/ap_terms.h"
#include "auroc/args.h"
#include "auroc/bucket_count.h"
#include "auroc/math.h"
#include "auroc/merge_count.h"
#include "auroc/multiclass_search.h"
#include "core/checks.h"
#include "core/labels.h"
#include "core/radix_sort.h"
#include "core/split_radix_sort.h"

namespace torchauc::auroc {
namespace {

constexpr uint32_t kIgnored = 0xFFFFFFFFu;
// From this many (N, C) columns on, the multiclass table reads a transposed copy of the scores.
constexpr int64_t kTransposeMinCols = 8;

// A column sorted by score. Float16/bfloat16/float32 scores: one uint64 per sample,
// (order key << 32) | payload, radix-sorted on the high 32 bits only (no payload array, no random
// access while sorting). Float64 scores ("wide"): 64-bit keys with a separate payload array.
// The payload is the sample's group code (unweighted) or its index (weighted).
struct SortedColumn {
  bool wide = false;
  int64_t n = 0;
  std::unique_ptr<uint64_t[]> a;  // uninitialised storage: every entry is written before use
  std::unique_ptr<uint32_t[]> pay;
  int64_t size() const { return n; }
  uint64_t key(int64_t i) const { return wide ? a[i] : (a[i] >> 32); }
  uint32_t payload(int64_t i) const { return wide ? pay[i] : static_cast<uint32_t>(a[i]); }
};

// Integer sort keys of the scores: key_at(offset) -> uint64 (< 2^32 unless wide), the keys of
// -inf and +inf (NaN keys sort beyond them).
struct ScoreKeys {
  bool wide;
  uint64_t kmin, kmax;
};

template <typename KeyFn, typename PayFn>
SortedColumn sort_column(int64_t n, const ScoreKeys& sk, const KeyFn& key_of, const PayFn& payload_of) {
  SortedColumn c;
  c.wide = sk.wide;
  c.n = n;
  c.a.reset(new uint64_t[n]);
  std::unique_ptr<uint64_t[]> tmp(new uint64_t[n]);
  if (sk.wide) {
    c.pay.reset(new uint32_t[n]);
    std::unique_ptr<uint32_t[]> ptmp(new uint32_t[n]);
    at::parallel_for(0, n, 1 << 15, [&](int64_t b, int64_t e) {
      for (int64_t i = b; i < e; ++i) {
        c.a[i] = key_of(i);
        c.pay[i] = payload_of(i);
      }
    });
    radix_sort(c.a.get(), c.pay.get(), tmp.get(), ptmp.get(), n, 0, 64);
  } else {
    at::parallel_for(0, n, 1 << 15, [&](int64_t b, int64_t e) {
      for (int64_t i = b; i < e; ++i) c.a[i] = (key_of(i) << 32) | payload_of(i);
    });
    radix_sort<uint64_t, NoPayload>(c.a.get(), nullptr, tmp.get(), nullptr, n, 32, 64);
  }
  TORCH_CHECK_VALUE(n == 0 || (c.key(0) >= sk.kmin && c.key(n - 1) <= sk.kmax), kNanScores);
  return c;
}

// Sorts one column whose sample i has sort key key_of(i) and group group_code(i) (-1: ignored),
// then calls body(column, group_of(payload), weight_of(payload)).
template <typename KeyFn, typename GroupFn, typename Body>
void with_sorted_column(int64_t n, const ScoreKeys& sk, const KeyFn& key_of, const GroupFn& group_code, const double* w,
                        const Body& body) {
  if (w == nullptr) {
    const SortedColumn col =
        sort_column(n, sk, key_of, [&](int64_t i) { return static_cast<uint32_t>(group_code(i)); });
    body(
        col, [](uint32_t p) -> int64_t { return p == kIgnored ? -1 : static_cast<int64_t>(p); },
        [](uint32_t) { return 1.0; });
  } else {
    TORCH_CHECK_VALUE(n < (int64_t(1) << 32),
                      "sample_weights: weighted AUROC on the CPU supports up to 2^32 - 1 samples, got ", n);
    const SortedColumn col = sort_column(n, sk, key_of, [](int64_t i) { return static_cast<uint32_t>(i); });
    body(
        col, [&](uint32_t p) -> int64_t { return group_code(static_cast<int64_t>(p)); },
        [w](uint32_t p) { return w[p]; });
  }
}

// Chunk boundaries of a sorted column that never split a tie group.
std::vector<int64_t> group_aligned_chunks(const SortedColumn& c, int64_t parts) {
  const int64_t n = c.size();
  std::vector<int64_t> b(parts + 1, n);
  b[0] = 0;
  for (int64_t t = 1; t < parts; ++t) {
    int64_t x = std::max(b[t - 1], n * t / parts);
    while (x > 0 && x < n && c.key(x) == c.key(x - 1)) ++x;
    b[t] = x;
  }
  return b;
}

// The tie-group walk of one sorted column: U[j] (j != pos) and the group totals W[j].
template <typename GroupFn, typename WeightFn>
void rank_table(const SortedColumn& c, int64_t G, int64_t pos, const GroupFn& group_of, const WeightFn& weight_of,
                double* U, double* W) {
  const int64_t n = c.size();
  const int64_t parts = (at::in_parallel_region() || n < (1 << 16)) ? 1 : at::get_num_threads();
  const std::vector<int64_t> b = group_aligned_chunks(c, parts);
  std::vector<double> chunk_pos(parts, 0.0), Ut(parts * G, 0.0), Wt(parts * G, 0.0);
  at::parallel_for(0, parts, 1, [&](int64_t tb, int64_t te) {
    for (int64_t t = tb; t < te; ++t) {
      double p = 0.0;
      for (int64_t i = b[t]; i < b[t + 1]; ++i) {
        const uint32_t s = c.payload(i);
        const int64_t g = group_of(s);
        if (g < 0) continue;
        const double w = weight_of(s);
        Wt[t * G + g] += w;
        if (g == pos) p += w;
      }
      chunk_pos[t] = p;
    }
  });
  double p_total = 0.0;
  std::vector<double> p_before(parts);
  for (int64_t t = 0; t < parts; ++t) {
    p_before[t] = p_total;
    p_total += chunk_pos[t];
  }
  at::parallel_for(0, parts, 1, [&](int64_t tb, int64_t te) {
    for (int64_t t = tb; t < te; ++t) {
      double below = p_before[t];
      double* u = Ut.data() + t * G;
      int64_t a = b[t];
      while (a < b[t + 1]) {
        const uint64_t ka = c.key(a);
        int64_t e = a + 1;
        double tie = group_of(c.payload(a)) == pos ? weight_of(c.payload(a)) : 0.0;
        for (; e < b[t + 1] && c.key(e) == ka; ++e) {
          if (group_of(c.payload(e)) == pos) tie += weight_of(c.payload(e));
        }
        const double above = p_total - below - tie;
        for (int64_t i = a; i < e; ++i) {
          const uint32_t s = c.payload(i);
          const int64_t g = group_of(s);
          if (g >= 0 && g != pos) u[g] += tie_group_pairs(weight_of(s), above, tie);
        }
        below += tie;
        a = e;
      }
    }
  });
  for (int64_t j = 0; j < G; ++j) {
    double us = 0.0, ws = 0.0;
    for (int64_t t = 0; t < parts; ++t) {
      us += Ut[t * G + j];
      ws += Wt[t * G + j];
    }
    U[j] = us;
    W[j] = ws;
  }
}

// Runs fn(k) for every column: one column per task when there are many, else the columns in turn
// with the parallel sort and walk inside.
template <typename Fn>
void for_each_column(int64_t K, int64_t n, const Fn& fn) {
  if (K > 1 && (K >= at::get_num_threads() || n < (1 << 17))) {
    at::parallel_for(0, K, 1, [&](int64_t kb, int64_t ke) {
      for (int64_t k = kb; k < ke; ++k) fn(k);
    });
  } else {
    for (int64_t k = 0; k < K; ++k) fn(k);
  }
}

// Calls fn(key_at, ScoreKeys) with key_at(offset) the integer sort key of element `offset` of the
// contiguous scores: float32 keys for float16/bfloat16/float32, float64 keys for float64.
template <typename Fn>
void with_score_keys(const at::Tensor& s, const Fn& fn) {
  if (s.scalar_type() == at::kDouble) {
    const double* p = s.data_ptr<double>();
    fn([p](int64_t off) -> uint64_t { return double_sort_key(p[off]); },
       ScoreKeys{true, double_sort_key(-std::numeric_limits<double>::infinity()),
                 double_sort_key(std::numeric_limits<double>::infinity())});
  } else {
    AT_DISPATCH_FLOATING_TYPES_AND2(at::kHalf, at::kBFloat16, s.scalar_type(), "auroc_keys", [&] {
      const scalar_t* p = s.data_ptr<scalar_t>();
      fn([p](int64_t off) -> uint64_t { return float_sort_key(static_cast<float>(p[off])); },
         ScoreKeys{false, float_sort_key(-std::numeric_limits<float>::infinity()),
                   float_sort_key(std::numeric_limits<float>::infinity())});
    });
  }
}

// ------------------------------------------------------------------ binary / multilabel
// scores (n,) or (n, L); labels of the same shape with values in {0, 1}; weights (n,).
// Returns (L, 3) float64: [U, W_pos, W_neg] per column.
// The binary ops' shared driver: checks, 0/1 labels, weights, then each column sorted once and
// handed to body(col, group_of, weight_of, row) with row = this column's 3 outputs. Returns (L, 3).
template <typename Body>
at::Tensor for_each_sorted_binary_column(const at::Tensor& scores_in, const at::Tensor& labels_in,
                                         const c10::optional<at::Tensor>& weights, const Body& body) {
  const BinaryColumns in = check_binary_columns(scores_in, labels_in);
  const at::Tensor y8 = binary_labels(in.labels).y;
  const at::Tensor w = weights_f64(weights, in.scores.select(1, 0), "sample_weights");
  const int8_t* y = y8.data_ptr<int8_t>();
  const double* wp = w.defined() ? w.data_ptr<double>() : nullptr;
  const int64_t n = in.n, L = in.cols;
  at::Tensor out = at::zeros({L, 3}, scores_in.options().dtype(at::kDouble));
  double* o = out.data_ptr<double>();
  with_score_keys(in.scores, [&](auto key_at, const ScoreKeys& sk) {
    for_each_column(L, n, [&](int64_t k) {
      with_sorted_column(
          n, sk, [&](int64_t i) { return key_at(i * L + k); }, [&](int64_t i) -> int64_t { return y[i * L + k]; }, wp,
          [&](const SortedColumn& col, auto group_of, auto weight_of) { body(col, group_of, weight_of, o + k * 3); });
    });
  });
  return out;
}

// From this many samples on (and below 2^31), an unweighted binary column is counted by key-range
// buckets (auroc/bucket_count.h) unless its keys crowd one 16-bit prefix.
constexpr int64_t kBucketMinSamples = 1 << 16;
bool use_buckets(int64_t n) { return n >= kBucketMinSamples && n < (int64_t(1) << 31); }

void set_row(double* row, double value, int64_t np, int64_t nn) {
  row[0] = value;
  row[1] = static_cast<double>(np);
  row[2] = static_cast<double>(nn);
}

bool keys_in_range(const BucketedCount& b, const ScoreKeys& sk) { return b.lo >= sk.kmin && b.hi <= sk.kmax; }

// The whole column split by class and radix-sorted (small columns, crowded prefixes). Its key range is
// checked with keys_in_range.
template <typename Item>
SplitSorted<uint32_t, NoPayload> split_sorted(int64_t n, const Item& item) {
  return split_radix_sort<uint32_t, NoPayload>(n, [&](int64_t i, uint32_t& k, NoPayload&) { return item(i, k); });
}

bool keys_in_range(const SplitSorted<uint32_t, NoPayload>& s, const ScoreKeys& sk) {
  for (int c = 0; c < 2; ++c) {
    const int64_t m = s.count[c];
    if (m > 0 && (s.keys[c][0] < sk.kmin || s.keys[c][m - 1] > sk.kmax)) return false;
  }
  return true;
}

// An unweighted column with float32 keys: the positives' and the negatives' keys are sorted apart
// (by buckets, or split_radix_sort: 4 bytes per sample through the sort, no label payload), then
// 2U = sum over negatives q of 2 #{p : k_p > k_q} + #{p : k_p == k_q} is counted exactly in int64
// by merging the two sorted runs (the same U as the tie-group walk, which is exact below 2^53).
// item(i, key) -> class as in bucket_count.h. Returns false (row untouched) when a score is NaN.
template <typename Item>
bool unweighted_auroc_row(int64_t n, const ScoreKeys& sk, const Item& item, double* row) {
  if (use_buckets(n)) {
    const BucketedCount b = bucketed_twice_u(n, item);
    if (b.done) {
      if (!keys_in_range(b, sk)) return false;
      set_row(row, 0.5 * static_cast<double>(b.sum), b.np, b.nn);
      return true;
    }
  }
  const auto s = split_sorted(n, item);
  if (!keys_in_range(s, sk)) return false;
  const uint32_t* P = s.keys[1];
  const uint32_t* N = s.keys[0];
  const int64_t np = s.count[1], nn = s.count[0];
  const int64_t parts = (at::in_parallel_region() || nn < (1 << 16)) ? 1 : at::get_num_threads();
  std::vector<int64_t> twice_u(parts, 0);
  at::parallel_for(0, parts, 1, [&](int64_t tb, int64_t te) {
    for (int64_t t = tb; t < te; ++t) {
      const int64_t jb = nn * t / parts, je = nn * (t + 1) / parts;
      twice_u[t] = 2 * np * (je - jb) - merged_counts(P, np, N, jb, je);  // 2 #{above} + #{tied} per negative
    }
  });
  int64_t total = 0;
  for (int64_t v : twice_u) total += v;
  set_row(row, 0.5 * static_cast<double>(total), np, nn);
  return true;
}

// Unweighted average precision of a column with float32 keys, equal to the tie-group walk
// (auroc_average_precision_cpu) bit for bit: the terms of the positives' tie groups
// (auroc/ap_terms.h) are formed per bucket in parallel, with the counts above each bucket, and then
// summed from the highest group down, the walk's order (the walk's groups without positives add 0).
template <typename Item>
bool unweighted_ap_row(int64_t n, const ScoreKeys& sk, const Item& item, double* row) {
  if (use_buckets(n)) {
    // Term of the group starting at a positive's slot, 0 at the group's other slots. There are at
    // most n positives; only their slots are written (and paged in).
    std::unique_ptr<double[]> terms(new double[n]);
    const BucketedCount b = for_each_sorted_bucket(n, item, [&](const SortedBucket& bucket) -> int64_t {
      double* t = terms.get() + bucket.begin[1];
      std::fill(t, t + bucket.m[1], 0.0);
      ap_terms_descending(bucket.sorted[1], bucket.m[1], bucket.sorted[0], bucket.m[0], bucket.above[1],
                          bucket.above[0], [t](int64_t a, double term) { t[a] = term; });
      return 0;
    });
    if (b.done) {
      if (!keys_in_range(b, sk)) return false;
      double sum = 0.0;
      for (int64_t i = b.np - 1; i >= 0; --i) sum += terms[i];
      set_row(row, sum, b.np, b.nn);
      return true;
    }
  }
  const auto s = split_sorted(n, item);
  if (!keys_in_range(s, sk)) return false;
  double sum = 0.0;
  ap_terms_descending(s.keys[1], s.count[1], s.keys[0], s.count[0], 0, 0,
                      [&sum](int64_t, double term) { sum += term; });
  set_row(row, sum, s.count[1], s.count[0]);
  return true;
}

// The unweighted float16/bfloat16/float32 binary ops' driver: row(n, score_keys, item, row) fills
// column k's 3 outputs from item(i, key) -> class (1: positive). Reads the labels in their own dtype
// inside the sort (no int8 copy); a value other than 0/1 only raises a flag, and binary_labels then
// names the first offending one. Returns (L, 3).
template <typename RowFn>
at::Tensor unweighted_binary_columns(const at::Tensor& scores_in, const at::Tensor& labels_in, const RowFn& row) {
  const BinaryColumns in = check_binary_columns(scores_in, labels_in);
  const int64_t n = in.n, L = in.cols;
  at::Tensor out = at::zeros({L, 3}, scores_in.options().dtype(at::kDouble));
  double* o = out.data_ptr<double>();
  std::atomic<bool> bad_label{false}, nan_score{false};
  AT_DISPATCH_ALL_TYPES_AND3(at::kBool, at::kHalf, at::kBFloat16, in.labels.scalar_type(), "auroc_labels", [&] {
    const scalar_t* y = in.labels.data_ptr<scalar_t>();
    with_score_keys(in.scores, [&](auto key_at, const ScoreKeys& sk) {
      for_each_column(L, n, [&](int64_t k) {
        auto item = [&](int64_t i, uint32_t& key) {
          key = static_cast<uint32_t>(key_at(i * L + k));
          const scalar_t v = y[i * L + k];
          if (v != scalar_t(0) && v != scalar_t(1)) [[unlikely]]
            bad_label.store(true, std::memory_order_relaxed);
          return v == scalar_t(1) ? 1 : 0;
        };
        if (!row(n, sk, item, o + k * 3)) nan_score.store(true);
      });
    });
  });
  if (bad_label.load()) binary_labels(in.labels);  // throws, naming the first bad label
  TORCH_CHECK_VALUE(!nan_score.load(), kNanScores);
  return out;
}

// Unweighted float64 scores keep 64-bit keys, so they go through the (key, payload) sort and walk.
bool takes_unweighted_path(const at::Tensor& scores, const c10::optional<at::Tensor>& weights) {
  return !(weights.has_value() && weights->defined()) && scores.scalar_type() != at::kDouble;
}

at::Tensor auroc_binary_stats_cpu(const at::Tensor& scores_in, const at::Tensor& labels_in,
                                  const c10::optional<at::Tensor>& weights) {
  if (takes_unweighted_path(scores_in, weights))
    return unweighted_binary_columns(scores_in, labels_in,
                                     [](int64_t n, const ScoreKeys& sk, const auto& item, double* row) {
                                       return unweighted_auroc_row(n, sk, item, row);
                                     });
  return for_each_sorted_binary_column(scores_in, labels_in, weights,
                                       [](const SortedColumn& col, auto group_of, auto weight_of, double* row) {
                                         double U[2], W[2];
                                         rank_table(col, 2, 1, group_of, weight_of, U, W);
                                         row[0] = U[0];
                                         row[1] = W[1];
                                         row[2] = W[0];
                                       });
}

// ------------------------------------------------------------------ multiclass / pixel
// Unweighted float16/bfloat16/float32 scores with many classes: each column's samples are located
// among its sorted positives (auroc/multiclass_search.h) instead of sorting the column.
bool multiclass_by_search(const MulticlassLayout& in, const int32_t* yc, double* U, double* W) {
  const int64_t n = in.n;
  std::vector<uint32_t> cls(n);  // ignored samples -> C
  for (int64_t i = 0; i < n; ++i) cls[i] = yc[i] < 0 ? static_cast<uint32_t>(in.C) : static_cast<uint32_t>(yc[i]);
  const auto run = [&](auto* scores) {
    return multiclass_counts_by_search(scores, in.B, in.C, in.M, cls.data(), U, W);
  };
  switch (in.scores.scalar_type()) {
    case at::kHalf: return run(in.scores.data_ptr<at::Half>());
    case at::kBFloat16: return run(in.scores.data_ptr<at::BFloat16>());
    default: return run(in.scores.data_ptr<float>());
  }
}

// scores (B, C, *) read in place, labels (B, *) class indices (ignore_index skipped), weights like
// labels. Returns U (C, C) with U[i][j] = sum_{p in i, q in j} w_p w_q H(s_{p,i} - s_{q,i})
// (diagonal 0) and W (C,) the class weight totals.
std::tuple<at::Tensor, at::Tensor> auroc_multiclass_stats_cpu(const at::Tensor& scores_in, const at::Tensor& labels_in,
                                                              const c10::optional<at::Tensor>& weights,
                                                              int64_t ignore_index) {
  const MulticlassLayout in = check_multiclass_layout(scores_in, labels_in);
  const int64_t C = in.C, M = in.M, n = in.n;
  const at::Tensor cls = class_labels(in.labels, C, ignore_index);
  const at::Tensor w = weights_f64(weights, in.labels, "sample_weights");
  const int32_t* yc = cls.data_ptr<int32_t>();
  const double* wp = w.defined() ? w.data_ptr<double>() : nullptr;
  at::Tensor U = at::zeros({C, C}, scores_in.options().dtype(at::kDouble));
  at::Tensor Wk = at::zeros({C, C}, U.options());
  double* u = U.data_ptr<double>();
  double* wk = Wk.data_ptr<double>();
  if (wp == nullptr && in.scores.scalar_type() != at::kDouble && C >= kSearchMinClasses &&
      n <= C * kSearchMaxMeanPositives && n < (int64_t(1) << 31)) {
    TORCH_CHECK_VALUE(multiclass_by_search(in, yc, u, wk), kNanScores);
    return {U, Wk.select(0, 0).clone()};
  }
  // (N, C) scores: each column is gathered with stride C, so one column read from memory costs a
  // cache line per sample; a transposed copy (one pass) makes every column contiguous.
  const bool transpose = M == 1 && C >= kTransposeMinCols && n >= (1 << 12);
  const at::Tensor by_column = transpose ? in.scores.view({n, C}).t().contiguous() : in.scores;
  with_score_keys(by_column, [&](auto key_at, const ScoreKeys& sk) {
    for_each_column(C, n, [&](int64_t k) {
      auto key_of = [&](int64_t i) {
        if (transpose) return key_at(k * n + i);
        if (M == 1) return key_at(i * C + k);
        const int64_t b = i / M;
        return key_at((b * C + k) * M + (i - b * M));
      };
      with_sorted_column(
          n, sk, key_of, [&](int64_t i) -> int64_t { return yc[i]; }, wp,
          [&](const SortedColumn& col, auto group_of, auto weight_of) {
            rank_table(col, C, k, group_of, weight_of, u + k * C, wk + k * C);
          });
    });
  });
  return {U, Wk.select(0, 0).clone()};
}

// ------------------------------------------------------------------ partial AUROC
// Sorts a binary column (scores in their own precision) and calls body(column, group_of, weight_of)
// with group 1 = positive, 0 = negative.
template <typename Body>
void sort_binary(const at::Tensor& scores_in, const at::Tensor& labels_in, const double* w, const at::Tensor& y8,
                 const Body& body) {
  const at::Tensor s = check_binary_scores(scores_in);
  const int8_t* y = y8.data_ptr<int8_t>();
  with_score_keys(s, [&](auto key_at, const ScoreKeys& sk) {
    with_sorted_column(s.numel(), sk, key_at, [&](int64_t i) -> int64_t { return y[i]; }, w, body);
  });
}

// Two-way partial AUC (the OPAUC/TPAUC metric of Yang et al., ICML 2021): keep the k+ = floor((1 - min_tpr) n+) lowest
// positives and the k- = floor(max_fpr n-) highest negatives, U on that subset (ties 1/2).
// Returns float64 (5,): [U_sub, k+, k-, n+, n-].
at::Tensor auroc_partial_stats_cpu(const at::Tensor& scores, const at::Tensor& labels, double max_fpr, double min_tpr) {
  check_partial_bounds(max_fpr, min_tpr, /*allow_empty=*/false);
  const at::Tensor s = check_binary_scores(scores);
  const BinaryLabels lab = binary_labels(check_binary_labels(labels, s));
  const at::Tensor& y8 = lab.y;
  const int64_t n = s.numel();
  const int64_t npos = lab.n_pos;
  const int64_t nneg = n - npos;
  const int64_t kpos = kept_count(1.0 - min_tpr, npos);
  const int64_t kneg = kept_count(max_fpr, nneg);
  double U = 0.0;
  sort_binary(s, labels, nullptr, y8, [&](const SortedColumn& c, auto group_of, auto) {
    // ascending: positive number r < k+ is kept; negative number r >= n- - k- is kept
    int64_t rpos = 0, rneg = 0;
    double kept_neg_below = 0.0;
    int64_t a = 0;
    while (a < n) {
      int64_t e = a;
      double kp = 0.0, kn = 0.0;
      for (; e < n && c.key(e) == c.key(a); ++e) {
        if (group_of(c.payload(e)) == 1) {
          kp += (rpos++ < kpos) ? 1.0 : 0.0;
        } else {
          kn += (rneg++ >= nneg - kneg) ? 1.0 : 0.0;
        }
      }
      U += kp * (kept_neg_below + 0.5 * kn);
      kept_neg_below += kn;
      a = e;
    }
  });
  // U counts kept (positive, negative) pairs with the positive above, ties 1/2: the rank sum of
  // the subset.
  at::Tensor out = at::empty({5}, scores.options().dtype(at::kDouble));
  double* o = out.data_ptr<double>();
  o[0] = U;
  o[1] = static_cast<double>(kpos);
  o[2] = static_cast<double>(kneg);
  o[3] = static_cast<double>(npos);
  o[4] = static_cast<double>(nneg);
  return out;
}

// One-way partial area under the (weighted) ROC curve over FPR in [0, max_fpr], the curve being
// linear inside tie groups and interpolated at max_fpr, as scikit-learn's roc_auc_score(max_fpr).
// Returns float64 (3,): [area, W_pos, W_neg] (area NaN when a class has zero weight).
at::Tensor auroc_partial_area_cpu(const at::Tensor& scores, const at::Tensor& labels,
                                  const c10::optional<at::Tensor>& weights, double max_fpr) {
  check_partial_bounds(max_fpr, 0.0, /*allow_empty=*/false);
  const at::Tensor s = check_binary_scores(scores);
  const at::Tensor y8 = binary_labels(check_binary_labels(labels, s)).y;
  const at::Tensor w = weights_f64(weights, s, "sample_weights");
  const double* wp = w.defined() ? w.data_ptr<double>() : nullptr;
  const int8_t* y = y8.data_ptr<int8_t>();
  const int64_t n = s.numel();
  double P = 0.0, N = 0.0;
  for (int64_t i = 0; i < n; ++i) (y[i] ? P : N) += wp ? wp[i] : 1.0;
  double area = 0.0;
  sort_binary(s, labels, wp, y8, [&](const SortedColumn& c, auto group_of, auto weight_of) {
    double tp = 0.0, fp = 0.0;
    int64_t e = n;  // descending over tie groups [a, e)
    while (e > 0 && P > 0 && N > 0 && fp / N < max_fpr) {
      int64_t a = e;
      double dtp = 0.0, dfp = 0.0;
      for (; a > 0 && c.key(a - 1) == c.key(e - 1); --a) {
        const uint32_t p = c.payload(a - 1);
        (group_of(p) == 1 ? dtp : dfp) += weight_of(p);
      }
      area += clipped_trapezoid(fp / N, tp / P, (fp + dfp) / N, (tp + dtp) / P, max_fpr);
      tp += dtp;
      fp += dfp;
      e = a;
    }
  });
  at::Tensor out = at::empty({3}, scores.options().dtype(at::kDouble));
  double* o = out.data_ptr<double>();
  o[0] = (P > 0 && N > 0) ? area : std::numeric_limits<double>::quiet_NaN();
  o[1] = P;
  o[2] = N;
  return out;
}

// Average precision per column (scikit-learn's average_precision_score): walk the tie groups from the
// highest score down, adding each group's d_tp * precision. Returns (L, 3) float64 [sum, W_pos, W_neg].
// Unweighted float16/bfloat16/float32 columns take the class-split sorts instead (unweighted_ap_row),
// with the same value bit for bit.
at::Tensor auroc_average_precision_cpu(const at::Tensor& scores_in, const at::Tensor& labels_in,
                                       const c10::optional<at::Tensor>& weights) {
  if (takes_unweighted_path(scores_in, weights))
    return unweighted_binary_columns(scores_in, labels_in,
                                     [](int64_t n, const ScoreKeys& sk, const auto& item, double* row) {
                                       return unweighted_ap_row(n, sk, item, row);
                                     });
  return for_each_sorted_binary_column(scores_in, labels_in, weights,
                                       [](const SortedColumn& c, auto group_of, auto weight_of, double* row) {
                                         double tp = 0.0, fp = 0.0, sum = 0.0;
                                         int64_t e = c.size();  // descending over tie groups [a, e)
                                         while (e > 0) {
                                           int64_t a = e;
                                           double dtp = 0.0;
                                           for (; a > 0 && c.key(a - 1) == c.key(e - 1); --a) {
                                             const uint32_t p = c.payload(a - 1);
                                             (group_of(p) == 1 ? dtp : fp) += weight_of(p);
                                           }
                                           tp += dtp;
                                           sum += ap_step(dtp, tp, fp);
                                           e = a;
                                         }
                                         row[0] = sum;
                                         row[1] = tp;
                                         row[2] = fp;
                                       });
}

}  // namespace

TORCH_LIBRARY_IMPL(torchauc, CPU, m) {
  m.impl("auroc_average_precision", &auroc_average_precision_cpu);
  m.impl("auroc_binary_stats", &auroc_binary_stats_cpu);
  m.impl("auroc_multiclass_stats", &auroc_multiclass_stats_cpu);
  m.impl("auroc_partial_stats", &auroc_partial_stats_cpu);
  m.impl("auroc_partial_area", &auroc_partial_area_cpu);
}

}  // namespace torchauc::auroc
