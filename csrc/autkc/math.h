// Math shared by the CPU and CUDA top-k selection kernels: the ranking order and the insertion of one
// candidate into a row's descending top-k list (k is small next to C, so most candidates are
// rejected by one comparison with the current k-th value; no sort of the C - 1 competitors).
#pragma once
#include <cmath>
#include <cstdint>

#include "autkc/row_passes.h"
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

// Candidates screened per block by row_topk_scan: one vectorisable any() against the k-th value.
constexpr int kTopkBlock = 8;

// row_topk(s, C, y, k, 0.0, false, ...) for a row s[0, C) holding no NaN by a scan (row_topk_no_nan's path
// for long rows): with NaN out and the columns visited in increasing order, ranks_above is a strict > (an
// equal value never passes a listed column, all smaller), so once the list is full a candidate costs one
// comparison in the row's own type, and a block of kTopkBlock candidates none of which beats the k-th value
// (the common case once the list holds large values) costs one vector compare.
// Needs 1 <= k <= C - 1; vals (scratch) and idx as row_topk's.
template <typename V>
TAUC_HD void row_topk_scan(const V* s, int64_t C, int64_t y, int64_t k, double* vals, int64_t* idx) {
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

// The screen of row_topk_no_nan: the competitors' maxima over kScreenLanes interleaved lanes (column j in
// lane j % kScreenLanes), then t = the largest lane maximum that at least k lane maxima reach: at least k
// competitors are >= t, so every top-k competitor is too, and it lies in a lane whose maximum reaches t
// (about k of the lanes). Without branches, so the host compiler vectorises it.
constexpr int kScreenLanes = 16;
// At most this many candidates are ranked by counting; a row with more (ties) takes row_topk.
constexpr int kMaxCandidates = 32;
// Rows longer than this are scanned: there the scan's block test rejects most of the row at one vector
// compare per block, and the screen measured slower (hinge at C = 1000).
constexpr int64_t kScreenMaxColumns = 256;
constexpr int kRankBlock = 8;  // candidates compared per vector step of the ranking

// The largest of the L lane maxima m[0, L) that at least k of them reach (1 <= k <= L): each m[i] counted
// against all L (lane by lane, so the count vectorises over i). On the host in SSE-sized vectors, as
// lanes_max (the scalar form measured 460 instructions a row, mostly scalar).
template <int L, typename V>
TAUC_HD V kth_lane_max(const V* m, int64_t k) {
#if defined(__CUDACC__)
  int reach[L];  // reach[i]: the lane maxima >= m[i]
  for (int i = 0; i < L; ++i) reach[i] = 0;
  for (int l = 0; l < L; ++l)
    for (int i = 0; i < L; ++i) reach[i] += m[l] >= m[i];
  V t = static_cast<V>(-INFINITY);
  for (int i = 0; i < L; ++i) {
    const V ti = reach[i] >= k ? m[i] : static_cast<V>(-INFINITY);
    t = ti > t ? ti : t;
  }
  return t;
#else
  constexpr int W = 16 / sizeof(V), Q = L / W;
  static_assert(L % W == 0, "whole vectors of lanes");
  typedef V Vec __attribute__((vector_size(16)));
  typedef decltype(Vec{} != Vec{}) Mask;  // 0 / -1 per lane
  Vec mv[Q];
  Mask neg_reach[Q];  // minus the lane maxima >= m[i]
  __builtin_memcpy(mv, m, sizeof mv);
  for (int q = 0; q < Q; ++q) neg_reach[q] = Mask{};
  for (int l = 0; l < L; ++l)
    for (int q = 0; q < Q; ++q) neg_reach[q] += m[l] >= mv[q];
  const Vec none = Vec{} - static_cast<V>(INFINITY);
  const auto kk = static_cast<decltype(Mask{}[0] + 0)>(k);  // the mask's lane type
  Vec t = none;
  for (int q = 0; q < Q; ++q) {
    const Vec tq = -neg_reach[q] >= kk ? mv[q] : none;
    t = tq > t ? tq : t;
  }
  V best = t[0];
  for (int i = 1; i < W; ++i) best = t[i] > best ? t[i] : best;
  return best;
#endif
}

template <typename V>
TAUC_HD V screen_threshold(const V* s, int64_t C, int64_t y, int64_t k, V* lane_max) {
  constexpr int L = kScreenLanes;
  for (int l = 0; l < L; ++l) lane_max[l] = static_cast<V>(-INFINITY);
  const int64_t body = C - C % L;
  lanes_max<L>(s, body, lane_max);  // the row has no NaN
  for (int64_t j = body; j < C; ++j) lane_max[j - body] = s[j] > lane_max[j - body] ? s[j] : lane_max[j - body];
  V label_lane = static_cast<V>(-INFINITY);  // the label's lane again, without the label
  for (int64_t j = y % L; j < C; j += L) label_lane = j != y && s[j] > label_lane ? s[j] : label_lane;
  lane_max[y % L] = label_lane;
  return kth_lane_max<L>(lane_max, k);
}

// above[i] for i < padded (whole blocks of kRankBlock): how many of the n candidates (values cv, columns cand)
// rank above candidate i: larger, or equal at a smaller column. On the host, float candidates are counted in
// SSE-sized vectors, a block's count kept in a register over the n (GCC's own vectorisation of the mixed
// float / int count took about 27 instructions a vector step).
template <typename V>
TAUC_HD void rank_counts(const V* cv, const int32_t* cand, int n, int padded, int32_t* above) {
#if !defined(__CUDACC__)
  if constexpr (sizeof(V) == sizeof(int32_t)) {
    typedef V Vec __attribute__((vector_size(16)));
    typedef int32_t Int __attribute__((vector_size(16)));
    constexpr int W = 16 / sizeof(V);
    static_assert(kRankBlock % W == 0, "whole vectors per block");
    for (int i0 = 0; i0 < padded; i0 += W) {
      Vec v;
      Int c, neg_above = {};
      __builtin_memcpy(&v, cv + i0, sizeof v);
      __builtin_memcpy(&c, cand + i0, sizeof c);
      for (int b = 0; b < n; ++b) neg_above += (cv[b] > v) | ((cv[b] == v) & (cand[b] < c));
      const Int count = -neg_above;
      __builtin_memcpy(above + i0, &count, sizeof count);
    }
    return;
  }
#endif
  for (int i = 0; i < padded; ++i) above[i] = 0;
  for (int b = 0; b < n; ++b)  // candidate by candidate, so the count vectorises over the ranked ones
    for (int i0 = 0; i0 < padded; i0 += kRankBlock)
      for (int i = i0; i < i0 + kRankBlock; ++i) above[i] += (cv[b] > cv[i]) | ((cv[b] == cv[i]) & (cand[b] < cand[i]));
}

// The host gathers the screen's candidates by vector compares (screen_candidates), where SSE2 is there.
#if !defined(__CUDACC__) && defined(__SSE2__)
#define TAUC_SCREEN_VECTOR_GATHER 1
#endif

// For each W-lane compare result (bit i: lane i passes): the passing lanes' positions, first to last, and their
// count.
template <int W>
struct PassTable {
  int32_t pos[1 << W][W];
  int count[1 << W];
  constexpr PassTable() : pos(), count() {
    for (int bits = 0; bits < (1 << W); ++bits) {
      int c = 0;
      for (int b = 0; b < W; ++b)
        if (bits >> b & 1) pos[bits][c++] = b;
      count[bits] = c;
    }
  }
};

// The competitors >= t (columns j != y; increasing with the vector gather) into cand; returns how many. Every one
// lies in a lane whose maximum reaches t. The device walks those lanes (about k of the L), clamping the count into its
// N + kRankBlock slots (more than N sends the row to row_topk). The host compares the whole row in SSE-sized
// vectors and appends each vector's passing columns from a table (one store; cand needs C + W slots): no branch
// per column and a loop-carried chain of one add, where the lane walk's scalar stores behind a clamped count
// and its varying trip counts took a third of the screen.
template <typename V>
TAUC_HD int screen_candidates(const V* s, int64_t C, int64_t y, V t, const V* lane_max, int32_t* cand) {
#if !defined(TAUC_SCREEN_VECTOR_GATHER)
  constexpr int L = kScreenLanes, N = kMaxCandidates;
  int n = 0;
  for (int l = 0; l < L; ++l) {
    if (!(lane_max[l] >= t)) continue;
    for (int64_t j = l; j < C; j += L) {
      cand[n < N ? n : N] = static_cast<int32_t>(j);  // kept when it passes, else overwritten
      n += (s[j] >= t) & (j != y);
    }
  }
  return n;
#else
  constexpr int W = 16 / sizeof(V);
  typedef V Vec __attribute__((vector_size(16)));
  typedef float F4 __attribute__((vector_size(16)));
  typedef double D2 __attribute__((vector_size(16)));
  static constexpr PassTable<W> table{};
  const Vec tv = Vec{} + t;
  int n = 0;
  int64_t j0 = 0;
  for (; j0 + W <= C; j0 += W) {
    Vec v;
    __builtin_memcpy(&v, s + j0, sizeof v);
    int bits;  // lane i passes: bit i (movmskps / movmskpd)
    if constexpr (W == 4)
      bits = __builtin_ia32_movmskps((F4)(v >= tv));
    else
      bits = __builtin_ia32_movmskpd((D2)(v >= tv));
    const uint64_t at = static_cast<uint64_t>(y - j0);  // the label's lane here, if any
    bits &= ~(int(at < W) << (at & (W - 1)));
    int32_t pos[W];
    for (int i = 0; i < W; ++i) pos[i] = table.pos[bits][i] + static_cast<int32_t>(j0);
    __builtin_memcpy(cand + n, pos, sizeof pos);
    n += table.count[bits];
  }
  for (int64_t j = j0; j < C; ++j) {
    cand[n] = static_cast<int32_t>(j);
    n += (s[j] >= t) & (j != y);
  }
  return n;
#endif
}

// row_topk(s, C, y, k, 0.0, false, ...) for a row s[0, C) holding no NaN (the fused loss's softmax rows,
// hinge rows checked for NaN), the same columns in the same order: the competitors >= the screen's
// threshold t (screen_candidates), each placed at the number of
// candidates ranking above it (larger, or equal at a smaller column): no unpredictable insertions.
// Short rows only (C <= kScreenMaxColumns, k <= kScreenLanes; others take row_topk_scan).
// Needs 1 <= k <= C - 1; vals (scratch) and idx as row_topk's.
// Kept out of line on the host, so that adding it did not change how the long rows' scan is inlined
// (with it inlined, hinge at B = 4096, C = 1000 measured 0.74x).
#if defined(__CUDACC__)
#define TAUC_HD_SCREEN TAUC_HD
#else
#define TAUC_HD_SCREEN __attribute__((noinline))
#endif
template <typename V>
TAUC_HD_SCREEN void row_topk_screen(const V* s, int64_t C, int64_t y, int64_t k, double* vals, int64_t* idx) {
  constexpr int L = kScreenLanes, N = kMaxCandidates;
  V lane_max[L];
  const V t = screen_threshold(s, C, y, k, lane_max);
#if defined(TAUC_SCREEN_VECTOR_GATHER)
  int32_t cand[kScreenMaxColumns + kRankBlock];  // room for every column and a vector's store past the last
#else
  int32_t cand[N + kRankBlock];
#endif
  const int n = screen_candidates(s, C, y, t, lane_max, cand);
  if (n > N)  // the general selection, so that row_topk_scan keeps one call site (inlined as before)
    return row_topk([s](int64_t j) { return static_cast<double>(s[j]); }, C, y, k, 0.0, false, vals, idx);
  // padded to whole blocks of kRankBlock: the pads are ranked too (never read) but never counted (b < n)
  const int padded = (n + kRankBlock - 1) / kRankBlock * kRankBlock;
  V cv[N + kRankBlock];
  for (int i = 0; i < n; ++i) cv[i] = s[cand[i]];
  for (int i = n; i < padded; ++i) {
    cv[i] = static_cast<V>(-INFINITY);
    cand[i] = INT32_MAX;
  }
  int32_t above[N + kRankBlock], ranked[N];
  rank_counts(cv, cand, n, padded, above);
  for (int i = 0; i < n; ++i) ranked[above[i]] = cand[i];  // the ranks of the n are a permutation of [0, n)
  for (int64_t i = 0; i < k; ++i) idx[i] = ranked[i];
}

// The screen for short rows (C <= kScreenMaxColumns, k <= kScreenLanes), the scan for the others.
template <typename V>
TAUC_HD void row_topk_no_nan(const V* s, int64_t C, int64_t y, int64_t k, double* vals, int64_t* idx) {
  if (k > kScreenLanes || C > kScreenMaxColumns) return row_topk_scan(s, C, y, k, vals, idx);
  row_topk_screen(s, C, y, k, vals, idx);
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
