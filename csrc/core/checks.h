// Input validation shared by the CPU kernels and the CUDA glue (torch headers allowed here,
// never in .cu files). Every message names the argument and what was expected.
#pragma once
#include <ATen/ATen.h>

#include <string>

namespace torchauc {

// t as a contiguous 1-D tensor; t itself when it already is one (a reshape is an op call even then).
inline at::Tensor flat_contiguous(const at::Tensor& t) {
  return t.dim() == 1 && t.is_contiguous() ? t : t.reshape({-1}).contiguous();
}

// Scores of a binary op: (n,) or (n,1), floating point, non-empty. Returns a contiguous 1-D view.
inline at::Tensor check_binary_scores(const at::Tensor& scores, const char* name = "scores") {
  TORCH_CHECK(at::isFloatingType(scores.scalar_type()), name,
              " must be a floating point tensor (float16/bfloat16/float32/float64), got ", scores.scalar_type());
  TORCH_CHECK(scores.dim() == 1 || (scores.dim() == 2 && scores.size(1) == 1), name,
              " must have shape (n,) or (n, 1), got ", scores.sizes());
  return flat_contiguous(scores);
}

// Labels of a binary op: n values of any real or bool dtype, on the device of `like`.
inline at::Tensor check_binary_labels(const at::Tensor& labels, const at::Tensor& like, const char* name = "labels") {
  TORCH_CHECK(!at::isComplexType(labels.scalar_type()), name, " must be real or bool, got ", labels.scalar_type());
  TORCH_CHECK(labels.dim() == 1 || (labels.dim() == 2 && labels.size(1) == 1), name,
              " must have shape (n,) or (n, 1), got ", labels.sizes());
  TORCH_CHECK(labels.numel() == like.numel(), name, " must have as many elements as the scores (", like.numel(),
              "), got ", labels.numel());
  TORCH_CHECK(labels.device() == like.device(), name, " must be on the scores' device ", like.device(), ", got ",
              labels.device());
  return flat_contiguous(labels);
}

// Optional per-sample weights aligned with the scores: (n,) floating, same device.
inline c10::optional<at::Tensor> check_sample_weights(const c10::optional<at::Tensor>& w, const at::Tensor& like,
                                                      const char* name) {
  if (!w.has_value()) return c10::nullopt;
  const at::Tensor& t = *w;
  TORCH_CHECK(at::isFloatingType(t.scalar_type()), name, " must be floating point, got ", t.scalar_type());
  TORCH_CHECK(t.numel() == like.numel() && (t.dim() == 1 || (t.dim() == 2 && t.size(1) == 1)), name,
              " must have shape (n,) matching the scores (n = ", like.numel(), "), got ", t.sizes());
  TORCH_CHECK(t.device() == like.device(), name, " must be on the scores' device ", like.device(), ", got ",
              t.device());
  return t.reshape({-1}).contiguous();
}

// The bounds of a partial-AUC region. A metric needs a non-empty region (max_fpr > 0, min_tpr < 1);
// a loss accepts an empty one (allow_empty: its value is then 0).
inline void check_partial_bounds(double max_fpr, double min_tpr, bool allow_empty) {
  if (allow_empty) {
    TORCH_CHECK_VALUE(max_fpr >= 0.0 && max_fpr <= 1.0, "max_fpr must be in [0, 1], got ", max_fpr);
    TORCH_CHECK_VALUE(min_tpr >= 0.0 && min_tpr <= 1.0, "min_tpr must be in [0, 1], got ", min_tpr);
  } else {
    TORCH_CHECK_VALUE(max_fpr > 0.0 && max_fpr <= 1.0, "max_fpr must be in (0, 1], got ", max_fpr);
    TORCH_CHECK_VALUE(min_tpr >= 0.0 && min_tpr < 1.0, "min_tpr must be in [0, 1), got ", min_tpr);
  }
}

}  // namespace torchauc
