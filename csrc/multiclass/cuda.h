// Launchers of the CUDA multiclass / pixel AUC loss kernels (raw pointers only: shared by the
// nvcc-compiled .cu and the torch-facing glue). Scores are read in place as (B, C, S).
#pragma once
#include <cuda_runtime.h>

#include <cstdint>

#include "core/dtype.h"

namespace torchauc::multiclass {
namespace cuda {

// Number of sample parts G the stats kernel splits the Ns = Bn * S samples into (a fixed function of
// the sizes, so results are deterministic); `part` must hold G * 4 * C doubles.
int64_t mc_stats_parts(int64_t Ns, int64_t C, int64_t S);

// Column stats (math.h), 4 * C doubles, row q at stats[q * C]:
// square/linear: u1, u2, d1, d2; exp: the positive cell (M, E) then the negative cell (M, E).
// y32: labels (-1 = ignored); r: per-sample weights (rho, or log rho for exp; 0 where ignored).
// Every partial sum runs in a fixed order (no float atomics).
void mc_stats_launch(Dtype dtype, const void* x, const int32_t* y32, const double* r, int64_t Bn, int64_t C, int64_t S,
                     int64_t G, int activation, bool exp_stats, double margin, double* part, double* stats,
                     cudaStream_t stream);

// The O(C) epilogue: per-column gradient coefficients (4 * C doubles: ad, bd, ao, bo rows), the
// per-column losses and the loss (loss[0]), from the class counts (C doubles) and the stats.
void mc_epilogue_launch(int surrogate, int mode, int normalization, int64_t C, const double* counts,
                        const double* stats, double margin, double* coef, double* loss_per_class, double* loss,
                        cudaStream_t stream);

// Elementwise gradient into g (the scores' dtype and layout); ignored samples get 0.
void mc_grad_launch(Dtype dtype, const void* x, const int32_t* y32, const double* r, const double* coef, int64_t Bn,
                    int64_t C, int64_t S, int activation, bool exp_stats, double margin, void* g, cudaStream_t stream);

}  // namespace cuda
}  // namespace torchauc::multiclass
