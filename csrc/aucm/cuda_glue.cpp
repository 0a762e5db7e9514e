// CUDA glue of the AUC-M family: argument checks (shared with the CPU path), allocation, stream, and
// the launches of cuda.cu. Parameters, moments and results stay on the device: no host sync.
#include "core/cuda_glue.h"

#include <ATen/ATen.h>
#include <c10/cuda/CUDAGuard.h>
#include <c10/cuda/CUDAStream.h>
#include <torch/library.h>

#include "aucm/args.h"
#include "aucm/cuda.h"

namespace torchauc::aucm {
namespace {

at::Tensor work_for(const Columns& col) {
  return at::empty({cuda::aucm_work_size(col.rows, col.cols)}, col.scores.options().dtype(at::kDouble));
}

bool labels_double(const Columns& col) { return col.labels.scalar_type() != col.scores.scalar_type(); }

at::Tensor aucm_moments_cuda(const at::Tensor& scores, const at::Tensor& labels) {
  const Columns col = check_columns(scores, labels);
  const c10::cuda::CUDAGuard guard(col.scores.device());
  at::Tensor work = work_for(col);
  at::Tensor out = at::empty({kMoments * col.cols + 1}, work.options());
  cuda::launch_aucm_moments(dtype_of(col.scores, "scores"), labels_double(col), col.scores.data_ptr(),
                            col.labels.data_ptr(), col.rows, col.cols, work.data_ptr<double>(), out.data_ptr<double>(),
                            c10::cuda::getCurrentCUDAStream());
  check_launch("aucm_moments");
  return out;
}

std::tuple<at::Tensor, at::Tensor, at::Tensor, at::Tensor, at::Tensor> aucm_loss_cuda(
    const at::Tensor& scores, const at::Tensor& labels, const at::Tensor& a, const at::Tensor& b,
    const at::Tensor& alpha, const c10::optional<at::Tensor>& prior, const c10::optional<at::Tensor>& weights,
    const c10::optional<at::Tensor>& moments, double margin, c10::string_view version, bool compute_grad) {
  const c10::cuda::CUDAGuard guard(scores.device());
  const LossArgs args = check_loss_args(scores, labels, a, b, alpha, prior, weights, moments, margin, version);
  const Columns& col = args.col;
  at::Tensor work = work_for(col);
  at::Tensor out = at::empty({1 + 3 * col.cols}, work.options());
  at::Tensor grad_s = at::empty({compute_grad ? col.rows * col.cols : 0}, col.scores.options());
  cuda::launch_aucm_loss(dtype_of(col.scores, "scores"), labels_double(col), col.scores.data_ptr(),
                         col.labels.data_ptr(), col.rows, col.cols, args.params.data_ptr<double>(),
                         args.moments.defined() ? args.moments.data_ptr<double>() : nullptr, margin, args.v2,
                         args.batch_prior, work.data_ptr<double>(), out.data_ptr<double>(),
                         compute_grad ? grad_s.data_ptr() : nullptr, c10::cuda::getCurrentCUDAStream());
  check_launch("aucm_loss");
  return loss_outputs(out, grad_s, scores, a, b, alpha, compute_grad);
}

}  // namespace

TORCH_LIBRARY_IMPL(torchauc, CUDA, m) {
  m.impl("aucm_moments", &aucm_moments_cuda);
  m.impl("aucm_loss", &aucm_loss_cuda);
}

}  // namespace torchauc::aucm
