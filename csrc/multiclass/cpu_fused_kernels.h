// The kernels of cpu_fused.cpp, included there once per instruction set inside a
// `#pragma GCC target` region and a namespace of its own (no include guard on purpose). GCC vector
// extensions of 16 floats (two halves of 8 doubles for the sums): one zmm per vector under AVX-512,
// two ymm under AVX2, four xmm in the baseline, with the same lane order in all three. (Defined
// inside the target region, not only called from a target_clones function: GCC 12 lowers the mask
// selects of an inlined baseline helper lane by lane.)
//
// The loops (activation, lanes, tails, rows and runs) are written once here; what a lane adds and
// how its gradient is formed is the surrogate's policy (cpu_fused_policies.h): Moments (square,
// linear) or Exp.

typedef float v16f __attribute__((vector_size(64)));
typedef int32_t v16i __attribute__((vector_size(64)));
typedef float v8f __attribute__((vector_size(32)));
typedef double v8d __attribute__((vector_size(64)));
typedef int64_t v8l __attribute__((vector_size(64)));
constexpr int kLanes = 16;

template <typename V, typename T>
inline V load(const T* p) {
  V v;
  __builtin_memcpy(&v, p, sizeof v);
  return v;
}
template <typename V, typename T>
inline void store(T* p, const V& v) {
  __builtin_memcpy(p, &v, sizeof v);
}

inline v8d lo_d(const v16f& v) {
  return __builtin_convertvector(__builtin_shufflevector(v, v, 0, 1, 2, 3, 4, 5, 6, 7), v8d);
}
inline v8d hi_d(const v16f& v) {
  return __builtin_convertvector(__builtin_shufflevector(v, v, 8, 9, 10, 11, 12, 13, 14, 15), v8d);
}
// the lanes of a 16-lane mask as two halves of 8 (0 or -1 each)
inline v8l lo_l(const v16i& m) {
  return __builtin_convertvector(__builtin_shufflevector(m, m, 0, 1, 2, 3, 4, 5, 6, 7), v8l);
}
inline v8l hi_l(const v16i& m) {
  return __builtin_convertvector(__builtin_shufflevector(m, m, 8, 9, 10, 11, 12, 13, 14, 15), v8l);
}
// 16 doubles (two halves) rounded to 16 floats
inline v16f to_f(const v8d& lo, const v8d& hi) {
  const v8f a = __builtin_convertvector(lo, v8f), b = __builtin_convertvector(hi, v8f);
  return __builtin_shufflevector(a, b, 0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15);
}
inline bool any_lane(const v8l& m) {
  int64_t o = 0;
  for (int l = 0; l < 8; ++l) o |= m[l];
  return o != 0;
}

// v = act(x) (and dv = act'(x) when DV) lane by lane; the loop vectorises to one pass per vector.
template <Activation ACT, bool DV>
inline void activate(const v16f& x, v16f* v, v16f* dv) {
  if constexpr (ACT == Activation::None) {
    *v = x;
  } else {
    float xs[kLanes], vs[kLanes], ds[kLanes];
    store(xs, x);
#pragma omp simd
    for (int l = 0; l < kLanes; ++l) sigmoid_f32(xs[l], &vs[l], &ds[l]);
    *v = load<v16f>(vs);
    if constexpr (DV) *dv = load<v16f>(ds);
  }
}

// e^d lane by lane for d <= 0 (the polynomial of core/fast_math.h, < 4 ulp; 0 below -87); NaN stays NaN.
inline v16f exp_nonpos_lanes(const v16f& d) {
  float ds[kLanes], es[kLanes];
  store(ds, d);
#pragma omp simd
  for (int l = 0; l < kLanes; ++l) es[l] = ds[l] == ds[l] ? exp_nonpos_poly(ds[l]) : ds[l];
  return load<v16f>(es);
}

#include "multiclass/cpu_fused_policies.h"

