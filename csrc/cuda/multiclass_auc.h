// Launchers of the CUDA multiclass / pixel AUC loss kernels (raw pointers only: shared by the
// nvcc-compiled .cu and the torch-facing glue). Scores are read in place as (B, C, S).
#pragma once
#include <cuda_runtime.h>
#include <cstdint>

namespace torchauc {
namespace cuda {

enum class McDtype : int { F32 = 0, F64 = 1, F16 = 2, BF16 = 3 };

// Number of parts each (label, column) segment is split into by the stats kernels (a fixed function
// of the sizes, so results are deterministic); `part` must hold G * 2 * C * C doubles.
int64_t mc_stats_parts(int64_t C, int64_t S);

// Tables over the samples sorted by label (`order`, with label j at [offsets[j], offsets[j+1])):
// square/linear: T[0:C*C] = sum v, T[C*C:2*C*C] = sum v^2; exp: C*C LseCells (M, E) of the keys.
// Every partial sum runs in a fixed order (no float atomics).
void mc_stats_launch(McDtype dtype, const void* x, const int64_t* order, const int64_t* offsets, int64_t C,
                     int64_t S, int64_t G, int activation, bool exp_tables, double margin, double* part,
                     double* T, cudaStream_t stream);

// The C x C epilogue: per-(label, column) gradient coefficients A, B (C*C each) and the loss
// (loss[0], double), from the class counts (C doubles) and the tables.
void mc_epilogue_launch(int surrogate, int mode, int normalization, int64_t C, const double* counts,
                        const double* T, double margin, double* A, double* B, double* loss_per_class,
                        double* loss, cudaStream_t stream);

// Elementwise gradient into g (the scores' dtype and layout); labels y32 (-1 = ignored, 0 there).
void mc_grad_launch(McDtype dtype, const void* x, const int32_t* y32, const double* A, const double* B,
                    int64_t Bn, int64_t C, int64_t S, int activation, bool exp_tables, double margin, void* g,
                    cudaStream_t stream);

}  // namespace cuda
}  // namespace torchauc
