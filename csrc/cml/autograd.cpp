// Autograd of cml_triplet_loss and cml_gather_dots, in C++ for the Autograd key (any device): backward
// calls the ops' backward ops (cml_triplet_backward, cml_gather_dots_backward). A Python
// register_autograd node costs 40-110 us per call, more than the kernels at training batch sizes.
// Under create_graph=True the gradients get a graph of their own: cml_gather_dots's (bilinear) is
// differentiable to any order; cml_triplet_loss's is not, and differentiating it raises an error
// naming the op (the backward op has no autograd of its own, so torch would silently report its
// inputs unused or give zeros).
#include <ATen/ATen.h>
#include <torch/autograd.h>
#include <torch/library.h>

#include <string>
#include <tuple>

namespace torchauc::cml {
namespace {

using torch::autograd::AutogradContext;
using torch::autograd::variable_list;
using OptTensor = c10::optional<at::Tensor>;
using TripletSignature = std::tuple<at::Tensor, at::Tensor>(const at::Tensor&, const at::Tensor&, const at::Tensor&,
                                                            const OptTensor&, const OptTensor&, const OptTensor&,
                                                            double, c10::string_view);
using TripletBackwardSignature = std::tuple<at::Tensor, at::Tensor, at::Tensor>(const at::Tensor&, const at::Tensor&,
                                                                                const at::Tensor&, const at::Tensor&,
                                                                                const OptTensor&, const OptTensor&,
                                                                                const OptTensor&, const at::Tensor&,
                                                                                c10::string_view);
using DotsSignature = at::Tensor(const at::Tensor&, const at::Tensor&, const at::Tensor&, const at::Tensor&);
using DotsBackwardSignature = std::tuple<at::Tensor, at::Tensor>(const at::Tensor&, const at::Tensor&,
                                                                 const at::Tensor&, const at::Tensor&,
                                                                 const at::Tensor&);

template <typename Signature>
c10::TypedOperatorHandle<Signature> find_op(const char* name) {
  return c10::Dispatcher::singleton().findSchemaOrThrow(name, "").typed<Signature>();
}

OptTensor present(const at::Tensor& t) { return t.defined() ? OptTensor(t) : c10::nullopt; }

// The gradient of cml_triplet_loss as a node of a graph (create_graph=True): the backward op, whose own
// gradient is not implemented (the argmin and hinge make it piecewise; not needed by CML training).
class TripletGradient : public torch::autograd::Function<TripletGradient> {
 public:
  static variable_list forward(AutogradContext* ctx, const at::Tensor& grad, const at::Tensor& users,
                               const at::Tensor& pos, const at::Tensor& neg, const OptTensor& users_idx,
                               const OptTensor& pos_idx, const OptTensor& neg_idx, const at::Tensor& argmin,
                               c10::string_view reduction) {
    static const auto op = find_op<TripletBackwardSignature>("torchauc::cml_triplet_backward");
    const at::AutoDispatchBelowADInplaceOrView below_autograd;
    const auto [gu, gp, gn] = op.call(grad, users, pos, neg, users_idx, pos_idx, neg_idx, argmin, reduction);
    return {gu, gp, gn};
  }

  static variable_list backward(AutogradContext*, variable_list) {
    TORCH_CHECK(false,
                "torchauc.cml_triplet_loss is not twice differentiable: its gradient (taken with create_graph=True) "
                "cannot be differentiated again");
    return {};
  }
};

class TripletLoss : public torch::autograd::Function<TripletLoss> {
 public:
  static variable_list forward(AutogradContext* ctx, const at::Tensor& users, const at::Tensor& pos,
                               const at::Tensor& neg, const OptTensor& users_idx, const OptTensor& pos_idx,
                               const OptTensor& neg_idx, double margin, c10::string_view reduction) {
    static const auto op = find_op<TripletSignature>("torchauc::cml_triplet_loss");
    at::Tensor loss, argmin;
    {
      const at::AutoDispatchBelowADInplaceOrView below_autograd;
      std::tie(loss, argmin) = op.call(users, pos, neg, users_idx, pos_idx, neg_idx, margin, reduction);
    }
    ctx->mark_non_differentiable({argmin});
    ctx->set_materialize_grads(false);  // no zero-filled gradient for argmin
    ctx->save_for_backward({users, pos, neg, users_idx.value_or(at::Tensor()), pos_idx.value_or(at::Tensor()),
                            neg_idx.value_or(at::Tensor()), argmin});
    ctx->saved_data["reduction"] = std::string(reduction);
    return {loss, argmin};
  }

