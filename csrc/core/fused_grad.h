// Backward helpers of the fused loss ops whose autograd is C++ (the op returns the loss and its
// gradients; backward scales the saved gradients by the incoming one).
//
// Memory: the gradients live in ctx->saved_data (not save_for_backward) so that backward can take
// them out and scale them in place, or not at all when the incoming gradient is exactly 1 on the
// CPU: forward+backward then allocates one buffer per gradient, the one that becomes `.grad`. When
// the graph is kept (retain_graph, create_graph) or another reference to a gradient exists (the raw
// op's outputs kept by a caller), the scale is out of place and the saved gradients stay intact.
#pragma once
#include <ATen/ATen.h>
#include <ATen/TensorSubclassLikeUtils.h>
#include <ATen/core/ivalue.h>
#include <torch/csrc/autograd/functions/basic_ops.h>

#include <string>

namespace torchauc {

// A plain CPU scalar equal to 1: multiplying by it changes nothing (the usual `loss.backward()`).
// float32 / float64 are read in place (`item` is an op call, ~1.5 us at small n).
inline bool is_exact_one(const at::Tensor& g) {
  if (g.numel() != 1 || !g.is_cpu() || at::isTensorSubclassLike(g) || g.requires_grad()) return false;
  const bool plain = !g._is_zerotensor() && !g.is_neg() && !g.is_conj();
  if (plain && g.scalar_type() == at::kFloat) return *g.const_data_ptr<float>() == 1.0f;
  if (plain && g.scalar_type() == at::kDouble) return *g.const_data_ptr<double>() == 1.0;
  return g.item<double>() == 1.0;
}

// Under create_graph the saved gradient enters the new graph as a constant: a second derivative with
// respect to the op's inputs would silently come back empty (or as no contribution to `.grad`). As
// torch's once_differentiable, the gradient goes through a DelayedError node: any backward through it
// is an error naming the op, while the dependence on the incoming gradient g stays differentiable.
inline at::Tensor once_differentiable(const at::Tensor& grad, const char* op) {
  if (!at::GradMode::is_enabled() || !grad.defined()) return grad;
  const auto error = std::make_shared<torch::autograd::DelayedError>(
      std::string(op) +
          " is not twice differentiable: its gradient (taken with create_graph=True) cannot be "
          "differentiated with respect to the op's inputs",
      1);
  return (*error)({grad.detach().requires_grad_(true)})[0];
}

// grad * g: in place when `consume` and nobody else sees the buffer (neither its TensorImpl nor its
// storage), and then skipped when g is exactly 1; otherwise into a new buffer (`op` names the op in
// the error of a second derivative, see once_differentiable).
inline at::Tensor scaled(at::Tensor grad, const at::Tensor& g, bool consume, const char* op) {
  if (!consume) return once_differentiable(grad, op).mul(g);
  // (consume is false under create_graph: GradMode is on only there.)
  const bool owned = grad.use_count() == 1 && grad.storage().use_count() == 1;
  if (owned && is_exact_one(g)) return grad;
  if (owned) return grad.mul_(g);
  return grad.mul(g);
}

// The saved gradient `key` scaled by g; taken out of `saved` when `consume` (a freed graph).
template <typename Map>
at::Tensor take_scaled(Map& saved, const std::string& key, const at::Tensor& g, bool consume, const char* op) {
  const auto it = saved.find(key);
  if (it == saved.end()) return {};
  if (!consume) return scaled(it->second.toTensor(), g, false, op);
  at::Tensor grad = std::move(it->second).toTensor();
  saved.erase(it);
  return scaled(std::move(grad), g, true, op);
}

}  // namespace torchauc
