// Autograd of the fused AdAUC loss, in C++ for the Autograd key (any device; core/fused_autograd.h):
// the op returns d loss / d (scores, a, b, alpha), backward scales them by the incoming gradient.
#include <torch/library.h>

#include <array>
#include <tuple>

#include "core/fused_autograd.h"

namespace torchauc::adauc {
namespace {

struct AdaucLoss {
  using Signature = std::tuple<at::Tensor, at::Tensor, at::Tensor, at::Tensor, at::Tensor>(
      const at::Tensor&, const at::Tensor&, const at::Tensor&, const at::Tensor&, const at::Tensor&,
      c10::optional<double>, double, c10::string_view, bool);
  static constexpr const char* kOp = "torchauc::adauc_loss";
  static constexpr std::array<size_t, 4> kGradInputs = {0, 2, 3, 4};  // scores, a, b, alpha
  static constexpr std::array<bool, 4> kAlwaysComputed = {false, true, true, true};
  static constexpr const char* kNoGradError =
      "torchauc.adauc_loss was called with compute_grad=False; call it through torchauc.adauc.adauc_loss, "
      "which asks for gradients when they are needed";
};

}  // namespace

TORCH_LIBRARY_IMPL(torchauc, Autograd, m) { m.impl("adauc_loss", &FusedLossKernel<AdaucLoss>::call); }

}  // namespace torchauc::adauc
