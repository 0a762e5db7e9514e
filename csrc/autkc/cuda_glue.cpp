// CUDA glue of autkc_topk and autkc_loss_rows: checks and label validation (ATen), allocation, launch.
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

std::tuple<at::Tensor, at::Tensor> autkc_loss_rows_cuda(const at::Tensor& logits, const at::Tensor& labels, int64_t k,
                                                        int64_t m, c10::string_view surrogate, bool compute_grad,
                                                        c10::string_view reduction) {
  const c10::cuda::CUDAGuard guard(logits.device());
  const LossInputs li = check_loss(logits, labels, k, m, surrogate, reduction);
  const int64_t B = li.in.B, C = li.in.C;
  const auto opts = li.in.scores.options();
  at::Tensor loss = at::empty({B}, opts);
  at::Tensor grad = at::empty({compute_grad ? B : 0, C}, opts);
  const auto acc = li.in.scores.scalar_type() == at::kDouble ? at::kDouble : at::kFloat;
  at::Tensor p = at::empty({B, C}, opts.dtype(acc));
  at::Tensor vals = at::empty({B, m}, opts.dtype(at::kDouble)), g = at::empty({B, m + 1}, opts.dtype(at::kDouble));
  at::Tensor cols = at::empty({B, m}, opts.dtype(at::kLong));
  check_cuda(cuda::launch_loss_rows(li.in.scores.data_ptr(), dtype_of(li.in.scores, "logits"),
                                    li.in.labels.data_ptr<int32_t>(), B, C, k, m, li.surrogate, loss.data_ptr(),
                                    compute_grad ? grad.data_ptr() : nullptr, p.data_ptr(), vals.data_ptr<double>(),
                                    cols.data_ptr<int64_t>(), g.data_ptr<double>(), li.grad_scale(),
                                    c10::cuda::getCurrentCUDAStream().stream()),
             "autkc_loss_rows");
  // The rows' sum in float64, as the CPU kernel's (the mean of no rows is NaN, as there)
  if (li.reduction == Reduction::Sum) return {loss.sum(at::kDouble).to(opts.dtype()), grad};
  if (li.reduction == Reduction::Mean) return {loss.mean(at::kDouble).to(opts.dtype()), grad};
  return {loss, grad};
}

}  // namespace

TORCH_LIBRARY_IMPL(torchauc, CUDA, m) {
  m.impl("autkc_topk", &autkc_topk_cuda);
  m.impl("autkc_loss_rows", &autkc_loss_rows_cuda);
}

}  // namespace torchauc::autkc
