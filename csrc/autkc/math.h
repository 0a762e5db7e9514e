// Math shared by the CPU and CUDA top-k selection kernels: the ranking order and the insertion of one
// candidate into a row's descending top-k list (k is small next to C, so most candidates are
// rejected by one comparison with the current k-th value; no sort of the C - 1 competitors).
#pragma once
#include <cstdint>

#include "core/macros.h"

namespace torchauc::autkc {

// a ranks above b: the larger value, NaN above everything, equal values by the smaller column.
TAUC_HD bool ranks_above(double va, int64_t ia, double vb, int64_t ib) {
  const bool na = va != va, nb = vb != vb;
  if (na || nb) return na && (!nb || ia < ib);
  return va > vb || (va == vb && ia < ib);
}

// The ranking value of column j of a row whose label column is y.
TAUC_HD double topk_value(double s, int64_t j, int64_t y, double margin) { return j == y ? s : s + margin; }

// Inserts (v, j) into the descending list vals/idx holding `count` <= k entries (k >= 1); returns
// the new count.
TAUC_HD int64_t topk_insert(double* vals, int64_t* idx, int64_t count, int64_t k, double v, int64_t j) {
  if (count == k && !ranks_above(v, j, vals[k - 1], idx[k - 1])) return count;
  int64_t p = count < k ? count : k - 1;
  while (p > 0 && ranks_above(v, j, vals[p - 1], idx[p - 1])) {
    vals[p] = vals[p - 1];
    idx[p] = idx[p - 1];
    --p;
  }
  vals[p] = v;
  idx[p] = j;
  return count < k ? count + 1 : count;
}

// The top-k columns of one row: load(j) gives s_j; vals is scratch of k doubles, idx the output.
// The common case goes first: once the list is full, a value not above its last entry is out (a tie
// never enters, every listed column being smaller; NaN enters while the last entry is not NaN).
template <typename Load>
TAUC_HD void row_topk(const Load& load, int64_t C, int64_t y, int64_t k, double margin, bool include_label,
                      double* vals, int64_t* idx) {
  if (k <= 0) return;
  int64_t count = 0;
  double last = 0.0;
  for (int64_t j = 0; j < C; ++j) {
    const double v = topk_value(static_cast<double>(load(j)), j, y, margin);
    if (count == k && !(v > last) && !(v != v && last == last)) continue;
    if (j == y && !include_label) continue;
    count = topk_insert(vals, idx, count, k, v, j);
    if (count == k) last = vals[k - 1];
  }
}

// Candidates screened per block by row_topk_no_nan: one vectorisable any() against the k-th value.
constexpr int kTopkBlock = 8;

// row_topk(s, C, y, k, 0.0, false, ...) for a row s[0, C) holding no NaN (the fused loss's softmax rows,
// hinge rows checked for NaN): with NaN out and the columns visited in increasing order, ranks_above is a
// strict > (an equal value never passes a listed column, all smaller), so once the list is full a
// candidate costs one comparison in the row's own type, and a block of kTopkBlock candidates none of which
// beats the k-th value (the common case once the list holds large values) costs one vector compare.
// Needs 1 <= k <= C - 1; vals (scratch) and idx as row_topk's.
template <typename V>
TAUC_HD void row_topk_no_nan(const V* s, int64_t C, int64_t y, int64_t k, double* vals, int64_t* idx) {
  int64_t count = 0, j = 0;
  for (; count < k; ++j)  // the first k competitors fill the list in order
    if (j != y) count = topk_insert(vals, idx, count, k, static_cast<double>(s[j]), j);
  V last = static_cast<V>(vals[k - 1]);  // exact: every listed value came from s
  const auto consider = [&](int64_t c) {
    const V v = s[c];
    if (!(v > last) || c == y) return;
    int64_t p = k - 1;
    for (; p > 0 && v > vals[p - 1]; --p) {
      vals[p] = vals[p - 1];
      idx[p] = idx[p - 1];
    }
    vals[p] = v;
    idx[p] = c;
    last = static_cast<V>(vals[k - 1]);
  };
  for (; j + kTopkBlock <= C; j += kTopkBlock) {
    bool any = false;
    for (int l = 0; l < kTopkBlock; ++l) any |= s[j + l] > last;
    if (any)
      for (int l = 0; l < kTopkBlock; ++l) consider(j + l);
  }
  for (; j < C; ++j) consider(j);
}

// The m top competitors of the row s[0, C) (margin 0, label skipped): the NaN-free path unless has_nan.
template <typename V>
TAUC_HD void row_topk_competitors(const V* s, int64_t C, int64_t y, int64_t m, bool has_nan, double* vals,
                                  int64_t* idx) {
  if (m <= 0) return;
  if (has_nan)
    row_topk([s](int64_t j) { return static_cast<double>(s[j]); }, C, y, m, 0.0, false, vals, idx);
  else
    row_topk_no_nan(s, C, y, m, vals, idx);
}

}  // namespace torchauc::autkc
