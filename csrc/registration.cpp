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

// ---- multiclass / pixel-level AUC loss (multiclass branch). scores (N, C) or (B, C, *spatial) read in
// place, labels (N,) or (B, *spatial) class indices; ignore_index samples are skipped. activation:
// none|sigmoid (fused), surrogate: square|exp|hinge|linear, mode: ovo|ova, normalization:
// present|xcurve (see csrc/common/multiclass_math.h). Returns (loss, grad_scores); grad_scores is
// d loss / d scores (same shape and dtype), empty when compute_grad is false.
TORCH_LIBRARY_FRAGMENT(torchauc, m) {
  m.def(
      "multiclass_auc_loss(Tensor scores, Tensor labels, int? ignore_index, str activation, str surrogate, "
      "str mode, float margin, str normalization, bool compute_grad) -> (Tensor, Tensor)");
}
