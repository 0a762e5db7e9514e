// Autograd of the fused AUC-M loss, in C++ for the Autograd key (any device), as the pairwise loss's
// (csrc/pairwise/autograd.cpp): the op already returns d loss / d (scores, a, b, alpha), so backward
// only scales them by the incoming gradient. A Python register_autograd cost about as much as the
// op itself at LibAUC's batch sizes (B = 128 .. 2048, C = 10).
#include <ATen/ATen.h>
#include <torch/autograd.h>
#include <torch/csrc/autograd/graph_task.h>
#include <torch/library.h>

#include <tuple>

#include "core/fused_grad.h"

namespace torchauc::aucm {
namespace {

using torch::autograd::AutogradContext;
using torch::autograd::variable_list;
using OptTensor = c10::optional<at::Tensor>;
using LossOutputs = std::tuple<at::Tensor, at::Tensor, at::Tensor, at::Tensor, at::Tensor>;
using LossSignature = LossOutputs(const at::Tensor&, const at::Tensor&, const at::Tensor&, const at::Tensor&,
                                  const at::Tensor&, const OptTensor&, const OptTensor&, const OptTensor&, double,
                                  c10::string_view, bool);
constexpr const char* kGradKeys[4] = {"gs", "ga", "gb", "galpha"};

class FusedAucmLoss : public torch::autograd::Function<FusedAucmLoss> {
 public:
  static variable_list forward(AutogradContext* ctx, const at::Tensor& scores, const at::Tensor& labels,
                               const at::Tensor& a, const at::Tensor& b, const at::Tensor& alpha,
                               const OptTensor& prior, const OptTensor& weights, const OptTensor& moments,
                               double margin, c10::string_view version, bool compute_grad) {
    static const auto op =
        c10::Dispatcher::singleton().findSchemaOrThrow("torchauc::aucm_loss", "").typed<LossSignature>();
    at::Tensor out[5], aliases[4];
    {
      const at::AutoDispatchBelowADInplaceOrView below_autograd;
      std::tie(out[0], out[1], out[2], out[3], out[4]) =
          op.call(scores, labels, a, b, alpha, prior, weights, moments, margin, version, compute_grad);
      for (int k = 0; k < 4; ++k) aliases[k] = at::alias(out[k + 1]);  // the saved buffers never reach Python
    }
    ctx->mark_non_differentiable({aliases[0], aliases[1], aliases[2], aliases[3]});
    ctx->set_materialize_grads(false);
    ctx->saved_data["compute_grad"] = compute_grad;
    for (int k = 0; k < 4; ++k)
      if (k > 0 || compute_grad) ctx->saved_data[kGradKeys[k]] = out[k + 1];
    return {out[0], aliases[0], aliases[1], aliases[2], aliases[3]};
  }

  static variable_list backward(AutogradContext* ctx, variable_list grad_outputs) {
    const at::Tensor& g = grad_outputs[0];
    variable_list grads(11);
    if (!g.defined()) return grads;
    const bool consume = !torch::autograd::get_current_graph_task_keep_graph() && !at::GradMode::is_enabled();
    // edges: scores 0, labels 1, a 2, b 3, alpha 4
    const int edge[4] = {0, 2, 3, 4};
    for (int k = 0; k < 4; ++k) {
      if (!ctx->needs_input_grad(edge[k])) continue;
      TORCH_CHECK(k > 0 || ctx->saved_data.at("compute_grad").toBool(),
                  "torchauc.aucm_loss was called with compute_grad=False; call it through "
                  "torchauc.compat.libauc_aucm.aucm_loss, which asks for gradients when they are needed");
      grads[edge[k]] = take_scaled(ctx->saved_data, kGradKeys[k], g, consume);
    }
    return grads;
  }
};

LossOutputs aucm_loss_autograd(const at::Tensor& scores, const at::Tensor& labels, const at::Tensor& a,
                               const at::Tensor& b, const at::Tensor& alpha, const OptTensor& prior,
                               const OptTensor& weights, const OptTensor& moments, double margin,
                               c10::string_view version, bool compute_grad) {
  const variable_list out =
      FusedAucmLoss::apply(scores, labels, a, b, alpha, prior, weights, moments, margin, version, compute_grad);
  return {out[0], out[1], out[2], out[3], out[4]};
}

}  // namespace

TORCH_LIBRARY_IMPL(torchauc, Autograd, m) { m.impl("aucm_loss", &aucm_loss_autograd); }

}  // namespace torchauc::aucm