// ---------------------------------------------------------------- NCHW runs of one column
// A tail of len < 16 elements copied into full vectors of ignored samples.
struct PaddedRun {
  float x[kLanes] = {};
  int32_t y[kLanes];
  double w[kLanes] = {};
  PaddedRun(const float* xs, const int32_t* ys, const double* ws, int64_t len) {
    std::fill(y, y + kLanes, -1);
    std::copy(xs, xs + len, x);
    std::copy(ys, ys + len, y);
    std::copy(ws, ws + len, w);
  }
};

template <Activation ACT, typename P>
inline void plane_stats(const P& p, const float* x, const int32_t* y, const double* w, int64_t len, int32_t c,
                        double* st, int64_t stride) {
  typename P::Lanes s;
  auto step = [&](const float* xs, const int32_t* ys, const double* ws) {
    v16f v, unused;
    activate<ACT, false>(load<v16f>(xs), &v, &unused);
    p.plane_step(v, load<v16i>(ys), c, ws, s);
  };
  int64_t t = 0;
  for (; t + kLanes <= len; t += kLanes) step(x + t, y + t, w + t);
  if (t < len) {
    const PaddedRun r(x + t, y + t, w + t, len - t);
    step(r.x, r.y, r.w);
  }
  p.plane_finish(s, st, stride);
}

template <Activation ACT, typename P>
inline void plane_grad_step(const P& p, const float* x, const int32_t* y, const double* w, int32_t c, const float* k,
                            float* g) {
  v16f v, dv;
  activate<ACT, true>(load<v16f>(x), &v, &dv);
  const v16i yy = load<v16i>(y);
  const v16f zero = {};
  v16f out = p.plane_grad(v, yy, c, w, k);
  out = yy >= 0 ? out : zero;
  if constexpr (ACT != Activation::None) out *= dv;
  store(g, out);
}

template <Activation ACT, typename P>
inline void plane_grad(const P& p, const float* x, const int32_t* y, const double* w, int64_t len, int32_t c,
                       const Coef& cf, float* g) {
  const float k[4] = {static_cast<float>(cf.ad), static_cast<float>(cf.bd), static_cast<float>(cf.ao),
                      static_cast<float>(cf.bo)};
  int64_t t = 0;
  for (; t + kLanes <= len; t += kLanes) plane_grad_step<ACT>(p, x + t, y + t, w + t, c, k, g + t);
  if (t < len) {
    const PaddedRun r(x + t, y + t, w + t, len - t);
    float out[kLanes];
    plane_grad_step<ACT>(p, r.x, r.y, r.w, c, k, out);
    std::copy(out, out + (len - t), g + t);
  }
}

// ---------------------------------------------------------------- (N, C) rows
// Calls f(cb, n, xv) for the row's vectors: columns [cb, cb + n), n <= 16, xv zero-padded.
template <typename F>
inline void for_each_vector(const float* x, int64_t C, const F& f) {
  int64_t cb = 0;
  for (; cb + kLanes <= C; cb += kLanes) f(cb, kLanes, load<v16f>(x + cb));
  if (cb < C) {
    float pad[kLanes] = {};
    std::copy(x + cb, x + C, pad);
    f(cb, C - cb, load<v16f>(pad));
  }
}

// Runs f(pointers) on n <= 16 entries of each of the arrays a[0..K) at offset cb: in place for a full
// vector, else on zero-padded copies written back (so f may load and store 16 lanes).
template <typename T, int K, typename F>
inline void with_lanes(T* const (&a)[K], int64_t cb, int64_t n, const F& f) {
  if (n == kLanes) {
    T* q[K];
    for (int i = 0; i < K; ++i) q[i] = a[i] + cb;
    f(q);
    return;
  }
  std::remove_const_t<T> pad[K][kLanes] = {};
  T* q[K];
  for (int i = 0; i < K; ++i) {
    std::copy(a[i] + cb, a[i] + cb + n, pad[i]);
    q[i] = pad[i];
  }
  f(q);
  for (int i = 0; i < K; ++i)
    if constexpr (!std::is_const_v<T>) std::copy(pad[i], pad[i] + n, a[i] + cb);
}

