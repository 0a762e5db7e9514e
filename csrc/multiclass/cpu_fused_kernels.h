// The kernels of cpu_fused.cpp, included there once per instruction set inside a
// `#pragma GCC target` region and a namespace of its own (no include guard on purpose). GCC vector
// extensions of 16 floats (two halves of 8 doubles for the sums): one zmm per vector under AVX-512,
// two ymm under AVX2, four xmm in the baseline, with the same lane order in all three. (Defined
// inside the target region, not only called from a target_clones function: GCC 12 lowers the mask
// selects of an inlined baseline helper lane by lane.)

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
// 16 doubles (two halves) rounded to 16 floats
inline v16f to_f(const v8d& lo, const v8d& hi) {
  const v8f a = __builtin_convertvector(lo, v8f), b = __builtin_convertvector(hi, v8f);
  return __builtin_shufflevector(a, b, 0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15);
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

// ---------------------------------------------------------------- NCHW runs of one column
struct PlaneSums {
  v8d u1[2] = {}, u2[2] = {}, d1[2] = {}, d2[2] = {};
};

template <Activation ACT>
inline void plane_moments_step(const float* x, const int32_t* y, const double* w, int32_t c, PlaneSums& s) {
  v16f v, unused;
  activate<ACT, false>(load<v16f>(x), &v, &unused);
  const v16i yy = load<v16i>(y);
  // masked in float (a 16-lane select), then widened: the masked-off lanes add exact zeros
  const v16f zero = {};
  const v16f on = yy == c ? v : zero, off = yy >= 0 ? (yy != c ? v : zero) : zero;
  const v8d onh[2] = {lo_d(on), hi_d(on)}, offh[2] = {lo_d(off), hi_d(off)};
  for (int h = 0; h < 2; ++h) {
    const v8d wv = load<v8d>(w + 8 * h) * offh[h];
    s.u1[h] += wv;
    s.u2[h] += wv * offh[h];
    s.d1[h] += onh[h];
    s.d2[h] += onh[h] * onh[h];
  }
}

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

template <Activation ACT>
inline void plane_moments(const float* x, const int32_t* y, const double* w, int64_t len, int32_t c, double* acc) {
  PlaneSums s;
  int64_t t = 0;
  for (; t + kLanes <= len; t += kLanes) plane_moments_step<ACT>(x + t, y + t, w + t, c, s);
  if (t < len) {
    const PaddedRun p(x + t, y + t, w + t, len - t);
    plane_moments_step<ACT>(p.x, p.y, p.w, c, s);
  }
  const v8d* q[4] = {s.u1, s.u2, s.d1, s.d2};
  for (int k = 0; k < 4; ++k) {
    double sum = 0.0;
    for (int h = 0; h < 2; ++h)
      for (int l = 0; l < 8; ++l) sum += q[k][h][l];
    acc[k] += sum;
  }
}

template <Activation ACT>
inline void plane_grad_step(const float* x, const int32_t* y, const double* w, int32_t c, const float* k, float* g) {
  v16f v, dv;
  activate<ACT, true>(load<v16f>(x), &v, &dv);
  const v16i yy = load<v16i>(y);
  const v16f wf = to_f(load<v8d>(w), load<v8d>(w + 8));
  const v16f zero = {};
  v16f out = yy == c ? k[0] * v + k[1] : wf * (k[2] * v + k[3]);
  out = yy >= 0 ? out : zero;
  if constexpr (ACT != Activation::None) out *= dv;
  store(g, out);
}

template <Activation ACT>
inline void plane_grad(const float* x, const int32_t* y, const double* w, int64_t len, int32_t c, const Coef& cf,
                       float* g) {
  const float k[4] = {static_cast<float>(cf.ad), static_cast<float>(cf.bd), static_cast<float>(cf.ao),
                      static_cast<float>(cf.bo)};
  int64_t t = 0;
  for (; t + kLanes <= len; t += kLanes) plane_grad_step<ACT>(x + t, y + t, w + t, c, k, g + t);
  if (t < len) {
    const PaddedRun p(x + t, y + t, w + t, len - t);
    float out[kLanes];
    plane_grad_step<ACT>(p.x, p.y, p.w, c, k, out);
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

template <Activation ACT>
inline void row_moments(const float* x, int64_t C, int32_t y, double w, double* u1, double* u2, double* d1,
                        double* d2) {
  const v8l lane = {0, 1, 2, 3, 4, 5, 6, 7};
  const v8d zero = {};
  float vy = 0.0f;
  for_each_vector(x, C, [&](int64_t cb, int64_t n, const v16f& xv) {
    v16f v, unused;
    activate<ACT, false>(xv, &v, &unused);
    if (y >= cb && y < cb + n) vy = v[y - cb];
    const v8d vh[2] = {lo_d(v), hi_d(v)};
    for (int h = 0; h < 2; ++h) {
      const int64_t c0 = cb + 8 * h;
      const v8d wv = (lane + c0 != y) ? w * vh[h] : zero;
      if (c0 + 8 <= C) {
        store(u1 + c0, load<v8d>(u1 + c0) + wv);
        store(u2 + c0, load<v8d>(u2 + c0) + wv * vh[h]);
      } else {
        for (int64_t l = 0; c0 + l < C; ++l) {
          u1[c0 + l] += wv[l];
          u2[c0 + l] += wv[l] * vh[h][l];
        }
      }
    }
  });
  const double vd = static_cast<double>(vy);
  d1[y] += vd;
  d2[y] += vd * vd;
}

template <Activation ACT>
inline void row_grad(const float* x, int64_t C, int32_t y, double w, const float* cf, float* g) {
  const float* ad = cf;
  const float *bd = cf + C, *ao = cf + 2 * C, *bo = cf + 3 * C;
  const float wf = static_cast<float>(w);
  float vy = 0.0f, dvy = 1.0f;
  for_each_vector(x, C, [&](int64_t cb, int64_t n, const v16f& xv) {
    v16f v, dv;
    activate<ACT, true>(xv, &v, &dv);
    if (y >= cb && y < cb + n) {
      vy = v[y - cb];
      if constexpr (ACT != Activation::None) dvy = dv[y - cb];
    }
    if (n == kLanes) {
      v16f out = wf * (load<v16f>(ao + cb) * v + load<v16f>(bo + cb));
      if constexpr (ACT != Activation::None) out *= dv;
      store(g + cb, out);
    } else {
      for (int64_t l = 0; l < n; ++l) {
        float out = wf * (ao[cb + l] * v[l] + bo[cb + l]);
        if constexpr (ACT != Activation::None) out *= dv[l];
        g[cb + l] = out;
      }
    }
  });
  g[y] = dvy * (ad[y] * vy + bd[y]);
}

// ---------------------------------------------------------------- entry points of this ISA
inline void plane_moments_any(Activation act, const float* x, const int32_t* y, const double* w, int64_t len, int32_t c,
                              double* acc) {
  if (act == Activation::Sigmoid)
    plane_moments<Activation::Sigmoid>(x, y, w, len, c, acc);
  else
    plane_moments<Activation::None>(x, y, w, len, c, acc);
}
inline void plane_grad_any(Activation act, const float* x, const int32_t* y, const double* w, int64_t len, int32_t c,
                           const Coef& cf, float* g) {
  if (act == Activation::Sigmoid)
    plane_grad<Activation::Sigmoid>(x, y, w, len, c, cf, g);
  else
    plane_grad<Activation::None>(x, y, w, len, c, cf, g);
}
inline void row_moments_any(Activation act, const float* x, int64_t C, int32_t y, double w, double* u1, double* u2,
                            double* d1, double* d2) {
  if (act == Activation::Sigmoid)
    row_moments<Activation::Sigmoid>(x, C, y, w, u1, u2, d1, d2);
  else
    row_moments<Activation::None>(x, C, y, w, u1, u2, d1, d2);
}
inline void row_grad_any(Activation act, const float* x, int64_t C, int32_t y, double w, const float* cf, float* g) {
  if (act == Activation::Sigmoid)
    row_grad<Activation::Sigmoid>(x, C, y, w, cf, g);
  else
    row_grad<Activation::None>(x, C, y, w, cf, g);
}
