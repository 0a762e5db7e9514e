// Vectorisable passes over one row in Acc, shared by the softmax of the AUTKC loss (loss_math.h) and the
// top-k cross entropy (ce_math.h), on the CPU and the CUDA device alike.
#pragma once
#include <cstdint>

#include "core/fast_math.h"
#include "core/macros.h"

namespace torchauc::autkc {

// Lanes of a row's max and sum: independent partials the host compiler keeps in one vector register (a
// single running value would be a serial chain of dependent operations).
constexpr int kSoftmaxLanes = 8;

// p[j] = load(j); returns whether the row holds a NaN. (The NaN flags are ints: a bool |= keeps GCC from
// vectorising the loop.)
template <typename Acc, typename Load>
TAUC_HD bool load_row(const Load& load, int64_t C, Acc* p) {
  int nan = 0;
  for (int64_t j = 0; j < C; ++j) {
    p[j] = load(j);
    nan |= p[j] != p[j];
  }
  return nan != 0;
}

// lane_max[l] = max(lane_max[l], p[j] over j = l mod L, j < body) for a body of whole blocks of L (the max
// skips NaN); returns whether those p[j] hold a NaN. On the host as SSE-sized vector selects: GCC 12 turns the
// scalar `v > m ? v : m` into integer cmovs and leaves such loops scalar (wider vectors lower badly in the
// baseline build).
template <int L, typename Acc>
TAUC_HD bool lanes_max(const Acc* p, int64_t body, Acc* lane_max) {
#if defined(__CUDACC__)
  bool nan = false;
  for (int64_t j0 = 0; j0 < body; j0 += L)
    for (int l = 0; l < L; ++l) {
      const Acc v = p[j0 + l];
      nan |= v != v;
      lane_max[l] = v > lane_max[l] ? v : lane_max[l];
    }
  return nan;
#else
  constexpr int W = 16 / sizeof(Acc);
  static_assert(L % W == 0, "whole vectors per block");
  typedef Acc V __attribute__((vector_size(16)));
  typedef decltype(V{} != V{}) Mask;
  V mx[L / W];
  Mask nan{};
  __builtin_memcpy(mx, lane_max, sizeof mx);
  for (int64_t j0 = 0; j0 < body; j0 += L)
    for (int q = 0; q < L / W; ++q) {
      V v;
      __builtin_memcpy(&v, p + j0 + q * W, sizeof v);
      nan |= v != v;
      mx[q] = v > mx[q] ? v : mx[q];
    }
  __builtin_memcpy(lane_max, mx, sizeof mx);
  bool any = false;
  for (int i = 0; i < W; ++i) any |= nan[i] != 0;
  return any;
#endif
}

// max(init, p[0, C)); *nan |= the row holds a NaN (the max itself skips NaN).
template <typename Acc>
TAUC_HD Acc row_max(const Acc* p, int64_t C, Acc init, bool* nan) {
  constexpr int L = kSoftmaxLanes;
  Acc mx[L];
  for (int l = 0; l < L; ++l) mx[l] = init;
  const int64_t body = C - C % L;
  bool any_nan = lanes_max<L>(p, body, mx);
  for (int64_t j = body; j < C; ++j) {
    any_nan |= p[j] != p[j];
    mx[0] = p[j] > mx[0] ? p[j] : mx[0];
  }
  Acc m = mx[0];
  for (int l = 1; l < L; ++l) m = mx[l] > m ? mx[l] : m;
  *nan |= any_nan;
  return m;
}

// p[j] = e^{p[j] - shift} for a finite shift >= max p (-inf entries give 0); returns sum_j p[j].
template <typename Acc>
TAUC_HD Acc exp_shift_sum(Acc* p, int64_t C, Acc shift) {
  constexpr int L = kSoftmaxLanes;
  Acc sum[L];
  for (int l = 0; l < L; ++l) sum[l] = 0;
  const int64_t body = C - C % L;
  for (int64_t j0 = 0; j0 < body; j0 += L)
    for (int l = 0; l < L; ++l) {
      p[j0 + l] = exp_nonpos(static_cast<Acc>(p[j0 + l] - shift));
      sum[l] += p[j0 + l];
    }
  for (int64_t j = body; j < C; ++j) {
    p[j] = exp_nonpos(static_cast<Acc>(p[j] - shift));
    sum[0] += p[j];
  }
  Acc total = 0;
  for (int l = 0; l < L; ++l) total += sum[l];
  return total;
}

}  // namespace torchauc::autkc
