// Autograd of the fused multiclass / pixel-level AUC loss, in C++ for the Autograd key (any device),
// as the pairwise loss's (csrc/pairwise/autograd.cpp): the op already returns d loss / d scores, so
// backward only scales it by the incoming gradient. The Python register_autograd it replaces cost
// about as much as the op itself at XCurve's batch sizes (N = 128 .. 2048, C = 10).
#include <ATen/ATen.h>
#include <torch/autograd.h>
#include <torch/csrc/autograd/graph_task.h>
#include <torch/library.h>

#include <tuple>

#include "core/fused_grad.h"

namespace torchauc::multiclass {
namespace {

using torch::autograd::AutogradContext;
using torch::autograd::variable_list;
using LossOutputs = std::tuple<at::Tensor, at::Tensor>;
using LossSignature = LossOutputs(const at::Tensor&, const at::Tensor&, c10::optional<int64_t>, c10::string_view,
                                  c10::string_view, c10::string_view, double, c10::string_view, bool);

class FusedMulticlassLoss : public torch::autograd::Function<FusedMulticlassLoss> {
 public:
  static variable_list forward(AutogradContext* ctx, const at::Tensor& scores, const at::Tensor& labels,
                               c10::optional<int64_t> ignore_index, c10::string_view activation,
                               c10::string_view surrogate, c10::string_view mode, double margin,
                               c10::string_view normalization, bool compute_grad) {
    static const auto op =
        c10::Dispatcher::singleton().findSchemaOrThrow("torchauc::multiclass_auc_loss", "").typed<LossSignature>();
    at::Tensor loss, grad, grad_out;
    {
      const at::AutoDispatchBelowADInplaceOrView below_autograd;
      std::tie(loss, grad) =
          op.call(scores, labels, ignore_index, activation, surrogate, mode, margin, normalization, compute_grad);
      grad_out = at::alias(grad);  // the saved buffer never reaches Python
    }
    ctx->mark_non_differentiable({grad_out});
    ctx->set_materialize_grads(false);  // no zero-filled gradient for the constant output
    ctx->saved_data["compute_grad"] = compute_grad;
    if (compute_grad) ctx->saved_data["grad"] = grad;
    return {loss, grad_out};
  }

  static variable_list backward(AutogradContext* ctx, variable_list grad_outputs) {
    variable_list grads(9);
    const at::Tensor& g = grad_outputs[0];
    if (!g.defined() || !ctx->needs_input_grad(0)) return grads;
    TORCH_CHECK(ctx->saved_data.at("compute_grad").toBool(),
                "torchauc.multiclass_auc_loss was called with compute_grad=False; call it through "
                "torchauc.functional.multiclass_auc_loss or pixel_auc_loss, which ask for gradients when needed");
    // Without a kept graph this is the only backward through the node: its buffer can be consumed.
    const bool consume = !torch::autograd::get_current_graph_task_keep_graph() && !at::GradMode::is_enabled();
    grads[0] = take_scaled(ctx->saved_data, "grad", g, consume, "torchauc.multiclass_auc_loss");
    return grads;
  }
};

LossOutputs multiclass_auc_loss_autograd(const at::Tensor& scores, const at::Tensor& labels,
                                         c10::optional<int64_t> ignore_index, c10::string_view activation,
                                         c10::string_view surrogate, c10::string_view mode, double margin,
                                         c10::string_view normalization, bool compute_grad) {
  const variable_list out = FusedMulticlassLoss::apply(scores, labels, ignore_index, activation, surrogate, mode,
                                                       margin, normalization, compute_grad);
  return {out[0], out[1]};
}

}  // namespace

TORCH_LIBRARY_IMPL(torchauc, Autograd, m) { m.impl("multiclass_auc_loss", &multiclass_auc_loss_autograd); }

}  // namespace torchauc::multiclass
