// CUDA glue of grouped_pair_sums: the shared checks (args.h), allocation, the
// launch in cuda.cu.
#include "core/cuda_glue.h"

#include <ATen/ATen.h>
#include <c10/cuda/CUDAGuard.h>
#include <c10/cuda/CUDAStream.h>
#include <torch/library.h>

#include "pair_sums/args.h"
#include "pair_sums/cuda.h"

namespace torchauc::pair_sums {
namespace {

std::tuple<at::Tensor, at::Tensor> grouped_pair_sums_cuda(const at::Tensor& queries, const at::Tensor& query_group,
                                                          const at::Tensor& items, const at::Tensor& item_offsets,
                                                          const at::Tensor& weights, c10::string_view surrogate,
                                                          double margin, double scale, double sign) {
  const c10::cuda::CUDAGuard guard(queries.device());
  const PairSumsArgs a =
      check_pair_sums_args(queries, query_group, items, item_offsets, weights, surrogate, margin, scale, sign);
  check_group_indices_aten(a);
  const auto f64 = queries.options().dtype(at::kDouble);
  at::Tensor value = at::empty({a.K, a.Q}, f64), dquery = at::empty({a.K, a.Q}, f64);
  const auto stream = c10::cuda::getCurrentCUDAStream().stream();
  const int64_t* grp = a.group.data_ptr<int64_t>();
  const int64_t* off = a.offsets.data_ptr<int64_t>();
  const int K = static_cast<int>(a.K), sur = static_cast<int>(a.surrogate);
  if (a.items.scalar_type() == at::kDouble)
    cuda::launch_grouped_pair_sums<double>(sur, a.queries.data_ptr<double>(), grp, a.Q, a.items.data_ptr<double>(), off,
                                           a.I, a.weights.data_ptr<double>(), K, margin, scale, sign,
                                           value.data_ptr<double>(), dquery.data_ptr<double>(), stream);
  else
    cuda::launch_grouped_pair_sums<float>(sur, a.queries.data_ptr<float>(), grp, a.Q, a.items.data_ptr<float>(), off,
                                          a.I, a.weights.data_ptr<float>(), K, static_cast<float>(margin),
                                          static_cast<float>(scale), static_cast<float>(sign), value.data_ptr<double>(),
                                          dquery.data_ptr<double>(), stream);
  check_launch("grouped_pair_sums");
  return {value, dquery};
}

}  // namespace

TORCH_LIBRARY_IMPL(torchauc, CUDA, m) { m.impl("grouped_pair_sums", &grouped_pair_sums_cuda); }

}  // namespace torchauc::pair_sums
