// The CPU pair-sum tiles (tile_cpu.h) of every surrogate, compute type and weight count, compiled for
// AVX-512, AVX2 and the baseline and picked by the CPU's features (core/cpu_isa.h). A tile sums in its
// compute type in the same order in every clone: clones differ by FMA contraction only.
#include "core/cpu_isa.h"
#include "pair_sums/math.h"
#include "pair_sums/tile_cpu.h"

namespace torchauc::pair_sums {
namespace {

#define TAUC_ISA_KERNELS "pair_sums/tile_kernels.h"
#include "core/cpu_isa_clones.h"

}  // namespace

template <typename T>
TileFn<T> tile_function(PairSurrogate s, int64_t K, TileSums sums) {
  TAUC_BY_ISA(pick_tile<T>, s, K, sums == TileSums::ValuesAndDerivatives)
}
template TileFn<float> tile_function<float>(PairSurrogate, int64_t, TileSums);
template TileFn<double> tile_function<double>(PairSurrogate, int64_t, TileSums);

}  // namespace torchauc::pair_sums
