// See multiclass_tiles.h. Each loop is written once as a template and instantiated for float and
// double tiles in an AVX2 and a default clone (the CPU target builds for baseline x86-64).
#include "multiclass/cpu_tiles.h"

namespace torchauc::multiclass {
namespace {

// 8 lanes as GCC vector extensions: the lane sums are explicit, so every ISA clone adds in the same
// order (AVX2: two 4-wide ops per lane vector; baseline: four SSE2 ops).
typedef double v8d __attribute__((vector_size(64)));
typedef float v8f __attribute__((vector_size(32)));
typedef int32_t v8i __attribute__((vector_size(32)));
typedef int64_t v8l __attribute__((vector_size(64)));
constexpr int kLanes = 8;

inline void load8(const float* p, v8d* out) {
  v8f f;
  __builtin_memcpy(&f, p, sizeof f);
  *out = __builtin_convertvector(f, v8d);
}
inline void load8(const double* p, v8d* out) { __builtin_memcpy(out, p, sizeof *out); }

template <typename T>
inline void moments_column(const T* v, const int32_t* y, const double* r, int64_t len, int32_t c, double* acc) {
  const v8d zero = {};
  v8d u1 = zero, u2 = zero, d1 = zero, d2 = zero;
  int64_t t0 = 0;
  for (; t0 + kLanes <= len; t0 += kLanes) {
    v8d x, rx;
    load8(v + t0, &x);
    load8(r + t0, &rx);
    rx *= x;
    v8i yy;
    __builtin_memcpy(&yy, y + t0, sizeof yy);
    const v8l on = __builtin_convertvector(yy == c, v8l);
    const v8l off = __builtin_convertvector((yy >= 0) & (yy != c), v8l);
    u1 += off ? rx : zero;
    u2 += off ? rx * x : zero;
    d1 += on ? x : zero;
    d2 += on ? x * x : zero;
  }
  for (int64_t t = t0; t < len; ++t) {
    const double x = static_cast<double>(v[t]);
    const int32_t yy = y[t];
    const int l = static_cast<int>(t - t0);
    if (yy == c) {
      d1[l] += x;
      d2[l] += x * x;
    } else if (yy >= 0) {
      u1[l] += r[t] * x;
      u2[l] += r[t] * x * x;
    }
  }
  double s[4] = {0.0, 0.0, 0.0, 0.0};
  for (int l = 0; l < kLanes; ++l) {
    s[0] += u1[l];
    s[1] += u2[l];
    s[2] += d1[l];
    s[3] += d2[l];
  }
  for (int q = 0; q < 4; ++q) acc[q] += s[q];
}

template <typename T>
inline void moments_row(const T* v, int64_t len, int64_t y, double r, double* u1, double* u2) {
#pragma omp simd
  for (int64_t t = 0; t < len; ++t) {
    const double x = static_cast<double>(v[t]);
    const double rx = t == y ? 0.0 : r * x;
    u1[t] += rx;
    u2[t] += rx * x;
  }
}

template <typename T>
inline void grad_column(const T* v, T* dv, const int32_t* y, const double* r, int64_t len, int32_t c, const Coef& cf) {
#pragma omp simd
  for (int64_t t = 0; t < len; ++t) {
    const double x = static_cast<double>(v[t]);
    const int32_t yy = y[t];
    const double on = cf.ad * x + cf.bd, off = r[t] * (cf.ao * x + cf.bo);
    double g = yy == c ? on : off;
    g = yy >= 0 ? g : 0.0;
    dv[t] = static_cast<T>(g * static_cast<double>(dv[t]));
  }
}

template <typename T>
inline void grad_row(const T* v, T* dv, int64_t len, int64_t y, double r, const double* ad, const double* bd,
                     const double* ao, const double* bo) {
#pragma omp simd
  for (int64_t t = 0; t < len; ++t) {
    const double x = static_cast<double>(v[t]);
    const double g = t == y ? ad[t] * x + bd[t] : r * (ao[t] * x + bo[t]);
    dv[t] = static_cast<T>(g * static_cast<double>(dv[t]));
  }
}

}  // namespace

#define TAUC_CLONES __attribute__((target_clones("avx2", "default")))

TAUC_CLONES void mc_moments_column(const float* v, const int32_t* y, const double* r, int64_t len, int32_t c,
                                   double* acc) {
  moments_column(v, y, r, len, c, acc);
}
TAUC_CLONES void mc_moments_column(const double* v, const int32_t* y, const double* r, int64_t len, int32_t c,
                                   double* acc) {
  moments_column(v, y, r, len, c, acc);
}
TAUC_CLONES void mc_moments_row(const float* v, int64_t len, int64_t y, double r, double* u1, double* u2) {
  moments_row(v, len, y, r, u1, u2);
}
TAUC_CLONES void mc_moments_row(const double* v, int64_t len, int64_t y, double r, double* u1, double* u2) {
  moments_row(v, len, y, r, u1, u2);
}
TAUC_CLONES void mc_grad_column(const float* v, float* dv, const int32_t* y, const double* r, int64_t len, int32_t c,
                                const Coef& cf) {
  grad_column(v, dv, y, r, len, c, cf);
}
TAUC_CLONES void mc_grad_column(const double* v, double* dv, const int32_t* y, const double* r, int64_t len, int32_t c,
                                const Coef& cf) {
  grad_column(v, dv, y, r, len, c, cf);
}
TAUC_CLONES void mc_grad_row(const float* v, float* dv, int64_t len, int64_t y, double r, const double* ad,
                             const double* bd, const double* ao, const double* bo) {
  grad_row(v, dv, len, y, r, ad, bd, ao, bo);
}
TAUC_CLONES void mc_grad_row(const double* v, double* dv, int64_t len, int64_t y, double r, const double* ad,
                             const double* bd, const double* ao, const double* bo) {
  grad_row(v, dv, len, y, r, ad, bd, ao, bo);
}

}  // namespace torchauc::multiclass
