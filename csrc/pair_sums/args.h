// Argument checks of grouped_pair_sums, shared by the CPU kernel and the CUDA
// glue.
#pragma once
#include <ATen/ATen.h>

#include <cmath>
#include <string>

#include "pair_sums/math.h"

namespace torchauc::pair_sums {

struct PairSumsArgs {
  at::Tensor queries, group, items, offsets,
      weights;  // contiguous; floats in the compute dtype
  int64_t K, Q, I, G;
  PairSurrogate surrogate;
};

inline PairSurrogate parse_pair_surrogate(c10::string_view name) {
  const std::string s(name);
  if (s == "squared_hinge") return PairSurrogate::SquaredHinge;
  if (s == "hinge") return PairSurrogate::Hinge;
  if (s == "squared") return PairSurrogate::Squared;
  if (s == "logistic") return PairSurrogate::Logistic;
  if (s == "barrier_hinge") return PairSurrogate::BarrierHinge;
  TORCH_CHECK_VALUE(false,
                    "surrogate must be one of squared_hinge, hinge, squared, "
                    "logistic, barrier_hinge; got '",
                    s, "'");
}

inline PairSumsArgs check_pair_sums_args(const at::Tensor& queries, const at::Tensor& query_group,
                                         const at::Tensor& items, const at::Tensor& item_offsets,
                                         const at::Tensor& weights, c10::string_view surrogate, double margin,
                                         double scale, double sign) {
  const PairSurrogate sur = parse_pair_surrogate(surrogate);
  TORCH_CHECK_VALUE(std::isfinite(margin) && std::isfinite(scale), "margin and scale must be finite, got ", margin,
                    " and ", scale);
  TORCH_CHECK_VALUE(sign == 1.0 || sign == -1.0, "sign must be 1 or -1, got ", sign);
  for (const auto& [t, name] : {std::pair{&queries, "queries"}, {&items, "items"}, {&weights, "weights"}})
    TORCH_CHECK_VALUE(at::isFloatingType(t->scalar_type()), name, " must be floating point, got ", t->scalar_type());
  for (const auto& [t, name] : {std::pair{&query_group, "query_group"}, {&item_offsets, "item_offsets"}})
    TORCH_CHECK_VALUE(t->scalar_type() == at::kLong && t->dim() == 1, name, " must be a 1-D int64 tensor, got ",
                      t->scalar_type(), " of shape ", t->sizes());
  TORCH_CHECK_VALUE(queries.dim() == 1 && items.dim() == 1, "queries and items must be 1-D, got shapes ",
                    queries.sizes(), " and ", items.sizes());
  TORCH_CHECK_VALUE(query_group.numel() == queries.numel(), "query_group must have one entry per query (",
                    queries.numel(), "), got ", query_group.numel());
  TORCH_CHECK_VALUE(item_offsets.numel() >= 1, "item_offsets must have G + 1 >= 1 entries");
  TORCH_CHECK_VALUE(
      weights.dim() == 2 && weights.size(0) >= 1 && weights.size(0) <= kMaxWeights && weights.size(1) == items.numel(),
      "weights must have shape (K, ", items.numel(), ") with 1 <= K <= ", kMaxWeights, ", got ", weights.sizes());
  for (const auto* t : {&query_group, &items, &item_offsets, &weights})
    TORCH_CHECK_VALUE(t->device() == queries.device(),
                      "queries, query_group, items, item_offsets and weights "
                      "must be on one device, got ",
                      queries.device(), " and ", t->device());
  const int64_t G = item_offsets.numel() - 1, I = items.numel();
  const bool dbl = queries.scalar_type() == at::kDouble || items.scalar_type() == at::kDouble ||
                   weights.scalar_type() == at::kDouble;
  const auto T = dbl ? at::kDouble : at::kFloat;
  return {queries.to(T).contiguous(),
          query_group.contiguous(),
          items.to(T).contiguous(),
          item_offsets.contiguous(),
          weights.to(T).contiguous(),
          weights.size(0),
          queries.numel(),
          I,
          G,
          sur};
}

// Out-of-range groups or offsets would read out of bounds: item_offsets must rise from 0 to I and
// every query_group entry be in [0, G). On the CPU a plain loop over the (small) index arrays.
inline void check_group_indices_cpu(const PairSumsArgs& a) {
  const int64_t* off = a.offsets.data_ptr<int64_t>();
  const int64_t* grp = a.group.data_ptr<int64_t>();
  bool ok = off[0] == 0 && off[a.G] == a.I;
  for (int64_t g = 0; g < a.G && ok; ++g) ok = off[g] <= off[g + 1];
  for (int64_t q = 0; q < a.Q && ok; ++q) ok = grp[q] >= 0 && grp[q] < a.G;
  TORCH_CHECK_VALUE(ok, "item_offsets must rise from 0 to items.numel() (", a.I,
                    ") and every query_group entry must be in [0, ", a.G, ")");
}

// The same check on the device in ATen ops, asserted there (no host read).
inline void check_group_indices_aten(const PairSumsArgs& a) {
  at::Tensor bad = (a.offsets[0] != 0) | (a.offsets[a.G] != a.I);
  if (a.G > 0) bad = bad | (a.offsets.diff() < 0).any();
  if (a.Q > 0) bad = bad | (a.group.min() < 0) | (a.group.max() >= a.G);
  // Device-side: no host round trip (a bad index stops the stream before the kernel reads with it).
  at::_assert_async(bad.logical_not(), "item_offsets must rise from 0 to items.numel() (" + std::to_string(a.I) +
                                           ") and every query_group entry must be in [0, " + std::to_string(a.G) +
                                           ") (device-side check)");
}

}  // namespace torchauc::pair_sums
