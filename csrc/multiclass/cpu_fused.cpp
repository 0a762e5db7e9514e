// See cpu_fused.h. The kernels (cpu_fused_kernels.h) are compiled three times, for AVX-512, AVX2
// and the baseline, and picked by the CPU's features (core/cpu_isa.h) once per call: a call takes a
// whole run or a whole block of rows, so the dispatch is not paid per row.
#include "multiclass/cpu_fused.h"

#include <algorithm>
#include <cmath>
#include <type_traits>

#include "core/cpu_isa.h"
#include "multiclass/cpu_sigmoid.h"

// Vectors are passed by value only between inlined helpers of the kernels: no ABI is exposed.
#pragma GCC diagnostic ignored "-Wpsabi"

namespace torchauc::multiclass {
namespace {

#define TAUC_ISA_KERNELS "multiclass/cpu_fused_kernels.h"
#include "core/cpu_isa_clones.h"

}  // namespace

void mc_plane_stats_f32(const FusedSurrogate& sur, Activation act, const float* x, const int32_t* y, const double* w,
                        int64_t len, int32_t c, double* st, int64_t stride) {
  TAUC_BY_ISA(plane_stats_any, sur, act, x, y, w, len, c, st, stride)
}

void mc_plane_grad_f32(const FusedSurrogate& sur, Activation act, const float* x, const int32_t* y, const double* w,
                       int64_t len, int32_t c, const Coef& cf, float* g) {
  TAUC_BY_ISA(plane_grad_any, sur, act, x, y, w, len, c, cf, g)
}

void mc_rows_stats_f32(const FusedSurrogate& sur, Activation act, const float* x, int64_t rows, int64_t C,
                       const int32_t* y, const double* w, double* st) {
  TAUC_BY_ISA(rows_stats_any, sur, act, x, rows, C, y, w, st)
}

void mc_rows_grad_f32(const FusedSurrogate& sur, Activation act, const float* x, int64_t rows, int64_t C,
                      const int32_t* y, const double* w, const float* cf, float* g) {
  TAUC_BY_ISA(rows_grad_any, sur, act, x, rows, C, y, w, cf, g)
}

}  // namespace torchauc::multiclass
