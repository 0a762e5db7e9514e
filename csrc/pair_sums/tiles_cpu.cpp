// The CPU pair-sum tiles (tile_cpu.h) of every surrogate, compute type and weight count, compiled for
// AVX-512, AVX2 and the baseline and picked by the CPU's features (core/cpu_isa.h). A tile sums in its
// compute type in the same order in every clone: clones differ by FMA contraction only.
#include "core/cpu_isa.h"
#include "pair_sums/math.h"
#include "pair_sums/tile_cpu.h"

namespace torchauc::pair_sums {
namespace {

#pragma GCC push_options
#pragma GCC target("avx512f")
namespace isa_avx512 {
#include "pair_sums/tile_kernels.h"
}  // namespace isa_avx512
#pragma GCC pop_options

#pragma GCC push_options
#pragma GCC target("avx2")
namespace isa_avx2 {
#include "pair_sums/tile_kernels.h"
}  // namespace isa_avx2
#pragma GCC pop_options

namespace isa_base {
#include "pair_sums/tile_kernels.h"
}  // namespace isa_base

}  // namespace

template <typename T>
TileFn<T> tile_function(PairSurrogate s, int64_t K, TileSums sums) {
  TAUC_BY_ISA(pick_tile<T>, s, K, sums == TileSums::ValuesAndDerivatives)
}
template TileFn<float> tile_function<float>(PairSurrogate, int64_t, TileSums);
template TileFn<double> tile_function<double>(PairSurrogate, int64_t, TileSums);

}  // namespace torchauc::pair_sums
