// Parsing of the pairwise-loss string arguments, shared by the CPU kernels and the CUDA glue.
#pragma once
#include <c10/util/Exception.h>
#include <string_view>
#include "common/pairwise_math.h"

namespace torchauc {

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

}  // namespace torchauc
