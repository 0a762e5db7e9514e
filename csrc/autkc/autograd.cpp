// Autograd of the fused autkc_loss_rows, in C++ for the Autograd key (any device): the op returns
// d loss_b / d logits_b, so backward scales row b by the incoming gradient of loss_b, in place when
// nobody else holds the buffer (as the pairwise loss's autograd does). With reduction "mean" / "sum"
// the loss is 0-dim and its gradient already scaled: backward returns it untouched for an incoming 1.
#include <ATen/ATen.h>
#include <torch/autograd.h>
#include <torch/csrc/autograd/graph_task.h>
#include <torch/library.h>

#include <tuple>

#include "core/fused_grad.h"

namespace torchauc::autkc {
namespace {

using torch::autograd::AutogradContext;
using torch::autograd::variable_list;
using RowsSignature = std::tuple<at::Tensor, at::Tensor>(const at::Tensor&, const at::Tensor&, int64_t, int64_t,
                                                         c10::string_view, bool, c10::string_view);

class FusedAutkcRows : public torch::autograd::Function<FusedAutkcRows> {
 public:
  static variable_list forward(AutogradContext* ctx, const at::Tensor& logits, const at::Tensor& labels, int64_t k,
                               int64_t m, c10::string_view surrogate, bool compute_grad, c10::string_view reduction) {
    static const auto op =
        c10::Dispatcher::singleton().findSchemaOrThrow("torchauc::autkc_loss_rows", "").typed<RowsSignature>();
    at::Tensor loss, grad, grad_out;
    {
      const at::AutoDispatchBelowADInplaceOrView below_autograd;
      std::tie(loss, grad) = op.call(logits, labels, k, m, surrogate, compute_grad, reduction);
      grad_out = at::alias(grad);  // the saved TensorImpl never reaches Python
    }
    ctx->mark_non_differentiable({grad_out});
    ctx->set_materialize_grads(false);
    ctx->saved_data["compute_grad"] = compute_grad;
    if (compute_grad) ctx->saved_data["grad"] = grad;
    return {loss, grad_out};
  }

  static variable_list backward(AutogradContext* ctx, variable_list grad_outputs) {
    TORCH_CHECK(ctx->saved_data.at("compute_grad").toBool(),
                "torchauc.autkc_loss_rows was called with compute_grad=False; call it through "
                "torchauc.autkc.autkc_loss, which asks for gradients when they are needed");
    const at::Tensor& g = grad_outputs[0];
    variable_list out(7);
    if (!g.defined() || !ctx->needs_input_grad(0)) return out;
    const auto it = ctx->saved_data.find("grad");
    // Without a kept graph this is the only backward through the node: its buffer can be consumed.
    const bool consume = !torch::autograd::get_current_graph_task_keep_graph() && !at::GradMode::is_enabled();
    at::Tensor grad = it->second.toTensor();
    if (consume) ctx->saved_data.erase(it);
    // per-row g (B,) scales rows; a reduced (0-dim) loss's g is one factor
    out[0] = scaled(std::move(grad), g.dim() == 1 ? g.unsqueeze(1) : g, consume, "torchauc.autkc_loss_rows");
    return out;
  }
};

std::tuple<at::Tensor, at::Tensor> autkc_loss_rows_autograd(const at::Tensor& logits, const at::Tensor& labels,
                                                            int64_t k, int64_t m, c10::string_view surrogate,
                                                            bool compute_grad, c10::string_view reduction) {
  const variable_list out = FusedAutkcRows::apply(logits, labels, k, m, surrogate, compute_grad, reduction);
  return {out[0], out[1]};
}

}  // namespace

TORCH_LIBRARY_IMPL(torchauc, Autograd, m) { m.impl("autkc_loss_rows", &autkc_loss_rows_autograd); }

}  // namespace torchauc::autkc