// One row of label y and weight w: the policy's two column arrays (a, b) get the off-label columns,
// its diagonal arrays (da, db) the label's column.
template <Activation ACT, typename P>
inline void row_stats(const P& p, const float* x, int64_t C, int32_t y, double w, double* a, double* b, double* da,
                      double* db) {
  double* const arrays[2] = {a, b};
  float vy = 0.0f;
  for_each_vector(x, C, [&](int64_t cb, int64_t n, const v16f& xv) {
    v16f v, unused;
    activate<ACT, false>(xv, &v, &unused);
    if (y >= cb && y < cb + n) vy = v[y - cb];
    with_lanes(arrays, cb, n, [&](double* const* q) { p.row_step(v, y - cb, n, w, q[0], q[1]); });
  });
  p.row_diag(static_cast<double>(vy), da + y, db + y);
}

template <Activation ACT, typename P>
inline void row_grad(const P& p, const float* x, int64_t C, int32_t y, double w, const float* cf, float* g) {
  const float* coef[4] = {cf, cf + C, cf + 2 * C, cf + 3 * C};  // ad, bd, ao, bo
  const float* const off[2] = {coef[2], coef[3]};
  const float wf = static_cast<float>(w);
  float vy = 0.0f, dvy = 1.0f;
  for_each_vector(x, C, [&](int64_t cb, int64_t n, const v16f& xv) {
    v16f v, dv;
    activate<ACT, true>(xv, &v, &dv);
    if (y >= cb && y < cb + n) {
      vy = v[y - cb];
      if constexpr (ACT != Activation::None) dvy = dv[y - cb];
    }
    v16f out;
    with_lanes(off, cb, n, [&](const float* const* q) { out = p.row_grad(v, wf, q[0], q[1]); });
    if constexpr (ACT != Activation::None) out *= dv;
    if (n == kLanes) {
      store(g + cb, out);
    } else {
      float tmp[kLanes];
      store(tmp, out);
      std::copy(tmp, tmp + n, g + cb);
    }
  });
  g[y] = dvy * p.diag_grad(vy, coef[0][y], coef[1][y]);
}

// ---------------------------------------------------------------- (N, C) rows with C < 16
// A row of fewer than 16 columns would pay a whole padded vector (and its column arrays' padded
// copies) per row; instead 16 rows at a time are transposed into columns of 16 lanes (lanes = rows)
// and go through the plane loops' steps, each column's lane state kept over all the rows of the call.
constexpr int64_t kSmallC = kLanes;

// Rows [n, n + rows) of C < 16 columns, rows <= 16, as columns: x[c][l] = score (n + l, c); missing
// rows are ignored samples (label -1, weight 0, score 0).
struct RowBlock {
  float x[kSmallC][kLanes];
  int32_t y[kLanes];
  double w[kLanes];
  RowBlock(const float* xs, const int32_t* ys, const double* ws, int64_t rows, int64_t C) {
    std::fill(y, y + kLanes, -1);
    std::fill(w, w + kLanes, 0.0);
    std::copy(ys, ys + rows, y);
    std::copy(ws, ws + rows, w);
    for (int64_t c = 0; c < C; ++c) {
      std::fill(x[c], x[c] + kLanes, 0.0f);
      for (int64_t l = 0; l < rows; ++l) x[c][l] = xs[l * C + c];
    }
  }
};

template <Activation ACT, typename P>
inline void small_rows_stats(const P& p, const float* x, int64_t rows, int64_t C, const int32_t* y, const double* w,
                             double* st) {
  typename P::Lanes s[kSmallC];
  for (int64_t n = 0; n < rows; n += kLanes) {
    const RowBlock blk(x + n * C, y + n, w + n, std::min<int64_t>(kLanes, rows - n), C);
    const v16i yy = load<v16i>(blk.y);
    for (int64_t c = 0; c < C; ++c) {
      v16f v, unused;
      activate<ACT, false>(load<v16f>(blk.x[c]), &v, &unused);
      p.plane_step(v, yy, static_cast<int32_t>(c), blk.w, s[c]);
    }
  }
  for (int64_t c = 0; c < C; ++c) p.plane_finish(s[c], st + c, C);
}

