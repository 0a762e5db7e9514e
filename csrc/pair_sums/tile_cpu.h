// The CPU pair-sum tiles (cpu.cpp), shared by grouped_pair_sums and the fused AP loss step
// (ap_step_cpu.cpp): one query against a range of items, K weighted sums of l(t) and dl/dt; the tiles
// themselves are in tiles_cpu.cpp.
#pragma once
#include <algorithm>
#include <cstdint>

#include "pair_sums/math.h"

namespace torchauc::pair_sums {

constexpr int64_t kTile = 2048;  // items per tile: a tile sums in the compute type, tiles add in float64

// fn(q, sign, m, s, x, w, stride, j0, j1, val, der) adds, for k < K, sum_{j0 <= j < j1} w[k stride + j] l(t)
// to val[k] and the same sum of dl/dt to der[k], with t = sign (q - x[j]).
template <typename T>
using TileFn = void (*)(T, T, T, T, const T*, const T*, int64_t, int64_t, int64_t, double*, double*);

// What a tile adds: both sums, or only the dl/dt sums (val untouched; the logistic skips its log).
enum class TileSums { ValuesAndDerivatives, Derivatives };

// The tile of surrogate s with K weight rows, built for the CPU's instruction set (tiles_cpu.cpp).
template <typename T>
TileFn<T> tile_function(PairSurrogate s, int64_t K, TileSums sums = TileSums::ValuesAndDerivatives);

// One query against items [j0, j1), tile by tile (float64 between tiles).
template <typename T>
inline void query_sums(TileFn<T> fn, T q, T sign, T m, T s, const T* x, const T* w, int64_t stride, int64_t j0,
                       int64_t j1, double* val, double* der) {
  for (int64_t b = j0; b < j1; b += kTile) fn(q, sign, m, s, x, w, stride, b, std::min(j1, b + kTile), val, der);
}

}  // namespace torchauc::pair_sums
