// Block-pair expansion of the exp row / column sums of the LibAUC DRO/KL losses (float inputs).
//
// Positives are blocks I of sorted keys k_i = margin - x_i with centre k0, negatives blocks J of
// sorted scores z_j with centre z0; a = k_i - k0, b = z_j - z0, D0 = k0 + z0, d = D0 + a + b. When
// every pair of (I, J) is active (d > 0), the pair weight e_ij = exp(l(d) / lambda - c_i) factors:
//   hinge (l = d):          e_ij = U_i V_j,                      U_i = exp(il (k_i + z0) - c_i),
//                                                                V_j = exp(il b);
//   squared hinge (l = d^2): e_ij = U_i V_j exp(2 il a b),        U_i = exp(il (k_i + z0)^2 - c_i),
//                                                                V_j = exp(il (2 D0 b + b^2)),
// and exp(2 il a b) = sum_p (2 il)^p a^p b^p / p! is truncated after kOrder terms. Blocks are at most
// 1 / sqrt(il) wide, so |2 il a b| <= 1/2 and the relative truncation error of every (positive-term)
// sum is below e * 0.5^(kOrder+1) / (kOrder+1)! ~ 1e-13. The row and column sums of the block pair
// then cost O((|I| + |J|) kOrder) instead of O(|I| |J|). All of it runs in double.
// Callers use it only where it pays and is safe (see expansion_ok); other pairs are summed directly.
#pragma once
#include <algorithm>
#include <cmath>
#include <cstdint>
#include <vector>

#include "partial_auc/math.h"

