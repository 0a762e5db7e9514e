// Autograd of the fused UPAUCI loss, in C++ for the Autograd key (any device; core/fused_autograd.h):
// the op returns d loss / d (scores, weights, params), backward scales them by the incoming gradient.
#include <torch/library.h>

#include <array>
#include <tuple>

#include "core/fused_autograd.h"

namespace torchauc::partial_auc {
namespace {

struct UpauciLoss {
  using Signature = std::tuple<at::Tensor, at::Tensor, at::Tensor, at::Tensor>(const at::Tensor&, const at::Tensor&,
                                                                               const at::Tensor&, const at::Tensor&,
                                                                               double, double, double, bool);
  static constexpr const char* kOp = "torchauc::partial_auc_upauci";
  static constexpr std::array<size_t, 3> kGradInputs = {0, 2, 3};  // scores, weights, params
  static constexpr std::array<bool, 3> kAlwaysComputed = {false, false, false};
  static constexpr const char* kNoGradError =
      "torchauc.partial_auc_upauci was called with compute_grad=False; call it through "
      "torchauc.partial_auc.upauci_loss, which asks for gradients when they are needed";
};

}  // namespace

TORCH_LIBRARY_IMPL(torchauc, Autograd, m) { m.impl("partial_auc_upauci", &FusedLossKernel<UpauciLoss>::call); }

}  // namespace torchauc::partial_auc
