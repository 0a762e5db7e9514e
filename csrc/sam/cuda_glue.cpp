// CUDA impls of the SAM family, composed of ATen's multi-tensor (_foreach) ops, which already run
// one fused launch per chunk of the list on the GPU; no host sync (the norm and the scales stay on
// the device). Same formulas as math.h.
#include <ATen/ATen.h>
#include <c10/cuda/CUDAGuard.h>
#include <torch/library.h>

#include <map>
#include <utility>
#include <vector>

#include "sam/args.h"

namespace torchauc::sam {
namespace {

std::vector<at::Tensor> pick(at::TensorList list, const std::vector<size_t>& idx) {
  std::vector<at::Tensor> out;
  out.reserve(idx.size());
  for (const size_t k : idx) out.push_back(list[k]);
  return out;
}

void sam_perturb_cuda(at::TensorList params, at::TensorList directions, at::TensorList out, c10::ArrayRef<double> rho,
                      double eps, const c10::optional<at::Tensor>& norm) {
  check_perturb_args(params, directions, out, rho, eps, norm);
  if (params.empty()) return;
  const c10::cuda::CUDAGuard guard(params[0].device());
  at::Tensor nrm;
  if (norm.has_value()) {
    nrm = norm->reshape({}).to(params[0].device(), at::kDouble);
  } else {
    std::vector<at::Tensor> norms;
    for (const at::Tensor& n : at::_foreach_norm(directions)) norms.push_back(n.to(at::kDouble));
    nrm = at::linalg_vector_norm(at::stack(norms));
  }
  std::map<std::pair<double, at::ScalarType>, std::vector<size_t>> groups;  // one scale per (rho, dtype)
  for (size_t k = 0; k < params.size(); ++k) groups[{rho[k], params[k].scalar_type()}].push_back(k);
  for (const auto& [key, idx] : groups) {
    const at::Tensor scale = (key.first / (nrm + eps)).to(key.second);
    const std::vector<at::Tensor> o = pick(out, idx);
    at::_foreach_copy_(o, pick(directions, idx));
    at::_foreach_mul_(o, scale);
    at::_foreach_add_(o, pick(params, idx));
  }
}

void sam_sgd_step_cuda(at::TensorList params, at::TensorList grads, at::TensorList buffers, bool fresh, double lr,
                       double momentum, double dampening, double weight_decay, bool nesterov, bool maximize) {
  check_sgd_args(params, grads, buffers, momentum);
  if (params.empty()) return;
  const c10::cuda::CUDAGuard guard(params[0].device());
  std::vector<at::Tensor> d = maximize ? at::_foreach_neg(grads) : grads.vec();
  if (weight_decay != 0) d = at::_foreach_add(d, params, weight_decay);
  if (momentum != 0) {
    if (fresh) {
      at::_foreach_copy_(buffers, d);
    } else {
      at::_foreach_mul_(buffers, momentum);
      at::_foreach_add_(buffers, d, 1 - dampening);
    }
    d = nesterov ? at::_foreach_add(d, buffers, momentum) : buffers.vec();
  }
  at::_foreach_add_(params, d, -lr);
}

}  // namespace

TORCH_LIBRARY_IMPL(torchauc, CUDA, m) {
  m.impl("sam_perturb", &sam_perturb_cuda);
  m.impl("sam_sgd_step", &sam_sgd_step_cuda);
}

}  // namespace torchauc::sam
