// Schemas of the binary pairwise AUC loss (kernels: cpu.cpp, cuda_glue.cpp).
#include <torch/library.h>

TORCH_LIBRARY_FRAGMENT(torchauc, m) {
  // Fused forward + gradient. Returns (loss, grad_scores, grad_pos_weights, grad_neg_weights); the
  // gradients are d loss / d input, empty (numel 0) when compute_grad is false or the weight is
  // absent. surrogate: square|exp|hinge|squared_hinge|logistic|sigmoid, reduction: mean|sum. `scale`
  // multiplies the loss and every gradient (XCurve's binary square loss is 0.5 of the mean): one
  // op and one autograd node instead of a separate multiply and its backward node.
  m.def(
      "pairwise_auc_loss(Tensor scores, Tensor labels, Tensor? pos_weights, Tensor? neg_weights, "
      "str surrogate, float margin, str reduction, bool compute_grad, float scale=1.0) -> (Tensor, Tensor, Tensor, "
      "Tensor)");
}
