// Shape and argument checks of the AUROC metric ops, shared by the CPU kernels and the CUDA glue.
#pragma once
#include <ATen/ATen.h>

#include "core/checks.h"

namespace torchauc::auroc {

// Binary (L = 1) or multilabel columns: scores (n,) or (n, L), labels of the same shape (or (n,)
// when L = 1). Both returned contiguous as (n, L).
struct BinaryColumns {
  at::Tensor scores, labels;
  int64_t n, cols;
};

inline BinaryColumns check_binary_columns(const at::Tensor& scores, const at::Tensor& labels) {
  TORCH_CHECK_VALUE(at::isFloatingType(scores.scalar_type()),
                    "scores must be a floating point tensor (float16/bfloat16/float32/float64), got ",
                    scores.scalar_type());
  TORCH_CHECK_VALUE(scores.dim() == 1 || scores.dim() == 2, "scores must have shape (n,) or (n, L), got ",
                    scores.sizes());
  TORCH_CHECK_VALUE(!at::isComplexType(labels.scalar_type()), "labels must be real or bool, got ",
                    labels.scalar_type());
  TORCH_CHECK_VALUE(labels.device() == scores.device(), "labels must be on the scores' device ", scores.device(),
                    ", got ", labels.device());
  const int64_t n = scores.size(0);
  const int64_t L = scores.dim() == 2 ? scores.size(1) : 1;
  const bool same =
      labels.sizes() == scores.sizes() || (L == 1 && labels.numel() == n && (labels.dim() == 1 || labels.dim() == 2));
  TORCH_CHECK_VALUE(same, "labels must have the shape of scores ", scores.sizes(), ", got ", labels.sizes());
  return {scores.reshape({n, L}).contiguous(), labels.reshape({n, L}).contiguous(), n, L};
}

// Multiclass / pixel layout: scores (B, C, *spatial) read in place as (B, C, M), labels (B, *spatial)
// holding n = B * M class indices.
struct MulticlassLayout {
  at::Tensor scores, labels;
  int64_t B, C, M, n;
};

inline MulticlassLayout check_multiclass_layout(const at::Tensor& scores, const at::Tensor& labels) {
  TORCH_CHECK_VALUE(at::isFloatingType(scores.scalar_type()),
                    "scores must be a floating point tensor (float16/bfloat16/float32/float64), got ",
                    scores.scalar_type());
  TORCH_CHECK_VALUE(scores.dim() >= 2, "scores must have shape (N, C) or (B, C, *spatial), got ", scores.sizes());
  TORCH_CHECK_VALUE(!at::isFloatingType(labels.scalar_type()) && !at::isComplexType(labels.scalar_type()),
                    "labels must hold integer class indices, got ", labels.scalar_type());
  TORCH_CHECK_VALUE(labels.device() == scores.device(), "labels must be on the scores' device ", scores.device(),
                    ", got ", labels.device());
  const int64_t B = scores.size(0), C = scores.size(1);
  TORCH_CHECK_VALUE(C >= 2, "scores must have at least 2 class columns (dim 1), got ", C);
  std::vector<int64_t> want{B};
  for (int64_t d = 2; d < scores.dim(); ++d) want.push_back(scores.size(d));
  TORCH_CHECK_VALUE(labels.sizes() == at::IntArrayRef(want), "labels must have shape ", at::IntArrayRef(want),
                    " (scores without the class dim 1), got ", labels.sizes());
  const int64_t M = B == 0 ? 0 : scores.numel() / (B * C);
  return {scores.contiguous(), labels.reshape({-1}).contiguous(), B, C, M, B * M};
}

// Optional sample weights (n,) as contiguous float64 on the scores' device; negative or NaN weights
// are a ValueError naming `name`. Undefined tensor when absent.
inline at::Tensor weights_f64(const c10::optional<at::Tensor>& w, const at::Tensor& like, const char* name) {
  auto t = check_sample_weights(w, like, name);
  if (!t) return at::Tensor();
  at::Tensor d = t->to(at::kDouble).contiguous();
  TORCH_CHECK_VALUE(!d.lt(0).logical_or(d.isnan()).any().item<bool>(), name, " must be non-negative and not NaN");
  return d;
}

// NaN scores have no rank: every AUROC op rejects them, the CPU kernels while sorting, the CUDA glue
// with check_no_nan (one host sync).
constexpr const char* kNanScores = "scores contains NaN; AUROC is undefined for NaN scores";
inline void check_no_nan(const at::Tensor& scores) {
  TORCH_CHECK_VALUE(!at::isnan(scores).any().item<bool>(), kNanScores);
}

}  // namespace torchauc::auroc
