// Every torchauc op schema, in one place. Kernels register per family in cpu/*.cpp and
// cuda/*_cuda.cpp; fake (meta) impls and autograd live in python/torchauc/_ops/.
#include <torch/library.h>

TORCH_LIBRARY(torchauc, m) {
  // Binary pairwise AUC loss (fused forward + gradient). Returns (loss, grad_scores, grad_pos_weights,
  // grad_neg_weights); the gradients are d loss / d input, empty (numel 0) when compute_grad is false
  // or the weight is absent. surrogate: square|exp|hinge|squared_hinge|logistic|sigmoid,
  // reduction: mean|sum.
  m.def(
      "pairwise_auc_loss(Tensor scores, Tensor labels, Tensor? pos_weights, Tensor? neg_weights, "
      "str surrogate, float margin, str reduction, bool compute_grad) -> (Tensor, Tensor, Tensor, Tensor)");
}
