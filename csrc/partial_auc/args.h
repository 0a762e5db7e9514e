// Argument parsing and checks of the partial-AUC ops, shared by the CPU kernels and the CUDA glue.
#pragma once
#include <c10/util/Exception.h>

#include <cmath>
#include <string>
#include <string_view>

#include "core/checks.h"
#include "partial_auc/math.h"

namespace torchauc::partial_auc {

inline Rounding parse_rounding(std::string_view name) {
  if (name == "floor") return Rounding::Floor;
  if (name == "ceil") return Rounding::Ceil;
  if (name == "round") return Rounding::Round;
  TORCH_CHECK_VALUE(false, "rounding must be one of 'floor', 'ceil', 'round'; got '", std::string(name), "'");
}

inline Surrogate parse_surrogate(std::string_view name) {
  if (name == "squared_hinge") return Surrogate::SquaredHinge;
  if (name == "hinge") return Surrogate::Hinge;
  TORCH_CHECK_VALUE(false, "surrogate must be 'squared_hinge' or 'hinge' for the exp-weighted partial AUC ",
                    "losses; got '", std::string(name), "'");
}

// Every argument check shared by the CPU and CUDA paths of partial_auc_exp_rows / partial_auc_exp_cols.
// scores (n,) is one problem; scores (n, C) is C independent problems, one per column (the
// multi-label losses run every label in one call). Both are handled as C rows of n (C = 1 for 1-D).
struct ExpInputs {
  at::Tensor scores, labels;  // contiguous (C, n); label values are checked by each backend's label pass
  int64_t cols = 1, n = 0;
  Surrogate sur;
};
inline ExpInputs check_exp_inputs(const at::Tensor& scores, const at::Tensor& labels, double margin, double lambda,
                                  std::string_view surrogate) {
  ExpInputs in;
  if (scores.dim() == 2) {
    TORCH_CHECK(at::isFloatingType(scores.scalar_type()),
                "scores must be a floating point tensor (float16/bfloat16/float32/float64), got ",
                scores.scalar_type());
    TORCH_CHECK(!at::isComplexType(labels.scalar_type()), "labels must be real or bool, got ", labels.scalar_type());
    TORCH_CHECK(labels.sizes() == scores.sizes(), "labels must have the shape of the scores ", scores.sizes(), ", got ",
                labels.sizes());
    TORCH_CHECK(labels.device() == scores.device(), "labels must be on the scores' device ", scores.device(), ", got ",
                labels.device());
    in.scores = scores.t().contiguous();
    in.labels = labels.t().contiguous();
  } else {
    in.scores = check_binary_scores(scores).reshape({1, -1});
    in.labels = check_binary_labels(labels, in.scores).reshape({1, -1});
  }
  in.cols = in.scores.size(0);
  in.n = in.scores.size(1);
  TORCH_CHECK_VALUE(std::isfinite(margin), "margin must be finite, got ", margin);
  TORCH_CHECK_VALUE(std::isfinite(lambda) && lambda > 0.0, "Lambda must be finite and > 0, got ", lambda);
  in.sur = parse_surrogate(surrogate);
  return in;
}

// row_scale of partial_auc_exp_cols: the shape of the scores, as float64 (C, n) like ExpInputs.
inline at::Tensor check_exp_row_scale(const at::Tensor& row_scale, const at::Tensor& scores) {
  TORCH_CHECK(at::isFloatingType(row_scale.scalar_type()), "row_scale must be floating point, got ",
              row_scale.scalar_type());
  TORCH_CHECK(row_scale.device() == scores.device(), "row_scale must be on the scores' device ", scores.device(),
              ", got ", row_scale.device());
  if (scores.dim() == 2) {
    TORCH_CHECK(row_scale.sizes() == scores.sizes(), "row_scale must have the shape of the scores ", scores.sizes(),
                ", got ", row_scale.sizes());
    return row_scale.t().to(at::kDouble).contiguous();
  }
  return check_sample_weights(row_scale, scores, "row_scale")->to(at::kDouble).reshape({1, -1}).contiguous();
}

// An output computed as (C, n), returned in the layout of the scores: (n,) or (n, C).
inline at::Tensor exp_output(const at::Tensor& by_column, const at::Tensor& scores) {
  return scores.dim() == 2 ? by_column.t().contiguous() : by_column.reshape({-1});
}

// Every argument check of partial_auc_upauci, shared by the CPU and CUDA paths.
struct UpauciInputs {
  at::Tensor scores, labels, weights;  // contiguous, 1-D
  bool two_way;
};
inline UpauciInputs check_upauci_inputs(const at::Tensor& scores, const at::Tensor& labels, const at::Tensor& weights,
                                        const at::Tensor& params, double max_fpr, double min_tpr, double omega) {
  UpauciInputs in;
  in.scores = check_binary_scores(scores);
  in.labels = check_binary_labels(labels, in.scores);
  in.weights = *check_sample_weights(weights, in.scores, "weights");
  TORCH_CHECK_VALUE(params.dim() == 1 && params.numel() == kUpauciParams && params.scalar_type() == at::kDouble,
                    "params must be a float64 tensor of shape (7,) (a, b, gamma, s, s', theta_a, theta_b), got ",
                    params.scalar_type(), " ", params.sizes());
  TORCH_CHECK_VALUE(params.device() == in.scores.device(), "params must be on the scores' device ", in.scores.device(),
                    ", got ", params.device());
  check_partial_bounds(max_fpr, min_tpr, /*allow_empty=*/false);
  TORCH_CHECK_VALUE(std::isfinite(omega) && omega >= 0.0, "omega must be finite and >= 0, got ", omega);
  in.two_way = min_tpr > 0.0;
  return in;
}

}  // namespace torchauc::partial_auc
