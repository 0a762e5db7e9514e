// Argument checks of autkc_topk and autkc_loss_rows, shared by the CPU kernel and the CUDA glue.
#pragma once
#include <ATen/ATen.h>

#include <algorithm>
#include <vector>

#include "core/labels.h"

namespace torchauc::autkc {

struct TopkInputs {
  at::Tensor scores;  // contiguous (B, C)
  at::Tensor labels;  // int32 (B,) in [0, C)
  int64_t B, C;
};

inline TopkInputs check_topk(const at::Tensor& scores, const at::Tensor& labels, int64_t k, bool include_label) {
  TORCH_CHECK_VALUE(at::isFloatingType(scores.scalar_type()),
                    "scores must be a floating point tensor (float16/bfloat16/float32/float64), got ",
                    scores.scalar_type());
  TORCH_CHECK_VALUE(scores.dim() == 2, "scores must have shape (B, C), got ", scores.sizes());
  const int64_t B = scores.size(0), C = scores.size(1);
  TORCH_CHECK_VALUE(labels.device() == scores.device(), "labels must be on the scores' device ", scores.device(),
                    ", got ", labels.device());
  TORCH_CHECK_VALUE(!at::isFloatingType(labels.scalar_type()) && !at::isComplexType(labels.scalar_type()),
                    "labels must hold integer class indices, got ", labels.scalar_type());
  TORCH_CHECK_VALUE(labels.numel() == B && (labels.dim() == 1 || (labels.dim() == 2 && labels.size(1) == 1)),
                    "labels must have shape (B,) with B = ", B, ", got ", labels.sizes());
  const int64_t avail = include_label ? C : C - 1;
  TORCH_CHECK_VALUE(k >= 0 && k <= avail, "k must be in [0, ", avail, "] (", include_label ? "C" : "C - 1",
                    " candidates per row), got ", k);
  return {scores.contiguous(), class_labels(labels, C, c10::nullopt), B, C};
}

// The reduction of autkc_loss_rows over the rows: "none" keeps the (B,) rows, "mean" and "sum" give a
// 0-dim loss whose gradient the kernel writes already scaled (1 / B for the mean): no (B, C) pass in
// backward when the incoming gradient is 1.
enum class Reduction { None, Mean, Sum };

struct LossInputs {
  TopkInputs in;
  int surrogate;                          // autkc::Surrogate
  Reduction reduction = Reduction::None;  // (defaulted: aggregate initialisers elsewhere keep working)

  // The factor on each row's gradient: d loss / d loss_b.
  double grad_scale() const { return reduction == Reduction::Mean ? 1.0 / static_cast<double>(in.B) : 1.0; }
  // Shape of the loss output: (B,) or 0-dim.
  std::vector<int64_t> loss_shape() const {
    return reduction == Reduction::None ? std::vector<int64_t>{in.B} : std::vector<int64_t>{};
  }
};

inline Reduction parse_reduction(c10::string_view reduction) {
  if (reduction == "none") return Reduction::None;
  if (reduction == "mean") return Reduction::Mean;
  TORCH_CHECK_VALUE(reduction == "sum", "reduction must be one of 'none', 'mean', 'sum'; got '", reduction, "'");
  return Reduction::Sum;
}

// Argument checks of autkc_loss_rows: logits (B, C), m competitors in [0, C - 1] over k >= 1.
inline LossInputs check_loss(const at::Tensor& logits, const at::Tensor& labels, int64_t k, int64_t m,
                             c10::string_view surrogate, c10::string_view reduction) {
  static constexpr const char* kNames[] = {"square", "exp", "logistic", "hinge", "ce"};  // autkc::Surrogate
  int sur = -1;
  for (int i = 0; i < 5; ++i)
    if (surrogate == c10::string_view(kNames[i])) sur = i;
  TORCH_CHECK_VALUE(sur >= 0, "surrogate must be one of 'square', 'exp', 'logistic', 'hinge', 'ce'; got '", surrogate,
                    "'");
  TORCH_CHECK_VALUE(k >= 1, "k must be in [1, C - 1], got ", k);
  TORCH_CHECK_VALUE(logits.dim() == 2, "logits must have shape (B, C), got ", logits.sizes());
  TORCH_CHECK_VALUE(m >= 0 && m <= std::max<int64_t>(logits.size(1) - 1, 0),
                    "k must be in [1, C - 1] (the competitors per row), got ", m, " terms with C = ", logits.size(1));
  const Reduction red = parse_reduction(reduction);
  return {check_topk(logits, labels, m, false), sur, red};
}

}  // namespace torchauc::autkc
