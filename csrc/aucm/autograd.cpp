// Autograd of the fused AUC-M loss, in C++ for the Autograd key (any device; core/fused_autograd.h):
// the op returns d loss / d (scores, a, b, alpha), backward scales them by the incoming gradient. A
// Python register_autograd cost about as much as the op itself at LibAUC's batch sizes (B = 128 ..
// 2048, C = 10).
#include <torch/library.h>

#include <array>
#include <tuple>

#include "core/fused_autograd.h"

namespace torchauc::aucm {
namespace {

using OptTensor = c10::optional<at::Tensor>;

struct AucmLoss {
  using Signature = std::tuple<at::Tensor, at::Tensor, at::Tensor, at::Tensor, at::Tensor>(
      const at::Tensor&, const at::Tensor&, const at::Tensor&, const at::Tensor&, const at::Tensor&, const OptTensor&,
      const OptTensor&, const OptTensor&, double, c10::string_view, bool);
  static constexpr const char* kOp = "torchauc::aucm_loss";
  static constexpr std::array<size_t, 4> kGradInputs = {0, 2, 3, 4};  // scores, a, b, alpha
  static constexpr std::array<bool, 4> kAlwaysComputed = {false, true, true, true};
  static constexpr const char* kNoGradError =
      "torchauc.aucm_loss was called with compute_grad=False; call it through "
      "torchauc.compat.libauc_aucm.aucm_loss, which asks for gradients when they are needed";
};

}  // namespace

TORCH_LIBRARY_IMPL(torchauc, Autograd, m) { m.impl("aucm_loss", &FusedLossKernel<AucmLoss>::call); }

}  // namespace torchauc::aucm
