// The C++ Autograd-key kernel of a fused loss op: `op(inputs..., bool compute_grad) -> (loss,
// d loss / d input_1, ...)`. Backward only scales the saved gradients by the incoming one
// (core/fused_grad.h: in place or not at all when the graph is freed). A Python register_autograd
// node costs 40-110 us per call, more than the whole kernel at training batch sizes.
//
// A family describes its op in a Spec and registers FusedLossKernel<Spec>::call for the Autograd key:
//   struct Spec {
//     using Signature = std::tuple<at::Tensor, ...>(const at::Tensor&, ..., bool compute_grad);
//     static constexpr const char* kOp = "torchauc::name";
//     static constexpr std::array<size_t, G> kGradInputs;  // argument position of gradient output k + 1
//     static constexpr std::array<bool, G> kAlwaysComputed;  // output k + 1 is filled even without compute_grad
//     static constexpr const char* kNoGradError;  // backward asked for a gradient the call did not compute
//   };
// The differentiable inputs must precede every optional tensor argument: their autograd edge index
// is then their argument position.
#pragma once
#include <ATen/ATen.h>
#include <torch/autograd.h>
#include <torch/csrc/autograd/graph_task.h>

#include <array>
#include <string>
#include <tuple>
#include <utility>

#include "core/fused_grad.h"

namespace torchauc {

template <typename Signature>
struct SignatureArity;
template <typename Out, typename... Args>
struct SignatureArity<Out(Args...)> {
  static constexpr size_t value = sizeof...(Args);
};

template <typename Spec>
class FusedLossFunction : public torch::autograd::Function<FusedLossFunction<Spec>> {
  static constexpr size_t kGrads = Spec::kGradInputs.size();
  static constexpr size_t kArgs = SignatureArity<typename Spec::Signature>::value;

  static std::string key(size_t k) { return "grad" + std::to_string(k); }

  // "torchauc.name", as the op is called from Python (for errors).
  static const std::string& op_name() {
    static const std::string name = std::string(Spec::kOp).replace(std::string(Spec::kOp).find("::"), 2, ".");
    return name;
  }

 public:
  template <typename... Args>
  static torch::autograd::variable_list forward(torch::autograd::AutogradContext* ctx, const Args&... args) {
    static_assert(sizeof...(Args) == kArgs, "the Spec's Signature does not match the op's arguments");
    static const auto op =
        c10::Dispatcher::singleton().findSchemaOrThrow(Spec::kOp, "").template typed<typename Spec::Signature>();
    const bool compute_grad = std::get<kArgs - 1>(std::forward_as_tuple(args...));
    torch::autograd::variable_list out, grads;
    {
      const at::AutoDispatchBelowADInplaceOrView below_autograd;
      std::apply([&](const auto&... t) { out = {t...}; }, op.call(args...));
      // The caller gets aliases of the gradients: the saved TensorImpls never reach Python (a Python
      // wrapper would hold a reference to them), and a caller keeping an output shows in the storage's count.
      for (size_t k = 0; k < kGrads; ++k) grads.push_back(std::exchange(out[k + 1], at::alias(out[k + 1])));
    }
    ctx->mark_non_differentiable(torch::autograd::variable_list(out.begin() + 1, out.end()));
    ctx->set_materialize_grads(false);  // no zero-filled gradients for the constant outputs
    for (size_t k = 0; k < kGrads; ++k)
      if (compute_grad || Spec::kAlwaysComputed[k]) ctx->saved_data[key(k)] = std::move(grads[k]);
    return out;
  }

  static torch::autograd::variable_list backward(torch::autograd::AutogradContext* ctx,
                                                 torch::autograd::variable_list grad_outputs) {
    torch::autograd::variable_list grads(kArgs);
    for (size_t k = 0; k < kGrads; ++k)
      TORCH_CHECK(!ctx->needs_input_grad(Spec::kGradInputs[k]) || ctx->saved_data.count(key(k)), Spec::kNoGradError);
    const at::Tensor& g = grad_outputs[0];
    if (!g.defined()) return grads;
    // Without a kept graph this is the only backward through the node: its buffers can be consumed.
    const bool consume = !torch::autograd::get_current_graph_task_keep_graph() && !at::GradMode::is_enabled();
    for (size_t k = 0; k < kGrads; ++k)
      if (ctx->needs_input_grad(Spec::kGradInputs[k]))
        grads[Spec::kGradInputs[k]] = take_scaled(ctx->saved_data, key(k), g, consume, op_name().c_str());
    return grads;
  }
};

template <typename Spec, typename Signature = typename Spec::Signature>
struct FusedLossKernel;

// The function registered for the Autograd key: the op's own signature, through FusedLossFunction.
template <typename Spec, typename... Outs, typename... Args>
struct FusedLossKernel<Spec, std::tuple<Outs...>(Args...)> {
  static std::tuple<Outs...> call(Args... args) {
    const torch::autograd::variable_list out = FusedLossFunction<Spec>::apply(args...);
    return as_tuple(out, std::index_sequence_for<Outs...>{});
  }

 private:
  template <size_t... I>
  static std::tuple<Outs...> as_tuple(const torch::autograd::variable_list& out, std::index_sequence<I...>) {
    return {out[I]...};
  }
};

}  // namespace torchauc
