// Argument checks of the SAM ops, shared by the CPU kernels and the CUDA glue.
#pragma once
#include <ATen/ATen.h>

#include <string>

namespace torchauc::sam {

// `other` (a list parallel to `params`) has one tensor per parameter, of its shape, dtype and device.
inline void check_parallel_lists(at::TensorList params, at::TensorList other, const char* name) {
  TORCH_CHECK_VALUE(other.size() == params.size(), name, " must have one tensor per parameter (", params.size(),
                    "), got ", other.size());
  for (size_t i = 0; i < params.size(); ++i) {
    const at::Tensor &p = params[i], &t = other[i];
    TORCH_CHECK(at::isFloatingType(p.scalar_type()), "params[", i, "] must be floating point, got ", p.scalar_type());
    TORCH_CHECK(t.scalar_type() == p.scalar_type(), name, "[", i, "] must have its parameter's dtype ", p.scalar_type(),
                ", got ", t.scalar_type());
    TORCH_CHECK_VALUE(t.sizes() == p.sizes(), name, "[", i, "] must have its parameter's shape ", p.sizes(), ", got ",
                      t.sizes());
    TORCH_CHECK(t.device() == params[0].device() && p.device() == params[0].device(), name, "[", i, "] and params[", i,
                "] must be on the device of params[0] (", params[0].device(), ")");
    TORCH_CHECK(!t.is_sparse(), name, "[", i, "] must be dense");
  }
}

inline void check_perturb_args(at::TensorList params, at::TensorList directions, at::TensorList out,
                               c10::ArrayRef<double> rho, double eps, const c10::optional<at::Tensor>& norm) {
  check_parallel_lists(params, directions, "directions");
  check_parallel_lists(params, out, "out");
  TORCH_CHECK_VALUE(rho.size() == params.size(), "rho must have one radius per parameter (", params.size(), "), got ",
                    rho.size());
  TORCH_CHECK_VALUE(eps >= 0, "eps must be >= 0, got ", eps);
  if (norm.has_value()) TORCH_CHECK_VALUE(norm->numel() == 1, "norm must have one element, got ", norm->sizes());
}

inline void check_sgd_args(at::TensorList params, at::TensorList grads, at::TensorList buffers, double momentum) {
  check_parallel_lists(params, grads, "grads");
  if (momentum != 0)
    check_parallel_lists(params, buffers, "momentum_buffers");
  else
    TORCH_CHECK_VALUE(buffers.empty(), "momentum_buffers must be empty when momentum is 0");
}

}  // namespace torchauc::sam
