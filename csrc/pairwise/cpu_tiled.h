// The tiled surrogates of the binary pairwise AUC loss on the CPU (logistic, sigmoid): every pair, in
// float register tiles over L1 column blocks, with O(n) memory.
#pragma once
#include <ATen/ATen.h>

#include <tuple>

#include "pairwise/args.h"

namespace torchauc::pairwise {

// (loss, grad_scores, grad_pos_weights, grad_neg_weights) as the op returns them; `args` already
// checked (surrogate logistic or sigmoid), the *_in tensors give the output shapes.
std::tuple<at::Tensor, at::Tensor, at::Tensor, at::Tensor> tiled_loss_cpu(const PairwiseArgs& args,
                                                                          const at::Tensor& scores_in,
                                                                          const c10::optional<at::Tensor>& pos_w_in,
                                                                          const c10::optional<at::Tensor>& neg_w_in,
                                                                          double margin, bool compute_grad);

}  // namespace torchauc::pairwise
