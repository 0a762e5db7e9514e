// Argument checks of the AdAUC ops, shared by the CPU kernels and the CUDA glue.
#pragma once
#include <ATen/ATen.h>

#include <cmath>
#include <string>
#include <string_view>

#include "adauc/math.h"
#include "core/checks.h"

namespace torchauc::adauc {

inline Form parse_form(std::string_view name) {
  if (name == "canonical") return Form::Canonical;
  if (name == "xcurve") return Form::XCurve;
  TORCH_CHECK_VALUE(false, "form must be 'canonical' or 'xcurve', got '", std::string(name), "'");
}

inline Norm parse_norm(std::string_view name) {
  if (name == "linf") return Norm::Linf;
  if (name == "l2") return Norm::L2;
  TORCH_CHECK_VALUE(false, "norm must be 'linf' or 'l2', got '", std::string(name), "'");
}

// One of the loss's scalar variables: a floating tensor with one element on the scores' device.
inline void check_scalar_param(const at::Tensor& t, const at::Tensor& like, const char* name) {
  TORCH_CHECK(at::isFloatingType(t.scalar_type()), name, " must be a floating point tensor, got ", t.scalar_type());
  TORCH_CHECK_VALUE(t.numel() == 1, name, " must have exactly one element, got shape ", t.sizes());
  TORCH_CHECK_VALUE(t.device() == like.device(), name, " must be on the scores' device ", like.device(), ", got ",
                    t.device());
}

struct LossArgs {
  at::Tensor scores, labels;  // contiguous, 1-D
  Form form;
  double imratio;  // < 0: the batch's positive rate
};

inline LossArgs check_loss_args(const at::Tensor& scores, const at::Tensor& labels, const at::Tensor& a,
                                const at::Tensor& b, const at::Tensor& alpha, c10::optional<double> imratio,
                                double margin, std::string_view form) {
  LossArgs r{check_binary_scores(scores), at::Tensor(), parse_form(form), -1.0};
  r.labels = check_binary_labels(labels, r.scores);
  TORCH_CHECK_VALUE(r.scores.numel() > 0, "scores must not be empty (the loss is a mean over the batch)");
  check_scalar_param(a, r.scores, "a");
  check_scalar_param(b, r.scores, "b");
  check_scalar_param(alpha, r.scores, "alpha");
  TORCH_CHECK_VALUE(std::isfinite(margin), "margin must be finite, got ", margin);
  if (imratio.has_value()) {
    TORCH_CHECK_VALUE(*imratio >= 0.0 && *imratio <= 1.0, "imratio must be in [0, 1], got ", *imratio);
    r.imratio = *imratio;
  }
  return r;
}

// PGD step arguments: inputs, delta and grad of one shape (n, ...), one floating dtype, one device.
inline Norm check_pgd_args(const at::Tensor& x, const at::Tensor& delta, const at::Tensor& grad, double eps,
                           double step, std::string_view norm, double lower, double upper) {
  TORCH_CHECK(at::isFloatingType(x.scalar_type()), "inputs must be a floating point tensor, got ", x.scalar_type());
  TORCH_CHECK_VALUE(x.dim() >= 1, "inputs must have a batch dimension, got a 0-dim tensor");
  for (const auto& [t, name] : {std::pair{&delta, "delta"}, std::pair{&grad, "grad"}}) {
    TORCH_CHECK_VALUE(t->sizes() == x.sizes(), name, " must have the inputs' shape ", x.sizes(), ", got ", t->sizes());
    TORCH_CHECK(t->scalar_type() == x.scalar_type(), name, " must have the inputs' dtype ", x.scalar_type(), ", got ",
                t->scalar_type());
    TORCH_CHECK_VALUE(t->device() == x.device(), name, " must be on the inputs' device ", x.device(), ", got ",
                      t->device());
  }
  TORCH_CHECK_VALUE(std::isfinite(eps) && eps >= 0.0, "eps must be finite and >= 0, got ", eps);
  TORCH_CHECK_VALUE(std::isfinite(step) && step >= 0.0, "step must be finite and >= 0, got ", step);
  TORCH_CHECK_VALUE(lower <= upper, "clamp must satisfy lower <= upper, got (", lower, ", ", upper, ")");
  return parse_norm(norm);
}

}  // namespace torchauc::adauc