namespace torchauc::partial_auc {

constexpr int kOrder = 12;  // Taylor terms of exp(2 il a b), |2 il a b| <= 1/2

struct Block {
  int64_t b, e;  // [b, e) in sorted order
  double lo, hi;
};

// Greedy partition of an ascending array into runs of width <= w and at most cap members.
template <typename T>
std::vector<Block> pauc_blocks(const std::vector<T>& v, double w, int64_t cap) {
  std::vector<Block> out;
  const int64_t n = static_cast<int64_t>(v.size());
  for (int64_t b = 0; b < n;) {
    int64_t e = b + 1;
    while (e < n && e - b < cap && static_cast<double>(v[e]) - static_cast<double>(v[b]) <= w) ++e;
    out.push_back({b, e, static_cast<double>(v[b]), static_cast<double>(v[e - 1])});
    b = e;
  }
  return out;
}

// Block width for the surrogate: squared hinge needs il wI wJ <= 1; hinge has no cross term.
inline double pauc_block_width(Surrogate s, double il) {
  return s == Surrogate::SquaredHinge ? 1.0 / std::sqrt(il) : 40.0 / il;
}

// The factor exponents stay moderate (|il (2 D0 b + b^2)| <= 80), so U_i V_j neither overflows nor
// loses more than exp(-665) absolutely; il is moderate (finite Taylor coefficients, no inf - inf in
// the exponents); and the pair is big enough for the expansion to pay.
inline bool expansion_ok(Surrogate s, double il, double D0, double wI, double wJ, int64_t nI, int64_t nJ) {
  if (nI * nJ < 48 * (nI + nJ) || !(il <= 1e20)) return false;  // (2 il)^kOrder stays finite
  const double hw = 0.5 * std::max(wI, wJ);
  const double v = s == Surrogate::SquaredHinge ? il * (2.0 * std::fabs(D0) * hw + hw * hw) : il * hw;
  return v <= 80.0;
}

// Fraction of members in blocks big enough (>= 48) for an expansion to pay; when the product for
// the two classes is small, most pairs would be summed directly anyway and the plain pair loop is
// cheaper than iterating many tiny block pairs.
inline double pauc_block_coverage(const std::vector<Block>& blocks, int64_t n) {
  int64_t big = 0;
  for (const Block& q : blocks) big += (q.e - q.b >= 48) ? q.e - q.b : 0;
  return n > 0 ? static_cast<double>(big) / static_cast<double>(n) : 0.0;
}

// U_i = exp(x - c_i) <= 1 in exact arithmetic (c_i is the row maximum); clamped at 1 because c_i
// is rounded to float, which for large 1 / lambda can be far from x in absolute terms.
template <typename T>
inline double row_factor(double x, T c) {
  return std::exp(std::min(x - static_cast<double>(c), 0.0));
}

// Coefficients (2 il)^p / p!, p = 0..kOrder.
inline void pauc_taylor(double il, double* cp) {
  cp[0] = 1.0;
  for (int p = 1; p <= kOrder; ++p) cp[p] = cp[p - 1] * 2.0 * il / p;
}

// Row sums over the all-active block pair: adds sum_j e, sum_j e l', sum_j e l of each row i in
// [ib, ie) to s0, s1, s2 (indexed by sorted row; l' = 1, l = d for hinge, l' = 2d, l = d^2 else). k: positive keys, c:
// row shifts, z: negatives.
template <Surrogate S, typename T>
void expand_rows(double il, const T* k, const T* c, int64_t ib, int64_t ie, double k0, const T* z, int64_t jb,
                 int64_t je, double z0, double* s0, double* s1, double* s2) {
  const double D0 = k0 + z0;
  if constexpr (S == Surrogate::Hinge) {
    double m0 = 0.0, m1 = 0.0;
    for (int64_t j = jb; j < je; ++j) {
      const double b = static_cast<double>(z[j]) - z0, v = std::exp(il * b);
      m0 += v;
      m1 += v * b;
    }
    for (int64_t i = ib; i < ie; ++i) {
      const double g = static_cast<double>(k[i]) + z0, u = row_factor(il * g, c[i]);
      s0[i] += u * m0;
      s1[i] += u * m0;
      s2[i] += u * (g * m0 + m1);
    }
  } else {
    double M[kOrder + 3] = {0.0}, cp[kOrder + 1];
    pauc_taylor(il, cp);
    for (int64_t j = jb; j < je; ++j) {
      const double b = static_cast<double>(z[j]) - z0;
      double t = std::exp(il * (2.0 * D0 * b + b * b));
      for (int p = 0; p < kOrder + 3; ++p, t *= b) M[p] += t;
    }
    for (int64_t i = ib; i < ie; ++i) {
      const double a = static_cast<double>(k[i]) - k0, g = D0 + a;
      const double u = row_factor(il * g * g, c[i]);
      double q0 = 0.0, q1 = 0.0, q2 = 0.0, ap = 1.0;
      for (int p = 0; p <= kOrder; ++p, ap *= a) {
        const double w = cp[p] * ap;
        q0 += w * M[p];
        q1 += w * M[p + 1];
        q2 += w * M[p + 2];
      }
      s0[i] += u * q0;
      s1[i] += 2.0 * u * (g * q0 + q1);
      s2[i] += u * (g * g * q0 + 2.0 * g * q1 + q2);
    }
  }
}

// Column sums over the all-active block pair: adds sum_i alpha_i e_ij l'_ij of each negative j in
// [jb, je) to col (indexed by sorted negative).
template <Surrogate S, typename T>
void expand_cols(double il, const T* k, const T* c, const T* alpha, int64_t ib, int64_t ie, double k0, const T* z,
                 int64_t jb, int64_t je, double z0, double* col) {
  const double D0 = k0 + z0;
  if constexpr (S == Surrogate::Hinge) {
    double n0 = 0.0;
    for (int64_t i = ib; i < ie; ++i)
      n0 += static_cast<double>(alpha[i]) * row_factor(il * (static_cast<double>(k[i]) + z0), c[i]);
    for (int64_t j = jb; j < je; ++j) col[j] += n0 * std::exp(il * (static_cast<double>(z[j]) - z0));
  } else {
    double N[kOrder + 2] = {0.0}, cp[kOrder + 1];
    pauc_taylor(il, cp);
    for (int64_t i = ib; i < ie; ++i) {
      const double a = static_cast<double>(k[i]) - k0, g = D0 + a;
      double t = static_cast<double>(alpha[i]) * row_factor(il * g * g, c[i]);
      for (int p = 0; p < kOrder + 2; ++p, t *= a) N[p] += t;
    }
    for (int64_t j = jb; j < je; ++j) {
      const double b = static_cast<double>(z[j]) - z0, h = D0 + b;
      const double v = std::exp(il * (2.0 * D0 * b + b * b));
      double q0 = 0.0, q1 = 0.0, bp = 1.0;
      for (int p = 0; p <= kOrder; ++p, bp *= b) {
        const double w = cp[p] * bp;
        q0 += w * N[p];
        q1 += w * N[p + 1];
      }
      col[j] += 2.0 * v * (h * q0 + q1);
    }
  }
}

}  // namespace torchauc::partial_auc
