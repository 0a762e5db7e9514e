// Compiles a kernel header three times, for AVX-512, AVX2 and the baseline, into the namespaces
// isa_avx512, isa_avx2 and isa_base that TAUC_BY_ISA (core/cpu_isa.h) calls. Include it inside the
// family's anonymous namespace with TAUC_ISA_KERNELS defined as the kernel header's quoted path;
// no include guard: it is meant to expand once per kernel header.
#ifndef TAUC_ISA_KERNELS
#error "define TAUC_ISA_KERNELS as the kernel header to compile per ISA"
#endif

#pragma GCC push_options
#pragma GCC target("avx512f")
namespace isa_avx512 {
#include TAUC_ISA_KERNELS
}  // namespace isa_avx512
#pragma GCC pop_options

// fma with avx2: every AVX2 CPU has it (cpu_isa() checks both), and avx512f implies it, so the AVX2
// clone contracts a * b + c as the AVX-512 one does (GCC's default -ffp-contract=fast). No kernel
// relies on uncontracted products: the clones agree within the kernels' stated float rounding
// bounds, not bit for bit (tests: test_isa_clones_agree, test_multiclass_fused).
#pragma GCC push_options
#pragma GCC target("avx2,fma")
namespace isa_avx2 {
#include TAUC_ISA_KERNELS
}  // namespace isa_avx2
#pragma GCC pop_options

namespace isa_base {
#include TAUC_ISA_KERNELS
}  // namespace isa_base

#undef TAUC_ISA_KERNELS
