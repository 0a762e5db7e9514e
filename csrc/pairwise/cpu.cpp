// CPU kernels of the binary pairwise AUC loss: O(n) moments (square, exp: cpu_moments.cpp), sort + suffix sums
// (hinge, squared hinge: cpu_hinge.cpp), and a tiled pairwise pass with O(n) memory (logistic, sigmoid: cpu_tiled.cpp).
// Every path computes the loss and, when asked, its gradients in the same call.
#include <ATen/ATen.h>
#include <torch/library.h>

#include "pairwise/args.h"
#include "pairwise/cpu_hinge.h"
#include "pairwise/cpu_moments.h"
#include "pairwise/cpu_tiled.h"

namespace torchauc::pairwise {
namespace {

// ---------------------------------------------------------------- op
std::tuple<at::Tensor, at::Tensor, at::Tensor, at::Tensor> pairwise_auc_loss_cpu(
    const at::Tensor& scores_in, const at::Tensor& labels_in, const c10::optional<at::Tensor>& pos_w_in,
    const c10::optional<at::Tensor>& neg_w_in, c10::string_view surrogate_name, double margin,
    c10::string_view reduction_name, bool compute_grad, double scale) {
  const PairwiseArgs args =
      check_pairwise_args(scores_in, labels_in, pos_w_in, neg_w_in, surrogate_name, margin, reduction_name, scale);
  const Surrogate sur = args.surrogate;
  if (sur == Surrogate::Square || sur == Surrogate::Exp)
    return moment_loss_cpu(args, scores_in, pos_w_in, neg_w_in, margin, compute_grad);
  if (sur == Surrogate::Hinge || sur == Surrogate::SquaredHinge)
    return hinge_loss_cpu(args, scores_in, pos_w_in, neg_w_in, margin, compute_grad);
  return tiled_loss_cpu(args, scores_in, pos_w_in, neg_w_in, margin, compute_grad);
}

}  // namespace

TORCH_LIBRARY_IMPL(torchauc, CPU, m) { m.impl("pairwise_auc_loss", &pairwise_auc_loss_cpu); }

}  // namespace torchauc::pairwise
