// CPU kernel of grouped_pair_sums: queries in parallel, each against its
// group's items in tiles of kTile (tiles_cpu.cpp: vectorised for the CPU's
// instruction set); a tile sums in the compute type, tiles add in float64. O(K
// (Q + I)) memory: no pair matrix.
#include <ATen/ATen.h>
#include <ATen/Parallel.h>
#include <torch/library.h>

#include <algorithm>

#include "pair_sums/args.h"
#include "pair_sums/math.h"
#include "pair_sums/tile_cpu.h"

namespace torchauc::pair_sums {
namespace {

template <typename T>
void pair_sums(const PairSumsArgs& a, TileFn<T> fn, double margin, double scale, double sign, double* value,
               double* dquery) {
  const T* q = a.queries.data_ptr<T>();
  const T* x = a.items.data_ptr<T>();
  const T* w = a.weights.data_ptr<T>();
  const int64_t* grp = a.group.data_ptr<int64_t>();
  const int64_t* off = a.offsets.data_ptr<int64_t>();
  const int64_t K = a.K, Q = a.Q;
  const int64_t per_query = std::max<int64_t>(1, a.I / std::max<int64_t>(1, a.G));
  at::parallel_for(0, Q, std::max<int64_t>(1, (int64_t(1) << 15) / per_query), [&](int64_t b, int64_t e) {
    for (int64_t i = b; i < e; ++i) {
      double val[kMaxWeights] = {0, 0, 0, 0}, der[kMaxWeights] = {0, 0, 0, 0};
      query_sums<T>(fn, q[i], static_cast<T>(sign), static_cast<T>(margin), static_cast<T>(scale), x, w, a.I,
                    off[grp[i]], off[grp[i] + 1], val, der);
      for (int64_t k = 0; k < K; ++k) {
        value[k * Q + i] = val[k];
        dquery[k * Q + i] = sign * der[k];  // dt / d query = sign
      }
    }
  });
}

std::tuple<at::Tensor, at::Tensor> grouped_pair_sums_cpu(const at::Tensor& queries, const at::Tensor& query_group,
                                                         const at::Tensor& items, const at::Tensor& item_offsets,
                                                         const at::Tensor& weights, c10::string_view surrogate,
                                                         double margin, double scale, double sign) {
  const PairSumsArgs a =
      check_pair_sums_args(queries, query_group, items, item_offsets, weights, surrogate, margin, scale, sign);
  check_group_indices_cpu(a);
  const auto f64 = queries.options().dtype(at::kDouble);
  at::Tensor value = at::empty({a.K, a.Q}, f64), dquery = at::empty({a.K, a.Q}, f64);
  double* v = value.data_ptr<double>();
  double* d = dquery.data_ptr<double>();
  if (a.items.scalar_type() == at::kDouble)
    pair_sums<double>(a, tile_function<double>(a.surrogate, a.K), margin, scale, sign, v, d);
  else
    pair_sums<float>(a, tile_function<float>(a.surrogate, a.K), margin, scale, sign, v, d);
  return {value, dquery};
}

}  // namespace

TORCH_LIBRARY_IMPL(torchauc, CPU, m) { m.impl("grouped_pair_sums", &grouped_pair_sums_cpu); }

}  // namespace torchauc::pair_sums
