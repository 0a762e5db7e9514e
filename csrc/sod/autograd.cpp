// Autograd of the fused size-invariant SOD loss, in C++ for the Autograd key (any device;
// core/fused_autograd.h): the op returns d loss / d pred, backward scales it by the incoming gradient.
#include <torch/library.h>

#include <array>
#include <tuple>

#include "core/fused_autograd.h"

namespace torchauc::sod {
namespace {

struct SiLoss {
  using Signature = std::tuple<at::Tensor, at::Tensor>(const at::Tensor&, const at::Tensor&, const at::Tensor&,
                                                       const at::Tensor&, int64_t, bool);
  static constexpr const char* kOp = "torchauc::sod_si_loss";
  static constexpr std::array<size_t, 1> kGradInputs = {0};  // pred
  static constexpr std::array<bool, 1> kAlwaysComputed = {false};
  static constexpr const char* kNoGradError =
      "torchauc.sod_si_loss was called with compute_grad=False; call it through torchauc.sod.si_loss, "
      "which asks for the gradient when it is needed";
};

}  // namespace

TORCH_LIBRARY_IMPL(torchauc, Autograd, m) { m.impl("sod_si_loss", &FusedLossKernel<SiLoss>::call); }

}  // namespace torchauc::sod
