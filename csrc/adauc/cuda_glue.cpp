// CUDA glue of the AdAUC family: argument checks (shared with the CPU path), allocation, stream, and
// the launches of cuda.cu. The loss reads a, b, alpha on the device and writes its scalars there:
// no host sync: the label check is a device-side assert (core/labels.h). The PGD step has none either.
#include "core/cuda_glue.h"

#include <ATen/ATen.h>
#include <c10/cuda/CUDAGuard.h>
#include <c10/cuda/CUDAStream.h>
#include <torch/library.h>

#include "adauc/args.h"
#include "adauc/cuda.h"
#include "core/labels.h"

namespace torchauc::adauc {
namespace {

std::tuple<at::Tensor, at::Tensor, at::Tensor, at::Tensor, at::Tensor> adauc_loss_cuda(
    const at::Tensor& scores_in, const at::Tensor& labels_in, const at::Tensor& a, const at::Tensor& b,
    const at::Tensor& alpha, c10::optional<double> imratio, double margin, c10::string_view form_name,
    bool compute_grad) {
  const LossArgs args = check_loss_args(scores_in, labels_in, a, b, alpha, imratio, margin, form_name);
  const at::Tensor& scores = args.scores;
  const c10::cuda::CUDAGuard guard(scores.device());
  const cudaStream_t stream = c10::cuda::getCurrentCUDAStream();
  const at::Tensor y8 = binary_labels_async(args.labels);
  const int64_t n = scores.numel();
  const auto f64 = scores.options().dtype(at::kDouble);
  const at::Tensor params = at::stack({a.reshape({}), b.reshape({}), alpha.reshape({})}).to(at::kDouble).contiguous();
  at::Tensor partials = at::empty({cuda::adauc_partials_size(n)}, f64);
  at::Tensor out = at::empty({4}, f64);
  at::Tensor grad_s = at::empty({compute_grad ? n : 0}, scores.options());
  cuda::launch_adauc_loss(dtype_of(scores, "scores"), scores.data_ptr(), y8.data_ptr<int8_t>(), n,
                          params.data_ptr<double>(), args.imratio, margin, static_cast<int>(args.form),
                          partials.data_ptr<double>(), out.data_ptr<double>(),
                          compute_grad ? grad_s.data_ptr() : nullptr, stream);
  check_launch("adauc_loss");
  // copies, so no two outputs share the scalars buffer
  const auto param_grad = [&](int k, const at::Tensor& p) {
    return out[k].to(p.scalar_type(), false, true).view(p.sizes());
  };
  return {out[0].to(scores.scalar_type(), false, true), compute_grad ? grad_s.view(scores_in.sizes()) : grad_s,
          param_grad(1, a), param_grad(2, b), param_grad(3, alpha)};
}

at::Tensor adauc_pgd_step_cuda(const at::Tensor& x_in, const at::Tensor& d_in, const at::Tensor& g_in, double eps,
                               double step, c10::string_view norm_name, double lower, double upper) {
  const Norm norm = check_pgd_args(x_in, d_in, g_in, eps, step, norm_name, lower, upper);
  const c10::cuda::CUDAGuard guard(x_in.device());
  const at::Tensor x = x_in.contiguous(), d = d_in.contiguous(), g = g_in.contiguous();
  at::Tensor out = at::empty_like(x, at::MemoryFormat::Contiguous);
  const int64_t rows = x.size(0), cols = rows ? x.numel() / rows : 0;
  cuda::launch_pgd_step(dtype_of(x, "inputs"), static_cast<int>(norm), x.data_ptr(), d.data_ptr(), g.data_ptr(),
                        out.data_ptr(), rows, cols, eps, step, lower, upper, c10::cuda::getCurrentCUDAStream());
  check_launch("adauc_pgd_step");
  return out;
}

}  // namespace

TORCH_LIBRARY_IMPL(torchauc, CUDA, m) {
  m.impl("adauc_loss", &adauc_loss_cuda);
  m.impl("adauc_pgd_step", &adauc_pgd_step_cuda);
}

}  // namespace torchauc::adauc
