// The register tile of the CPU's tiled pairwise pass (logistic, sigmoid; pairwise/cpu_tiled.cpp): kTileRows
// rows against a block of columns, accumulating row partials in registers and column partials in the block's
// L1-resident arrays. No torch dependency.
#pragma once
#include <cstdint>

#include "pairwise/math.h"

namespace torchauc::pairwise {

// Work unit: kTileRows rows against one block of kTileCols columns. The block's arrays (key, weight, the two
// exp factors, float column partials: 6 x 4 KiB) stay in L1 while all rows pass over it; each pass loads and
// stores a column partial once for kTileRows pairs. Row partials live in kTileLanes explicit lanes, added in
// the same order by every ISA clone; columns are padded to a multiple of kTileLanes. Float partials go to
// double every kTileRowChunk rows (columns) and every block (rows), so no float sum runs over more than
// max(kTileRowChunk, kTileCols / kTileLanes) = 256 pairs.
constexpr int kTileRows = 4;
constexpr int kTileLanes = 16;
constexpr int64_t kTileCols = 1024;
constexpr int64_t kTileRowChunk = 256;

// One side's tile operands from some offset: keys (raw scores), weights and, for the factored form, the
// per-sample factors e^{u}, e^{-u} with v = u_row + u_col (see cpu_tiled.cpp).
template <typename T>
struct TileSpan {
  const T *key, *w, *ep, *em;
};

// v = scale (column key - row key). Factored: the surrogate from e^{±v} = row factor * column factor
// (tiled_surrogate_from_exps; the caller checks that every product is finite and normal), else from v alone.
template <Surrogate S, bool Factored, typename T>
__attribute__((always_inline)) inline void tile_rows(const TileSpan<T>& R, const TileSpan<T>& C, T scale, int64_t len,
                                                     T* col_l, T* col_d, T* row_l, T* row_d) {
  T r[kTileRows], a[kTileRows], rp[kTileRows], rm[kTileRows];
  for (int q = 0; q < kTileRows; ++q) {
    r[q] = R.key[q], a[q] = R.w[q];
    rp[q] = Factored ? R.ep[q] : T(0), rm[q] = Factored ? R.em[q] : T(0);
  }
  T lane_l[kTileRows][kTileLanes] = {}, lane_d[kTileRows][kTileLanes] = {};
  for (int64_t j0 = 0; j0 < len; j0 += kTileLanes) {
#pragma omp simd
    for (int k = 0; k < kTileLanes; ++k) {
      const int64_t j = j0 + k;
      const T cj = C.key[j], bj = C.w[j];
      T cl = 0, cd = 0;
      for (int q = 0; q < kTileRows; ++q) {
        T val, der;
        if constexpr (Factored)
          tiled_surrogate_from_exps<S, T>(scale * (cj - r[q]), C.ep[j] * rp[q], C.em[j] * rm[q], &val, &der);
        else
          tiled_surrogate<S, T>(scale * (cj - r[q]), &val, &der);
        lane_l[q][k] += bj * val, lane_d[q][k] += bj * der;
        cl += a[q] * val, cd += a[q] * der;
      }
      col_l[j] += cl;
      col_d[j] += cd;
    }
  }
  for (int q = 0; q < kTileRows; ++q) {
    T sl = 0, sd = 0;
    for (int k = 0; k < kTileLanes; ++k) sl += lane_l[q][k], sd += lane_d[q][k];
    row_l[q] = sl, row_d[q] = sd;
  }
}

}  // namespace torchauc::pairwise
