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
#include <vector>

#include "checks.h"
#include "common/auc_metric_math.h"
#include "auc_metric_args.h"
#include "cpu/class_labels.h"
#include "cpu/labels.h"
#include "cpu/radix_sort.h"

namespace torchauc {
namespace {

template <typename Key>
struct SortedColumn {
  std::vector<Key> keys;
  std::vector<int64_t> idx;  // original sample index of each sorted position
};

// Sorts the n keys key_of(i) (ascending) with their sample indices. Rejects NaN (sorted keys of NaN
// lie beyond the keys of +-inf).
template <typename Key, typename KeyFn>
SortedColumn<Key> sort_column(int64_t n, const KeyFn& key_of, Key key_neg_inf, Key key_pos_inf,
                              const char* name) {
  SortedColumn<Key> c;
  c.keys.resize(n);
  c.idx.resize(n);
  std::vector<Key> tk(n);
  std::vector<int64_t> ti(n);
  at::parallel_for(0, n, 1 << 15, [&](int64_t b, int64_t e) {
    for (int64_t i = b; i < e; ++i) {
      c.keys[i] = key_of(i);
      c.idx[i] = i;
    }
  });
  radix_sort_pairs(c.keys.data(), c.idx.data(), tk.data(), ti.data(), n);
  TORCH_CHECK_VALUE(n == 0 || (c.keys[0] >= key_neg_inf && c.keys[n - 1] <= key_pos_inf), name,
                    " contains NaN; AUROC is undefined for NaN scores");
  return c;
}

// Chunk boundaries of a sorted column that never split a tie group.
template <typename Key>
std::vector<int64_t> group_aligned_chunks(const std::vector<Key>& keys, int64_t parts) {
  const int64_t n = static_cast<int64_t>(keys.size());
  std::vector<int64_t> b(parts + 1, n);
  b[0] = 0;
  for (int64_t t = 1; t < parts; ++t) {
    int64_t x = std::max(b[t - 1], n * t / parts);
    while (x > 0 && x < n && keys[x] == keys[x - 1]) ++x;
    b[t] = x;
  }
  return b;
}

// The tie-group walk of one sorted column: U[j] (j != pos) and the group totals W[j].
// group_of(i) in [0, G) or -1 (ignored), weight_of(i) >= 0, both on original sample indices.
template <typename Key, typename GroupFn, typename WeightFn>
void rank_table(const SortedColumn<Key>& c, int64_t G, int64_t pos, const GroupFn& group_of,
                const WeightFn& weight_of, double* U, double* W) {
  const int64_t n = static_cast<int64_t>(c.keys.size());
  const int64_t parts = (at::in_parallel_region() || n < (1 << 16)) ? 1 : at::get_num_threads();
  const std::vector<int64_t> b = group_aligned_chunks(c.keys, parts);
  std::vector<double> chunk_pos(parts, 0.0), Ut(parts * G, 0.0), Wt(parts * G, 0.0);
  at::parallel_for(0, parts, 1, [&](int64_t tb, int64_t te) {
    for (int64_t t = tb; t < te; ++t) {
      double p = 0.0;
      for (int64_t i = b[t]; i < b[t + 1]; ++i) {
        const int64_t s = c.idx[i];
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
        int64_t e = a + 1;
        while (e < b[t + 1] && c.keys[e] == c.keys[a]) ++e;
        double tie = 0.0;
        for (int64_t i = a; i < e; ++i) {
          const int64_t s = c.idx[i];
          if (group_of(s) == pos) tie += weight_of(s);
        }
        const double above = p_total - below - tie;
        for (int64_t i = a; i < e; ++i) {
          const int64_t s = c.idx[i];
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

// Calls fn(key_of, neg_inf_key, pos_inf_key, Key{}) with the integer sort key of element `off` of
// the scores: float32 keys for float16/bfloat16/float32, float64 keys for float64.
template <typename Fn>
void with_score_keys(const at::Tensor& s, const Fn& fn) {
  if (s.scalar_type() == at::kDouble) {
    const double* p = s.data_ptr<double>();
    fn([p](int64_t off) { return double_sort_key(p[off]); },
       double_sort_key(-std::numeric_limits<double>::infinity()),
       double_sort_key(std::numeric_limits<double>::infinity()));
  } else {
    AT_DISPATCH_FLOATING_TYPES_AND2(at::kHalf, at::kBFloat16, s.scalar_type(), "auroc_keys", [&] {
      const scalar_t* p = s.data_ptr<scalar_t>();
      fn([p](int64_t off) { return float_sort_key(static_cast<float>(p[off])); },
         float_sort_key(-std::numeric_limits<float>::infinity()),
         float_sort_key(std::numeric_limits<float>::infinity()));
    });
  }
}

at::Tensor weights_f64(const c10::optional<at::Tensor>& w, const at::Tensor& like, const char* name) {
  auto t = check_sample_weights(w, like, name);
  if (!t) return at::Tensor();
  at::Tensor d = t->to(at::kDouble).contiguous();
  TORCH_CHECK_VALUE(!(d < 0).any().item<bool>() && !d.isnan().any().item<bool>(), name,
                    " must be non-negative and not NaN");
  return d;
}

// ------------------------------------------------------------------ binary / multilabel
// scores (n,) or (n, L); labels of the same shape with values in {0, 1}; weights (n,).
// Returns (L, 3) float64: [U, W_pos, W_neg] per column.
at::Tensor auroc_binary_stats_cpu(const at::Tensor& scores_in, const at::Tensor& labels_in,
                                  const c10::optional<at::Tensor>& weights) {
  const BinaryColumns in = check_binary_columns(scores_in, labels_in);
  const at::Tensor y8 = binary_labels_cpu(in.labels.reshape({-1}), "labels");
  const at::Tensor w = weights_f64(weights, in.scores.select(1, 0), "sample_weights");
  const int8_t* y = y8.data_ptr<int8_t>();
  const double* wp = w.defined() ? w.data_ptr<double>() : nullptr;
  const int64_t n = in.n, L = in.cols;
  at::Tensor out = at::zeros({L, 3}, scores_in.options().dtype(at::kDouble));
  double* o = out.data_ptr<double>();
  with_score_keys(in.scores, [&](auto key_at, auto kmin, auto kmax) {
    using Key = decltype(kmin);
    for_each_column(L, n, [&](int64_t k) {
      auto col = sort_column<Key>(n, [&](int64_t i) { return key_at(i * L + k); }, kmin, kmax, "scores");
      double U[2], W[2];
      rank_table(
          col, 2, 1, [&](int64_t i) -> int64_t { return y[i * L + k]; },
          [&](int64_t i) { return wp ? wp[i] : 1.0; }, U, W);
      o[k * 3 + 0] = U[0];
      o[k * 3 + 1] = W[1];
      o[k * 3 + 2] = W[0];
    });
  });
  return out;
}

// ------------------------------------------------------------------ multiclass / pixel
// scores (B, C, *) read in place, labels (B, *) class indices (ignore_index skipped), weights like
// labels. Returns U (C, C) with U[i][j] = sum_{p in i, q in j} w_p w_q H(s_{p,i} - s_{q,i})
// (diagonal 0) and W (C,) the class weight totals.
std::tuple<at::Tensor, at::Tensor> auroc_multiclass_stats_cpu(const at::Tensor& scores_in,
                                                             const at::Tensor& labels_in,
                                                             const c10::optional<at::Tensor>& weights,
                                                             int64_t ignore_index) {
  const MulticlassLayout in = check_multiclass_layout(scores_in, labels_in);
  const int64_t C = in.C, M = in.M, n = in.n;
  const at::Tensor cls = class_labels_cpu(in.labels, C, ignore_index, "labels");
  const at::Tensor w = weights_f64(weights, in.labels, "sample_weights");
  const int32_t* yc = cls.data_ptr<int32_t>();
  const double* wp = w.defined() ? w.data_ptr<double>() : nullptr;
  at::Tensor U = at::zeros({C, C}, scores_in.options().dtype(at::kDouble));
  at::Tensor Wk = at::zeros({C, C}, U.options());
  double* u = U.data_ptr<double>();
  double* wk = Wk.data_ptr<double>();
  with_score_keys(in.scores, [&](auto key_at, auto kmin, auto kmax) {
    using Key = decltype(kmin);
    for_each_column(C, n, [&](int64_t k) {
      auto key_of = [&](int64_t i) {
        if (M == 1) return key_at(i * C + k);
        const int64_t b = i / M;
        return key_at((b * C + k) * M + (i - b * M));
      };
      auto col = sort_column<Key>(n, key_of, kmin, kmax, "scores");
      rank_table(
          col, C, k, [&](int64_t i) -> int64_t { return yc[i]; },
          [&](int64_t i) { return wp ? wp[i] : 1.0; }, u + k * C, wk + k * C);
    });
  });
  return {U, Wk.select(0, 0).clone()};
}

// ------------------------------------------------------------------ partial AUROC
// Sorted binary column with labels and the class counts.
struct BinarySorted {
  SortedColumn<uint64_t> col;  // float64 keys: partial AUROC is one column, precision first
  at::Tensor y8;
};

BinarySorted sort_binary(const at::Tensor& scores_in, const at::Tensor& labels_in) {
  const at::Tensor s = check_binary_scores(scores_in).to(at::kDouble).contiguous();
  const at::Tensor l = check_binary_labels(labels_in, s);
  BinarySorted out{{}, binary_labels_cpu(l, "labels")};
  const double* p = s.data_ptr<double>();
  out.col = sort_column<uint64_t>(
      s.numel(), [p](int64_t i) { return double_sort_key(p[i]); },
      double_sort_key(-std::numeric_limits<double>::infinity()),
      double_sort_key(std::numeric_limits<double>::infinity()), "scores");
  return out;
}

// Two-way partial AUC (spec/methods.md section 3): keep the k+ = floor((1 - min_tpr) n+) lowest
// positives and the k- = floor(max_fpr n-) highest negatives, U on that subset (ties 1/2).
// Returns float64 (5,): [U_sub, k+, k-, n+, n-].
at::Tensor partial_auroc_stats_cpu(const at::Tensor& scores, const at::Tensor& labels, double max_fpr,
                                   double min_tpr) {
  check_partial_bounds(max_fpr, min_tpr);
  const BinarySorted bs = sort_binary(scores, labels);
  const int8_t* y = bs.y8.data_ptr<int8_t>();
  const auto& keys = bs.col.keys;
  const auto& idx = bs.col.idx;
  const int64_t n = static_cast<int64_t>(keys.size());
  int64_t npos = 0;
  for (int64_t i = 0; i < n; ++i) npos += y[i];
  const int64_t nneg = n - npos;
  const int64_t kpos = partial_kept_count(1.0 - min_tpr, npos);
  const int64_t kneg = partial_kept_count(max_fpr, nneg);
  // ascending: positive number r < kpos is kept; negative number r >= nneg - kneg is kept
  int64_t rpos = 0, rneg = 0;
  double kept_neg_below = 0.0, U = 0.0;
  int64_t a = 0;
  while (a < n) {
    int64_t e = a + 1;
    while (e < n && keys[e] == keys[a]) ++e;
    double kp = 0.0, kn = 0.0;
    for (int64_t i = a; i < e; ++i) {
      if (y[idx[i]]) {
        kp += (rpos++ < kpos) ? 1.0 : 0.0;
      } else {
        kn += (rneg++ >= nneg - kneg) ? 1.0 : 0.0;
      }
    }
    U += kp * (kept_neg_below + 0.5 * kn);
    kept_neg_below += kn;
    a = e;
  }
  // U above counts pairs with the positive above the negative: kept positives over kept negatives
  // below them (ties 1/2), the rank-sum statistic of the subset.
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
at::Tensor roc_partial_area_cpu(const at::Tensor& scores, const at::Tensor& labels,
                                const c10::optional<at::Tensor>& weights, double max_fpr) {
  check_partial_bounds(max_fpr, 0.0);
  const BinarySorted bs = sort_binary(scores, labels);
  const at::Tensor w = weights_f64(weights, bs.y8, "sample_weights");
  const double* wp = w.defined() ? w.data_ptr<double>() : nullptr;
  const int8_t* y = bs.y8.data_ptr<int8_t>();
  const auto& keys = bs.col.keys;
  const auto& idx = bs.col.idx;
  const int64_t n = static_cast<int64_t>(keys.size());
  double P = 0.0, N = 0.0;
  for (int64_t i = 0; i < n; ++i) (y[i] ? P : N) += wp ? wp[i] : 1.0;
  double area = 0.0, tp = 0.0, fp = 0.0;
  int64_t e = n;  // descending over tie groups [a, e)
  while (e > 0 && P > 0 && N > 0) {
    int64_t a = e - 1;
    while (a > 0 && keys[a - 1] == keys[e - 1]) --a;
    double dtp = 0.0, dfp = 0.0;
    for (int64_t i = a; i < e; ++i) {
      const int64_t s = idx[i];
      (y[s] ? dtp : dfp) += wp ? wp[s] : 1.0;
    }
    if (fp / N >= max_fpr) break;
    area += clipped_trapezoid(fp / N, tp / P, (fp + dfp) / N, (tp + dtp) / P, max_fpr);
    tp += dtp;
    fp += dfp;
    e = a;
  }
  at::Tensor out = at::empty({3}, scores.options().dtype(at::kDouble));
  double* o = out.data_ptr<double>();
  o[0] = (P > 0 && N > 0) ? area : std::numeric_limits<double>::quiet_NaN();
  o[1] = P;
  o[2] = N;
  return out;
}

}  // namespace

TORCH_LIBRARY_IMPL(torchauc, CPU, m) {
  m.impl("auroc_binary_stats", &auroc_binary_stats_cpu);
  m.impl("auroc_multiclass_stats", &auroc_multiclass_stats_cpu);
  m.impl("partial_auroc_stats", &partial_auroc_stats_cpu);
  m.impl("roc_partial_area", &roc_partial_area_cpu);
}

}  // namespace torchauc
