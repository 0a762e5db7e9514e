// CUDA glue of autkc_topk: checks and label validation (ATen), allocation, launch.
#include "core/cuda_glue.h"

#include <ATen/ATen.h>
#include <c10/cuda/CUDAGuard.h>
#include <c10/cuda/CUDAStream.h>
#include <torch/library.h>

#include "autkc/args.h"
#include "autkc/cuda.h"

namespace torchauc::autkc {
namespace {

at::Tensor autkc_topk_cuda(const at::Tensor& scores, const at::Tensor& labels, int64_t k, double margin,
                           bool include_label) {
  const c10::cuda::CUDAGuard guard(scores.device());
  const TopkInputs in = check_topk(scores, labels, k, include_label);
  at::Tensor out = at::empty({in.B, k}, in.scores.options().dtype(at::kLong));
  at::Tensor vals = at::empty({in.B, k}, in.scores.options().dtype(at::kDouble));
  check_cuda(cuda::launch_topk(in.scores.data_ptr(), dtype_of(in.scores, "scores"), in.labels.data_ptr<int32_t>(), in.B,
                               in.C, k, margin, include_label, out.data_ptr<int64_t>(), vals.data_ptr<double>(),
                               c10::cuda::getCurrentCUDAStream().stream()),
             "autkc_topk");
  return out;
}

}  // namespace

TORCH_LIBRARY_IMPL(torchauc, CUDA, m) { m.impl("autkc_topk", &autkc_topk_cuda); }

}  // namespace torchauc::autkc
