// Argument parsing and shape checks of multiclass_auc_loss, shared by the CPU kernel and the CUDA glue.
#pragma once
#include <ATen/ATen.h>

#include <cmath>
#include <string>
#include <string_view>

#include "multiclass/math.h"

namespace torchauc::multiclass {

inline Surrogate parse_mc_surrogate(std::string_view name) {
  if (name == "square") return Surrogate::Square;
  if (name == "exp") return Surrogate::Exp;
  if (name == "hinge") return Surrogate::Hinge;
  if (name == "linear") return Surrogate::Linear;
  TORCH_CHECK_VALUE(false, "surrogate must be one of 'square', 'exp', 'hinge', 'linear'; got '", std::string(name),
                    "'");
}

inline Mode parse_mc_mode(std::string_view name) {
  if (name == "ovo") return Mode::Ovo;
  if (name == "ova") return Mode::Ova;
  TORCH_CHECK_VALUE(false, "mode must be 'ovo' or 'ova', got '", std::string(name), "'");
}

inline Norm parse_mc_norm(std::string_view name) {
  if (name == "present") return Norm::Present;
  if (name == "xcurve") return Norm::XCurve;
  TORCH_CHECK_VALUE(false, "normalization must be 'present' or 'xcurve', got '", std::string(name), "'");
}

inline Activation parse_mc_activation(std::string_view name) {
  if (name == "none") return Activation::None;
  if (name == "sigmoid") return Activation::Sigmoid;
  TORCH_CHECK_VALUE(false, "activation must be 'none' or 'sigmoid', got '", std::string(name), "'");
}

// Scores viewed as (B, C, S): (N, C) gives B = N, S = 1; (B, C, d1, d2, ...) gives S = d1 d2 ...
struct Shape {
  int64_t B, C, S;
  int64_t samples() const { return B * S; }
};

// Checks scores (N, C) or (B, C, *spatial) against labels (N,) [or (N, 1)] or (B, *spatial).
inline Shape check_mc_inputs(const at::Tensor& scores, const at::Tensor& labels) {
  TORCH_CHECK_VALUE(at::isFloatingType(scores.scalar_type()),
                    "scores must be a floating point tensor (float16/bfloat16/float32/float64), got ",
                    scores.scalar_type());
  TORCH_CHECK_VALUE(scores.dim() >= 2, "scores must have shape (N, C) or (B, C, H, W), got ", scores.sizes());
  TORCH_CHECK_VALUE(!at::isFloatingType(labels.scalar_type()) && !at::isComplexType(labels.scalar_type()) &&
                        labels.scalar_type() != at::kBool,
                    "labels must be an integer tensor of class indices, got ", labels.scalar_type());
  TORCH_CHECK_VALUE(labels.device() == scores.device(), "labels must be on the scores' device ", scores.device(),
                    ", got ", labels.device());
  Shape sh{scores.size(0), scores.size(1), 1};
  TORCH_CHECK_VALUE(sh.C >= 1, "scores must have at least one class column, got ", scores.sizes());
  if (scores.dim() == 2) {
    const bool ok = (labels.dim() == 1 && labels.size(0) == sh.B) ||
                    (labels.dim() == 2 && labels.size(0) == sh.B && labels.size(1) == 1);
    TORCH_CHECK_VALUE(ok, "labels must have shape (N,) = (", sh.B, ",) for scores of shape ", scores.sizes(), ", got ",
                      labels.sizes());
    return sh;
  }
  for (int64_t d = 2; d < scores.dim(); ++d) sh.S *= scores.size(d);
  bool ok = labels.dim() == scores.dim() - 1 && labels.size(0) == sh.B;
  for (int64_t d = 2; ok && d < scores.dim(); ++d) ok = labels.size(d - 1) == scores.size(d);
  if (!ok) {
    std::vector<int64_t> want{sh.B};
    for (int64_t d = 2; d < scores.dim(); ++d) want.push_back(scores.size(d));
    TORCH_CHECK_VALUE(false, "labels must have shape (B, *spatial) = ", at::IntArrayRef(want), " matching logits ",
                      scores.sizes(), ", got ", labels.sizes(),
                      ". If the logits come from a decode head at a lower resolution, upsample them to the "
                      "label size first (e.g. torch.nn.functional.interpolate(logits, size=labels.shape[-2:], "
                      "mode='bilinear', align_corners=False)), as AUCSeg's head does before its loss.");
  }
  return sh;
}

// Every argument check shared by the CPU and CUDA paths of multiclass_auc_loss.
struct Args {
  Activation act;
  Surrogate sur;
  Mode mode;
  Norm norm;
  Shape shape;
};
inline Args check_mc_args(const at::Tensor& scores, const at::Tensor& labels, std::string_view activation,
                          std::string_view surrogate, std::string_view mode, double margin,
                          std::string_view normalization) {
  Args a{parse_mc_activation(activation),
         parse_mc_surrogate(surrogate),
         parse_mc_mode(mode),
         parse_mc_norm(normalization),
         {}};
  TORCH_CHECK_VALUE(std::isfinite(margin), "margin must be finite, got ", margin);
  a.shape = check_mc_inputs(scores, labels);
  return a;
}

}  // namespace torchauc::multiclass