template <Activation ACT, typename P>
inline void small_rows_grad(const P& p, const float* x, int64_t rows, int64_t C, const int32_t* y, const double* w,
                            const float* cf, float* g) {
  for (int64_t n = 0; n < rows; n += kLanes) {
    const int64_t nr = std::min<int64_t>(kLanes, rows - n);
    const RowBlock blk(x + n * C, y + n, w + n, nr, C);
    float out[kSmallC][kLanes];
    for (int64_t c = 0; c < C; ++c) {
      const float k[4] = {cf[c], cf[C + c], cf[2 * C + c], cf[3 * C + c]};
      plane_grad_step<ACT>(p, blk.x[c], blk.y, blk.w, static_cast<int32_t>(c), k, out[c]);
    }
    for (int64_t l = 0; l < nr; ++l)
      for (int64_t c = 0; c < C; ++c) g[(n + l) * C + c] = out[c][l];
  }
}

// Rows [0, rows) of labels y (-1 = ignored) and weights w: statistics into st (four arrays of C, the
// order of row_stats' a, b, da, db), gradient (0 for ignored rows) from the float coefficients cf.
template <Activation ACT, typename P>
inline void rows_stats(const P& p, const float* x, int64_t rows, int64_t C, const int32_t* y, const double* w,
                       double* st) {
  if (C < kSmallC) return small_rows_stats<ACT>(p, x, rows, C, y, w, st);
  for (int64_t n = 0; n < rows; ++n)
    if (y[n] >= 0) row_stats<ACT>(p, x + n * C, C, y[n], w[n], st, st + C, st + 2 * C, st + 3 * C);
}

template <Activation ACT, typename P>
inline void rows_grad(const P& p, const float* x, int64_t rows, int64_t C, const int32_t* y, const double* w,
                      const float* cf, float* g) {
  if (C < kSmallC) return small_rows_grad<ACT>(p, x, rows, C, y, w, cf, g);
  for (int64_t n = 0; n < rows; ++n) {
    if (y[n] < 0)
      std::fill(g + n * C, g + (n + 1) * C, 0.0f);
    else
      row_grad<ACT>(p, x + n * C, C, y[n], w[n], cf, g + n * C);
  }
}

// ---------------------------------------------------------------- entry points of this ISA
// Calls f(policy, activation tag) for the surrogate and activation given at run time.
template <typename F>
inline void with_kernel(const FusedSurrogate& sur, Activation act, const F& f) {
  auto by_act = [&](const auto& p) {
    if (act == Activation::Sigmoid)
      f(p, std::integral_constant<Activation, Activation::Sigmoid>{});
    else
      f(p, std::integral_constant<Activation, Activation::None>{});
  };
  if (sur.exp)
    by_act(ExpPolicy{sur.margin});
  else
    by_act(MomentPolicy{});
}

inline void plane_stats_any(const FusedSurrogate& sur, Activation act, const float* x, const int32_t* y,
                            const double* w, int64_t len, int32_t c, double* st, int64_t stride) {
  with_kernel(sur, act,
              [&](const auto& p, auto a) { plane_stats<decltype(a)::value>(p, x, y, w, len, c, st, stride); });
}
inline void plane_grad_any(const FusedSurrogate& sur, Activation act, const float* x, const int32_t* y, const double* w,
                           int64_t len, int32_t c, const Coef& cf, float* g) {
  with_kernel(sur, act, [&](const auto& p, auto a) { plane_grad<decltype(a)::value>(p, x, y, w, len, c, cf, g); });
}
inline void rows_stats_any(const FusedSurrogate& sur, Activation act, const float* x, int64_t rows, int64_t C,
                           const int32_t* y, const double* w, double* st) {
  with_kernel(sur, act, [&](const auto& p, auto t) { rows_stats<decltype(t)::value>(p, x, rows, C, y, w, st); });
}
inline void rows_grad_any(const FusedSurrogate& sur, Activation act, const float* x, int64_t rows, int64_t C,
                          const int32_t* y, const double* w, const float* cf, float* g) {
  with_kernel(sur, act, [&](const auto& p, auto t) { rows_grad<decltype(t)::value>(p, x, rows, C, y, w, cf, g); });
}
