// The instruction set of the CPU kernels that are built once per ISA (multiclass/cpu_fused.cpp,
// pair_sums/tiles_cpu.cpp): each includes its kernel header three times, inside `#pragma GCC target`
// regions and the namespaces isa_avx512, isa_avx2 and isa_base (core/cpu_isa_clones.h), and calls them
// through TAUC_BY_ISA.
// Unlike target_clones, the choice can be capped, so the tests run every clone on an AVX-512 machine.
#pragma once
#include <cstdlib>
#include <string_view>

namespace torchauc {

enum class CpuIsa { Base, Avx2, Avx512 };

// The best the CPU runs, capped by TORCHAUC_CPU_ISA=avx2|base if set; read once per process.
inline CpuIsa cpu_isa() {
  static const CpuIsa isa = [] {
    __builtin_cpu_init();
    CpuIsa best = __builtin_cpu_supports("avx512f")                                 ? CpuIsa::Avx512
                  : __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma") ? CpuIsa::Avx2
                                                                                    : CpuIsa::Base;
    const char* cap = std::getenv("TORCHAUC_CPU_ISA");
    if (cap && std::string_view(cap) == "base") best = CpuIsa::Base;
    if (cap && std::string_view(cap) == "avx2" && best == CpuIsa::Avx512) best = CpuIsa::Avx2;
    return best;
  }();
  return isa;
}

}  // namespace torchauc

// return fn(args...) from the clone cpu_isa() picks.
#define TAUC_BY_ISA(fn, ...)                                             \
  switch (::torchauc::cpu_isa()) {                                       \
    case ::torchauc::CpuIsa::Avx512: return isa_avx512::fn(__VA_ARGS__); \
    case ::torchauc::CpuIsa::Avx2: return isa_avx2::fn(__VA_ARGS__);     \
    default: return isa_base::fn(__VA_ARGS__);                           \
  }
