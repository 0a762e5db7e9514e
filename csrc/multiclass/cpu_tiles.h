// Vectorised inner loops of the multiclass / pixel AUC loss (square, linear) over one tile of
// activated scores v (float for float/half/bfloat16 scores, double for double). Sums run over 8
// fixed lanes combined in a fixed order, so values do not depend on the ISA clone or thread count.
#pragma once
#include <cstdint>

#include "multiclass/math.h"

namespace torchauc::multiclass {

// A run of one column c (the NCHW layout): adds to acc = {u1, u2, d1, d2} (math.h)
// the samples t with labels y[t] (-1 = ignored) and weights r[t].
void mc_moments_column(const float* v, const int32_t* y, const double* r, int64_t len, int32_t c, double* acc);
void mc_moments_column(const double* v, const int32_t* y, const double* r, int64_t len, int32_t c, double* acc);

// A run of one sample's row (the (N, C) layout) over columns [0, len), sample label y relative to the
// run's first column, weight r: u1[t] += r v[t], u2[t] += r v[t]^2 for t != y.
void mc_moments_row(const float* v, int64_t len, int64_t y, double r, double* u1, double* u2);
void mc_moments_row(const double* v, int64_t len, int64_t y, double r, double* u1, double* u2);

// Gradient of a column run (in place into dv: dv[t] <- dv[t] * dL/dv[t]; ignored samples get 0).
void mc_grad_column(const float* v, float* dv, const int32_t* y, const double* r, int64_t len, int32_t c,
                    const Coef& cf);
void mc_grad_column(const double* v, double* dv, const int32_t* y, const double* r, int64_t len, int32_t c,
                    const Coef& cf);

// Gradient of a row run with per-column coefficients ad, bd, ao, bo (y relative to the run).
void mc_grad_row(const float* v, float* dv, int64_t len, int64_t y, double r, const double* ad, const double* bd,
                 const double* ao, const double* bo);
void mc_grad_row(const double* v, double* dv, int64_t len, int64_t y, double r, const double* ad, const double* bd,
                 const double* ao, const double* bo);

}  // namespace torchauc::multiclass