  static variable_list backward(AutogradContext* ctx, variable_list grad_outputs) {
    static const auto op = find_op<TripletBackwardSignature>("torchauc::cml_triplet_backward");
    variable_list grads(8);
    const at::Tensor& g = grad_outputs[0];
    if (!g.defined()) return grads;
    const variable_list s = ctx->get_saved_variables();
    const std::string& reduction = ctx->saved_data.at("reduction").toStringRef();
    at::Tensor gu, gp, gn;
    if (at::GradMode::is_enabled()) {  // create_graph: gradients whose own gradient is an error
      const variable_list out =
          TripletGradient::apply(g, s[0], s[1], s[2], present(s[3]), present(s[4]), present(s[5]), s[6], reduction);
      gu = out[0], gp = out[1], gn = out[2];
    } else {
      std::tie(gu, gp, gn) = op.call(g, s[0], s[1], s[2], present(s[3]), present(s[4]), present(s[5]), s[6], reduction);
    }
    if (ctx->needs_input_grad(0)) grads[0] = gu;
    if (ctx->needs_input_grad(1)) grads[1] = gp;
    if (ctx->needs_input_grad(2)) grads[2] = gn;
    return grads;
  }
};

class GatherDots : public torch::autograd::Function<GatherDots> {
 public:
  static variable_list forward(AutogradContext* ctx, const at::Tensor& users, const at::Tensor& items,
                               const at::Tensor& indptr, const at::Tensor& indices) {
    static const auto op = find_op<DotsSignature>("torchauc::cml_gather_dots");
    at::Tensor dots;
    {
      const at::AutoDispatchBelowADInplaceOrView below_autograd;
      dots = op.call(users, items, indptr, indices);
    }
    ctx->save_for_backward({users, items, indptr, indices});
    return {dots};
  }

  static variable_list backward(AutogradContext* ctx, variable_list grad_outputs);
};

// The gradient of cml_gather_dots, gu_b = sum_{k in row b} g_k items[indices_k] and
// gi_j = sum_{k: indices_k = j} g_k users[row_k], as a node of a graph (create_graph=True). It is
// bilinear in (g, items) and (g, users), so its own gradient, for incoming (cu, ci), is again
// gather_dots and its gradient: d g_k = cu_row . items_j + users_row . ci_j, d users = gu with items
// := ci, d items = gi with users := cu (through the autograd Functions: differentiable to any order).
class GatherDotsGradient : public torch::autograd::Function<GatherDotsGradient> {
 public:
  static variable_list forward(AutogradContext* ctx, const at::Tensor& grad, const at::Tensor& users,
                               const at::Tensor& items, const at::Tensor& indptr, const at::Tensor& indices) {
    static const auto op = find_op<DotsBackwardSignature>("torchauc::cml_gather_dots_backward");
    at::Tensor gu, gi;
    {
      const at::AutoDispatchBelowADInplaceOrView below_autograd;
      std::tie(gu, gi) = op.call(grad, users, items, indptr, indices);
    }
    ctx->save_for_backward({grad, users, items, indptr, indices});
    return {gu, gi};
  }

  static variable_list backward(AutogradContext* ctx, variable_list grad_outputs) {
    const variable_list s = ctx->get_saved_variables();
    const at::Tensor &g = s[0], &users = s[1], &items = s[2], &indptr = s[3], &indices = s[4];
    const at::Tensor &cu = grad_outputs[0], &ci = grad_outputs[1];  // materialized: zeros when unused
    variable_list grads(5);
    if (ctx->needs_input_grad(0))
      grads[0] = GatherDots::apply(cu, items, indptr, indices)[0] + GatherDots::apply(users, ci, indptr, indices)[0];
    if (ctx->needs_input_grad(1)) grads[1] = GatherDotsGradient::apply(g, users, ci, indptr, indices)[0];
    if (ctx->needs_input_grad(2)) grads[2] = GatherDotsGradient::apply(g, cu, items, indptr, indices)[1];
    return grads;
  }
};

variable_list GatherDots::backward(AutogradContext* ctx, variable_list grad_outputs) {
  static const auto op = find_op<DotsBackwardSignature>("torchauc::cml_gather_dots_backward");
  const variable_list s = ctx->get_saved_variables();
  at::Tensor gu, gi;
  if (at::GradMode::is_enabled()) {  // create_graph: a differentiable gradient
    const variable_list out = GatherDotsGradient::apply(grad_outputs[0], s[0], s[1], s[2], s[3]);
    gu = out[0], gi = out[1];
  } else {
    std::tie(gu, gi) = op.call(grad_outputs[0], s[0], s[1], s[2], s[3]);
  }
  return {ctx->needs_input_grad(0) ? gu : at::Tensor(), ctx->needs_input_grad(1) ? gi : at::Tensor(), at::Tensor(),
          at::Tensor()};
}

std::tuple<at::Tensor, at::Tensor> triplet_loss_autograd(const at::Tensor& users, const at::Tensor& pos,
                                                         const at::Tensor& neg, const OptTensor& users_idx,
                                                         const OptTensor& pos_idx, const OptTensor& neg_idx,
                                                         double margin, c10::string_view reduction) {
  const variable_list out = TripletLoss::apply(users, pos, neg, users_idx, pos_idx, neg_idx, margin, reduction);
  return {out[0], out[1]};
}

at::Tensor gather_dots_autograd(const at::Tensor& users, const at::Tensor& items, const at::Tensor& indptr,
                                const at::Tensor& indices) {
  return GatherDots::apply(users, items, indptr, indices)[0];
}

}  // namespace

TORCH_LIBRARY_IMPL(torchauc, Autograd, m) {
  m.impl("cml_triplet_loss", &triplet_loss_autograd);
  m.impl("cml_gather_dots", &gather_dots_autograd);
}

}  // namespace torchauc::cml
