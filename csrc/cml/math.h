// Math of the collaborative metric learning ops, shared by the CPU and CUDA kernels: squared
// distances, the triplet row's argmins and hinge, and the counter-based sampler.
#pragma once
#include <cmath>
#include <cstdint>

#include "core/macros.h"

namespace torchauc::cml {

// The rows of one triplet batch: dense (indices null) or gathered from tables by index.
// users: K vectors of d per row; pos: one d-vector; neg: J d-vectors per row.
template <typename T>
struct TripletRows {
  const T* users;
  const T* pos;
  const T* neg;
  const int64_t* users_idx;  // (B,) or null
  const int64_t* pos_idx;    // (B,) or null
  const int64_t* neg_idx;    // (B, J) or null
  int64_t B, K, J, d;
  TAUC_HD const T* user(int64_t b, int64_t c) const { return users + ((users_idx ? users_idx[b] : b) * K + c) * d; }
  TAUC_HD const T* positive(int64_t b) const { return pos + (pos_idx ? pos_idx[b] : b) * d; }
  TAUC_HD const T* negative(int64_t b, int64_t j) const { return neg + (neg_idx ? neg_idx[b * J + j] : b * J + j) * d; }
};

// |a - b|^2 accumulated in double.
template <typename T>
TAUC_HD double sq_dist(const T* a, const T* b, int64_t d) {
  double s = 0.0;
  for (int64_t i = 0; i < d; ++i) {
    const double t = static_cast<double>(a[i]) - static_cast<double>(b[i]);
    s += t * t;
  }
  return s;
}

// Distance t of user vector c in a row's table dist[c * (1 + J) + t]: t = 0 the positive, t = 1 + j
// negative j.
template <typename T>
TAUC_HD double row_distance(const TripletRows<T>& r, int64_t b, int64_t c, int64_t t) {
  return sq_dist(r.user(b, c), t == 0 ? r.positive(b) : r.negative(b, t - 1), r.d);
}

struct TripletSelect {          // (x != x: NaN, in host and device code alike)
  double hinge;                 // max(0, m + d_pos - d_neg), NaN when a distance is NaN
  int64_t c_pos, c_neg, j_neg;  // argmins (first index on ties, (c, j) in row-major order); c_pos = -1: inactive
};

// Argmins over the K x (1 + J) distances of one row and its hinge.
TAUC_HD TripletSelect triplet_select(const double* dist, int64_t K, int64_t J, double margin) {
  int64_t cp = 0, cn = 0, jn = 0;
  double dp = dist[0], dn = dist[1];  // J >= 1 (args.h)
  bool nan = false;
  for (int64_t c = 0; c < K; ++c) {
    const double* row = dist + c * (1 + J);
    nan = nan || row[0] != row[0];
    if (row[0] < dp) dp = row[0], cp = c;
    for (int64_t j = 0; j < J; ++j) {
      nan = nan || row[1 + j] != row[1 + j];
      if (row[1 + j] < dn) dn = row[1 + j], cn = c, jn = j;
    }
  }
  const double h = margin + dp - dn;
  if (nan) return {NAN, -1, 0, 0};
  if (!(h > 0.0)) return {0.0, -1, 0, 0};
  return {h, cp, cn, jn};
}

// ------------------------------------------------------------------ SFCML gathered dots
// u . v in T (float or double: the compute type) with 8 partial sums in a fixed order: vectorizable
// on the CPU, the same sum in a CUDA thread.
template <typename T>
TAUC_HD T dot(const T* a, const T* b, int64_t d) {
  T s[8] = {};
  int64_t i = 0;
  for (; i + 8 <= d; i += 8)
    for (int j = 0; j < 8; ++j) s[j] += a[i + j] * b[i + j];
  T tail = 0;
  for (; i < d; ++i) tail += a[i] * b[i];
  return ((s[0] + s[1]) + (s[2] + s[3])) + ((s[4] + s[5]) + (s[6] + s[7])) + tail;
}

// The row b of CSR entry k: the last b with indptr[b] <= k (indptr (B + 1,) ascending), or -1 when k
// lies in no row [indptr[b], indptr[b + 1]) (a malformed indptr on CUDA, where it is not checked).
TAUC_HD int64_t entry_row(const int64_t* indptr, int64_t B, int64_t k) {
  int64_t lo = 0, hi = B;  // invariant: the answer is in [lo, hi)
  while (hi - lo > 1) {
    const int64_t mid = lo + (hi - lo) / 2;
    lo = indptr[mid] <= k ? mid : lo;
    hi = indptr[mid] <= k ? hi : mid;
  }
  return B > 0 && indptr[lo] <= k && k < indptr[lo + 1] ? lo : -1;
}

// Elements [i0, i1) of one row of a gathered-dot gradient: acc[i - i0] += g[e(t)] * table[r(e(t)) * d + i]
// for t in [t0, t1), in t order, in T (deterministic; the CPU takes the whole row, vectorized over
// i, a CUDA thread one element: the same sums). User rows: t runs over the user's CSR entries (e(t) = t, r = their
// items); item rows: over the item's entries in the transposed order (e(t) = order[t], r = their
// users). Entries whose table row is outside [0, rows) add nothing (only unchecked CUDA input has them).
template <typename T, typename Entry, typename Row>
TAUC_HD void gathered_grad(const T* g, const T* table, int64_t rows, int64_t d, int64_t i0, int64_t i1, int64_t t0,
                           int64_t t1, Entry&& e, Row&& r, T* acc) {
  for (int64_t t = t0; t < t1; ++t) {
    const int64_t k = e(t), row = r(k);
    if (row < 0 || row >= rows) continue;
    const T gk = g[k];
    const T* v = table + row * d;
    for (int64_t i = i0; i < i1; ++i) acc[i - i0] += gk * v[i];
  }
}

// ------------------------------------------------------------------ negative sampling
// The splitmix64 finalizer: a bijective 64-bit mix.
TAUC_HD uint64_t mix64(uint64_t x) {
  x = (x ^ (x >> 30)) * 0xBF58476D1CE4E5B9ull;
  x = (x ^ (x >> 27)) * 0x94D049BB133111EBull;
  return x ^ (x >> 31);
}

// floor(h * n / 2^64): uniform in [0, n) up to n / 2^64 (multiply-high instead of a 64-bit modulo).
TAUC_HD uint64_t range_reduce(uint64_t h, uint64_t n) {
#if defined(__CUDA_ARCH__)
  return __umul64hi(h, n);
#else
  return static_cast<uint64_t>((static_cast<unsigned __int128>(h) * n) >> 64);
#endif
}

// Whether `item` is in the ascending row[0, len): a branchless binary search (the loop count
// depends on len only, the step is a conditional move).
TAUC_HD bool row_contains(const int64_t* row, int64_t len, int64_t item) {
  if (len <= 0) return false;
  while (len > 1) {
    const int64_t half = len / 2;
    row = row[half] <= item ? row + half : row;
    len -= half;
  }
  return *row == item;
}

// Draw number `key` of a sampling call: the first item of the hash chain h_0 = mix(seed + G key),
// h_{a+1} = mix(h_a + G) for which in_row(item) is false (one mix per attempt; chains of different
// keys do not share positions the way a shared counter would). The row must miss some item.
template <typename InRow>
TAUC_HD int64_t draw_negative(uint64_t seed, uint64_t key, int64_t num_items, InRow&& in_row) {
  constexpr uint64_t G = 0x9E3779B97F4A7C15ull;
  uint64_t h = mix64(seed + G * (key + 1));
  for (;;) {
    const int64_t item = static_cast<int64_t>(range_reduce(h, static_cast<uint64_t>(num_items)));
    if (!in_row(item)) return item;
    h = mix64(h + G);
  }
}

// The same draw with the membership test a binary search of the ascending row[0, len).
TAUC_HD int64_t draw_negative(uint64_t seed, uint64_t key, const int64_t* row, int64_t len, int64_t num_items) {
  return draw_negative(seed, key, num_items, [&](int64_t item) { return row_contains(row, len, item); });
}

// ------------------------------------------------------------------ evaluation
// Number of q[0, n) strictly below x (q ascending): the slot of a candidate scoring x among a
// user's sorted test scores. A candidate in slot a ranks above the test items in slots < a.
template <typename T>
TAUC_HD int64_t count_below(const T* q, int64_t n, T x) {
  if (n <= 0) return 0;
  const T* base = q;  // branchless lower bound: a conditional move per step
  while (n > 1) {
    const int64_t half = n / 2;
    base = base[half] < x ? base + half : base;
    n -= half;
  }
  return (base - q) + (*base < x);
}

}  // namespace torchauc::cml
