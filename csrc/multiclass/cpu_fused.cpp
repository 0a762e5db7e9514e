// See cpu_fused.h. The kernels (cpu_fused_kernels.h) are compiled three times, for AVX-512, AVX2
// and the baseline, and picked once by the CPU's features.
#include "multiclass/cpu_fused.h"

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <string_view>
#include <type_traits>

#include "multiclass/cpu_sigmoid.h"

// Vectors are passed by value only between inlined helpers of the kernels: no ABI is exposed.
#pragma GCC diagnostic ignored "-Wpsabi"

namespace torchauc::multiclass {
namespace {

#pragma GCC push_options
#pragma GCC target("avx512f")
namespace isa_avx512 {
#include "multiclass/cpu_fused_kernels.h"
}  // namespace isa_avx512
#pragma GCC pop_options

#pragma GCC push_options
#pragma GCC target("avx2")
namespace isa_avx2 {
#include "multiclass/cpu_fused_kernels.h"
}  // namespace isa_avx2
#pragma GCC pop_options

namespace isa_base {
#include "multiclass/cpu_fused_kernels.h"
}  // namespace isa_base

enum class Isa { Base, Avx2, Avx512 };
// The best the CPU runs, capped by TORCHAUC_CPU_ISA=avx2|base if set (how the tests run the other
// kernels on an AVX-512 machine); read once.
Isa cpu_isa() {
  static const Isa isa = [] {
    __builtin_cpu_init();
    Isa best = __builtin_cpu_supports("avx512f") ? Isa::Avx512 : __builtin_cpu_supports("avx2") ? Isa::Avx2 : Isa::Base;
    const char* cap = std::getenv("TORCHAUC_CPU_ISA");
    if (cap && std::string_view(cap) == "base") best = Isa::Base;
    if (cap && std::string_view(cap) == "avx2" && best == Isa::Avx512) best = Isa::Avx2;
    return best;
  }();
  return isa;
}

}  // namespace

#define TAUC_BY_ISA(fn, ...)                              \
  switch (cpu_isa()) {                                    \
    case Isa::Avx512: return isa_avx512::fn(__VA_ARGS__); \
    case Isa::Avx2: return isa_avx2::fn(__VA_ARGS__);     \
    default: return isa_base::fn(__VA_ARGS__);            \
  }

void mc_plane_stats_f32(const FusedSurrogate& sur, Activation act, const float* x, const int32_t* y, const double* w,
                        int64_t len, int32_t c, double* st, int64_t stride) {
  TAUC_BY_ISA(plane_stats_any, sur, act, x, y, w, len, c, st, stride)
}

void mc_plane_grad_f32(const FusedSurrogate& sur, Activation act, const float* x, const int32_t* y, const double* w,
                       int64_t len, int32_t c, const Coef& cf, float* g) {
  TAUC_BY_ISA(plane_grad_any, sur, act, x, y, w, len, c, cf, g)
}

void mc_row_stats_f32(const FusedSurrogate& sur, Activation act, const float* x, int64_t C, int32_t y, double w,
                      double* a, double* b, double* da, double* db) {
  TAUC_BY_ISA(row_stats_any, sur, act, x, C, y, w, a, b, da, db)
}

void mc_row_grad_f32(const FusedSurrogate& sur, Activation act, const float* x, int64_t C, int32_t y, double w,
                     const float* cf, float* g) {
  TAUC_BY_ISA(row_grad_any, sur, act, x, C, y, w, cf, g)
}

}  // namespace torchauc::multiclass
