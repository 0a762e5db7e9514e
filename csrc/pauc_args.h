// Argument parsing and checks of the partial-AUC ops, shared by the CPU kernels and the CUDA glue.
#pragma once
#include <c10/util/Exception.h>
#include <cmath>
#include <string>
#include <string_view>
#include "checks.h"
#include "common/pauc_math.h"

namespace torchauc {

inline PaucRounding parse_pauc_rounding(std::string_view name) {
  if (name == "floor") return PaucRounding::Floor;
  if (name == "ceil") return PaucRounding::Ceil;
  if (name == "round") return PaucRounding::Round;
  TORCH_CHECK_VALUE(false, "rounding must be one of 'floor', 'ceil', 'round'; got '", std::string(name), "'");
}

inline PaucSurrogate parse_pauc_surrogate(std::string_view name) {
  if (name == "squared_hinge") return PaucSurrogate::SquaredHinge;
  if (name == "hinge") return PaucSurrogate::Hinge;
  TORCH_CHECK_VALUE(false, "surrogate must be 'squared_hinge' or 'hinge' for the exp-weighted partial AUC ",
                    "losses; got '", std::string(name), "'");
}

inline void check_pauc_fractions(double max_fpr, double min_tpr) {
  TORCH_CHECK_VALUE(max_fpr >= 0.0 && max_fpr <= 1.0, "max_fpr must be in [0, 1], got ", max_fpr);
  TORCH_CHECK_VALUE(min_tpr >= 0.0 && min_tpr <= 1.0, "min_tpr must be in [0, 1], got ", min_tpr);
}

// Every argument check shared by the CPU and CUDA paths of pauc_exp_rows / pauc_exp_cols.
struct PaucExpInputs {
  at::Tensor scores, labels;  // contiguous, 1-D; label values are checked by each backend's label pass
  PaucSurrogate sur;
};
inline PaucExpInputs check_pauc_exp_inputs(const at::Tensor& scores, const at::Tensor& labels, double margin,
                                           double lambda, std::string_view surrogate) {
  PaucExpInputs in;
  in.scores = check_binary_scores(scores);
  in.labels = check_binary_labels(labels, in.scores);
  TORCH_CHECK_VALUE(std::isfinite(margin), "margin must be finite, got ", margin);
  TORCH_CHECK_VALUE(std::isfinite(lambda) && lambda > 0.0, "Lambda must be finite and > 0, got ", lambda);
  in.sur = parse_pauc_surrogate(surrogate);
  return in;
}

}  // namespace torchauc
