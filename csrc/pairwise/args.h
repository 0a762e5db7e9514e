// Parsing of the pairwise-loss string arguments, shared by the CPU kernels and the CUDA glue.
#pragma once
#include <c10/util/Exception.h>

#include <cmath>
#include <string_view>

#include "core/checks.h"
#include "pairwise/math.h"

namespace torchauc::pairwise {

inline Surrogate parse_surrogate(std::string_view name) {
  if (name == "square") return Surrogate::Square;
  if (name == "exp") return Surrogate::Exp;
  if (name == "hinge") return Surrogate::Hinge;
  if (name == "squared_hinge") return Surrogate::SquaredHinge;
  if (name == "logistic") return Surrogate::Logistic;
  if (name == "sigmoid") return Surrogate::Sigmoid;
  TORCH_CHECK_VALUE(false, "surrogate must be one of 'square', 'exp', 'hinge', 'squared_hinge', ",
                    "'logistic', 'sigmoid'; got '", std::string(name), "'");
}

inline Reduction parse_reduction(std::string_view name) {
  if (name == "mean") return Reduction::Mean;
  if (name == "sum") return Reduction::Sum;
  TORCH_CHECK_VALUE(false, "reduction must be 'mean' or 'sum', got '", std::string(name), "'");
}

// The op's arguments after every check the CPU and CUDA paths share (shapes, dtypes, devices,
// choices); label values are checked by each backend's label pass.
struct PairwiseArgs {
  Surrogate surrogate;
  Reduction reduction;
  double scale;               // multiplies the loss and its gradients
  at::Tensor scores, labels;  // contiguous, 1-D
  c10::optional<at::Tensor> pos_w, neg_w;
};

inline PairwiseArgs check_pairwise_args(const at::Tensor& scores, const at::Tensor& labels,
                                        const c10::optional<at::Tensor>& pos_w, const c10::optional<at::Tensor>& neg_w,
                                        std::string_view surrogate, double margin, std::string_view reduction,
                                        double scale) {
  PairwiseArgs a{
      parse_surrogate(surrogate), parse_reduction(reduction), scale, check_binary_scores(scores), {}, {}, {}};
  a.labels = check_binary_labels(labels, a.scores);
  a.pos_w = check_sample_weights(pos_w, a.scores, "pos_weights");
  a.neg_w = check_sample_weights(neg_w, a.scores, "neg_weights");
  TORCH_CHECK_VALUE(std::isfinite(margin), "margin must be finite, got ", margin);
  TORCH_CHECK_VALUE(std::isfinite(scale), "scale must be finite, got ", scale);
  return a;
}

}  // namespace torchauc::pairwise
