// The pair-sum tile loops of tiles_cpu.cpp, included there once per instruction set inside a
// `#pragma GCC target` region and a namespace of its own (no include guard on purpose; core/cpu_isa.h).

// One query against items [j0, j1): adds the K weighted sums of dl/dt to der and, if kValues, of l to
// val. K and kValues are template parameters so the unused accumulators (and, with !kValues, the
// logistic's log) vanish and the loop carries no branch. `flatten` inlines the surrogate math, so the
// loop vectorises for this clone's instruction set.
template <PairSurrogate S, typename T, int K, bool kValues>
__attribute__((flatten)) void tile(T q, T sign, T m, T s, const T* x, const T* w, int64_t stride, int64_t j0,
                                   int64_t j1, double* val, double* der) {
  const T* w0 = w;
  const T* w1 = w + stride * (K > 1);
  const T* w2 = w + stride * 2 * (K > 2);
  const T* w3 = w + stride * 3 * (K > 3);
  T l0 = 0, l1 = 0, l2 = 0, l3 = 0, d0 = 0, d1 = 0, d2 = 0, d3 = 0;
#pragma omp simd reduction(+ : l0, l1, l2, l3, d0, d1, d2, d3)
  for (int64_t j = j0; j < j1; ++j) {
    T l, d;
    pair_surrogate<S, T>(sign * (q - x[j]), m, s, &l, &d);
    if constexpr (kValues) l0 += w0[j] * l;
    d0 += w0[j] * d;
    if constexpr (K > 1) {
      if constexpr (kValues) l1 += w1[j] * l;
      d1 += w1[j] * d;
    }
    if constexpr (K > 2) {
      if constexpr (kValues) l2 += w2[j] * l;
      d2 += w2[j] * d;
    }
    if constexpr (K > 3) {
      if constexpr (kValues) l3 += w3[j] * l;
      d3 += w3[j] * d;
    }
  }
  const T ls[4] = {l0, l1, l2, l3}, ds[4] = {d0, d1, d2, d3};
  for (int k = 0; k < K; ++k) {
    if constexpr (kValues) val[k] += static_cast<double>(ls[k]);
    der[k] += static_cast<double>(ds[k]);
  }
}

template <typename T>
TileFn<T> pick_tile(PairSurrogate s, int64_t K, bool values) {
  TileFn<T> fn = nullptr;
  dispatch_surrogate_k(s, K, [&](auto sc, auto kc) {
    constexpr PairSurrogate S = decltype(sc)::value;
    constexpr int k = decltype(kc)::value;
    fn = values ? tile<S, T, k, true> : tile<S, T, k, false>;
  });
  return fn;
}
