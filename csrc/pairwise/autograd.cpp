// Autograd of the fused pairwise AUC loss, in C++ for the Autograd key (any device). The op already
// returns d loss / d input, so backward only scales those by the incoming gradient; a Python
// register_autograd costs more than the whole kernel at training batch sizes (n ~ 256). Memory of
// the saved gradients: core/fused_grad.h.
#include <ATen/ATen.h>
#include <torch/autograd.h>
#include <torch/csrc/autograd/graph_task.h>
#include <torch/library.h>

#include <string>
#include <tuple>

#include "core/fused_grad.h"

namespace torchauc::pairwise {
namespace {

using torch::autograd::AutogradContext;
using torch::autograd::variable_list;
using OptTensor = c10::optional<at::Tensor>;
using LossOutputs = std::tuple<at::Tensor, at::Tensor, at::Tensor, at::Tensor>;
using LossSignature = LossOutputs(const at::Tensor&, const at::Tensor&, const OptTensor&, const OptTensor&,
                                  c10::string_view, double, c10::string_view, bool, double);

class FusedPairwiseLoss : public torch::autograd::Function<FusedPairwiseLoss> {
 public:
  static variable_list forward(AutogradContext* ctx, const at::Tensor& scores, const at::Tensor& labels,
                               const OptTensor& pos_w, const OptTensor& neg_w, c10::string_view surrogate,
                               double margin, c10::string_view reduction, bool compute_grad, double scale) {
    static const auto op =
        c10::Dispatcher::singleton().findSchemaOrThrow("torchauc::pairwise_auc_loss", "").typed<LossSignature>();
    at::Tensor loss, gs, ga, gb, gs_out, ga_out, gb_out;
    {
      const at::AutoDispatchBelowADInplaceOrView below_autograd;
      std::tie(loss, gs, ga, gb) =
          op.call(scores, labels, pos_w, neg_w, surrogate, margin, reduction, compute_grad, scale);
      // The caller gets aliases of the saved gradients: their TensorImpls never reach Python (a Python
      // wrapper would hold a reference to them), and a caller keeping an output shows in the storage's
      // count. Outputs that are not saved are returned as they are (an alias is an op call).
      gs_out = compute_grad ? at::alias(gs) : gs;
      ga_out = compute_grad && pos_w ? at::alias(ga) : ga;
      gb_out = compute_grad && neg_w ? at::alias(gb) : gb;
    }
    ctx->mark_non_differentiable({gs_out, ga_out, gb_out});
    ctx->set_materialize_grads(false);  // no zero-filled gradients for the constant outputs
    ctx->saved_data["compute_grad"] = compute_grad;
    ctx->saved_data["has_pos_w"] = pos_w.has_value();
    if (compute_grad) {
      ctx->saved_data["gs"] = gs;
      if (pos_w) ctx->saved_data["ga"] = ga;
      if (neg_w) ctx->saved_data["gb"] = gb;
    }
    return {loss, gs_out, ga_out, gb_out};
  }

  static variable_list backward(AutogradContext* ctx, variable_list grad_outputs) {
    TORCH_CHECK(ctx->saved_data.at("compute_grad").toBool(),
                "torchauc.pairwise_auc_loss was called with compute_grad=False; call it through "
                "torchauc.functional.pairwise_auc_loss, which asks for gradients when they are needed");
    const at::Tensor& g = grad_outputs[0];
    if (!g.defined()) return variable_list(9);
    // Without a kept graph this is the only backward through the node: its buffers can be consumed.
    const bool consume = !torch::autograd::get_current_graph_task_keep_graph() && !at::GradMode::is_enabled();
    // Edges are numbered over the tensor inputs: scores 0, labels 1, then the weights present.
    const size_t pos_edge = 2, neg_edge = ctx->saved_data.at("has_pos_w").toBool() ? 3 : 2;
    auto grad_of = [&](const char* key, bool wanted) -> at::Tensor {
      const auto it = ctx->saved_data.find(key);
      if (it == ctx->saved_data.end()) return {};
      if (!consume)
        return wanted ? scaled(it->second.toTensor(), g, false, "torchauc.pairwise_auc_loss") : at::Tensor();
      at::Tensor grad = std::move(it->second).toTensor();
      ctx->saved_data.erase(it);
      return wanted ? scaled(std::move(grad), g, true, "torchauc.pairwise_auc_loss") : at::Tensor();
    };
    at::Tensor gs = grad_of("gs", ctx->needs_input_grad(0));
    at::Tensor ga = grad_of("ga", ctx->saved_data.count("ga") && ctx->needs_input_grad(pos_edge));
    at::Tensor gb = grad_of("gb", ctx->saved_data.count("gb") && ctx->needs_input_grad(neg_edge));
    return {gs, at::Tensor(), ga, gb, at::Tensor(), at::Tensor(), at::Tensor(), at::Tensor(), at::Tensor()};
  }
};

LossOutputs pairwise_auc_loss_autograd(const at::Tensor& scores, const at::Tensor& labels, const OptTensor& pos_w,
                                       const OptTensor& neg_w, c10::string_view surrogate, double margin,
                                       c10::string_view reduction, bool compute_grad, double scale) {
  const variable_list out =
      FusedPairwiseLoss::apply(scores, labels, pos_w, neg_w, surrogate, margin, reduction, compute_grad, scale);
  return {out[0], out[1], out[2], out[3]};
}

}  // namespace

TORCH_LIBRARY_IMPL(torchauc, Autograd, m) { m.impl("pairwise_auc_loss", &pairwise_auc_loss_autograd); }

}  // namespace torchauc::pairwise
