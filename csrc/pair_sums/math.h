// The math of the grouped pair sums, written once for CPU and CUDA: LibAUC's
// five pair surrogates l(t) (libauc.losses.surrogate) and their derivatives
// dl/dt.
#pragma once
#include <cstdint>
#include <type_traits>

#include "core/fast_math.h"
#include "core/macros.h"

namespace torchauc::pair_sums {

constexpr int kMaxWeights = 4;  // weight rows per call (the AP losses need at most 4)

enum class PairSurrogate : int { SquaredHinge = 0, Hinge = 1, Squared = 2, Logistic = 3, BarrierHinge = 4 };

// l(t) and dl/dt. squared_hinge (m - t)_+^2, hinge (m - t)_+ (derivative 0 at t
// = m), squared (m - t)^2, logistic log(1 + e^{-s t}), barrier_hinge max(-s (m
// + t) + m, m - t, s (t - m)) (at a tie between two lines the larger slope: the
// piece above the breakpoint). NaN t gives NaN for both.
template <PairSurrogate S, typename T>
TAUC_HD void pair_surrogate(T t, T m, T s, T* value, T* dvalue_dt) {
  T l, d;
  if constexpr (S == PairSurrogate::SquaredHinge) {
    const T u = m - t > T(0) ? m - t : T(0);
    l = u * u;
    d = T(-2) * u;
  } else if constexpr (S == PairSurrogate::Hinge) {
    const bool on = m - t > T(0);
    l = on ? m - t : T(0);
    d = on ? T(-1) : T(0);
  } else if constexpr (S == PairSurrogate::Squared) {
    l = (m - t) * (m - t);
    d = T(-2) * (m - t);
  } else if constexpr (S == PairSurrogate::Logistic) {
    T g;
    softplus_sigmoid<T>(-s * t, &l, &g);  // core/fast_math.h
    d = -s * g;
  } else {
    const T a = -s * (m + t) + m, b = m - t, c = s * (t - m);
    l = a;
    d = -s;
    const bool take_b = b > l || (b == l && T(-1) > d);
    l = take_b ? b : l;
    d = take_b ? T(-1) : d;
    const bool take_c = c > l || (c == l && s > d);
    l = take_c ? c : l;
    d = take_c ? s : d;
  }
  *value = t != t ? t : l;
  *dvalue_dt = t != t ? t : d;
}

// Host-side dispatch: calls f(std::integral_constant<PairSurrogate, S>{},
// std::integral_constant<int, K>{}) for the runtime pair.
template <typename F>
void dispatch_surrogate_k(PairSurrogate s, int64_t K, const F& f) {
  auto with_k = [&](auto sc) {
    switch (K) {
      case 1: f(sc, std::integral_constant<int, 1>{}); break;
      case 2: f(sc, std::integral_constant<int, 2>{}); break;
      case 3: f(sc, std::integral_constant<int, 3>{}); break;
      default: f(sc, std::integral_constant<int, 4>{}); break;
    }
  };
  switch (s) {
    case PairSurrogate::SquaredHinge:
      with_k(std::integral_constant<PairSurrogate, PairSurrogate::SquaredHinge>{});
      break;
    case PairSurrogate::Hinge: with_k(std::integral_constant<PairSurrogate, PairSurrogate::Hinge>{}); break;
    case PairSurrogate::Squared: with_k(std::integral_constant<PairSurrogate, PairSurrogate::Squared>{}); break;
    case PairSurrogate::Logistic: with_k(std::integral_constant<PairSurrogate, PairSurrogate::Logistic>{}); break;
    case PairSurrogate::BarrierHinge:
      with_k(std::integral_constant<PairSurrogate, PairSurrogate::BarrierHinge>{});
      break;
  }
}

}  // namespace torchauc::pair_sums
