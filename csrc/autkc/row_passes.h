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

// p[j] = load(j); returns whether the row holds a NaN.
template <typename Acc, typename Load>
TAUC_HD bool load_row(const Load& load, int64_t C, Acc* p) {
  bool nan = false;
  for (int64_t j = 0; j < C; ++j) {
    p[j] = load(j);
    nan |= p[j] != p[j];
  }
  return nan;
}

// max(init, p[0, C)); *nan |= the row holds a NaN (the max itself skips NaN).
template <typename Acc>
TAUC_HD Acc row_max(const Acc* p, int64_t C, Acc init, bool* nan) {
  constexpr int L = kSoftmaxLanes;
  Acc mx[L];
  bool any_nan = false;
  for (int l = 0; l < L; ++l) mx[l] = init;
  const int64_t body = C - C % L;
  for (int64_t j0 = 0; j0 < body; j0 += L)
    for (int l = 0; l < L; ++l) {
      const Acc v = p[j0 + l];
      any_nan |= v != v;
      mx[l] = v > mx[l] ? v : mx[l];
    }
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
