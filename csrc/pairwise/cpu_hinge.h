// The sort-based surrogates of the binary pairwise AUC loss on the CPU (hinge, squared hinge).
#pragma once
#include <ATen/ATen.h>

#include <tuple>

#include "pairwise/args.h"

namespace torchauc::pairwise {

// (loss, grad_scores, grad_pos_weights, grad_neg_weights) as the op returns them; `args` already
// checked (surrogate hinge or squared_hinge), the *_in tensors give the output shapes.
std::tuple<at::Tensor, at::Tensor, at::Tensor, at::Tensor> hinge_loss_cpu(const PairwiseArgs& args,
                                                                          const at::Tensor& scores_in,
                                                                          const c10::optional<at::Tensor>& pos_w_in,
                                                                          const c10::optional<at::Tensor>& neg_w_in,
                                                                          double margin, bool compute_grad);

}  // namespace torchauc::pairwise
