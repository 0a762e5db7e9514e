// Schemas of the AUC-M family (LibAUC's AUCMLoss, CompositionalAUCLoss, MultiLabelAUCMLoss; kernels:
// cpu.cpp, cuda_glue.cpp).
#include <torch/library.h>

TORCH_LIBRARY_FRAGMENT(torchauc, m) {
  // The label-grouped moments of a (B, C) batch as one float64 vector of 6 C + 1 numbers: the
  // (6, C) table n+, n-, sum_P h, sum_N h, sum_P h^2, sum_N h^2 (positive: label 1, negative:
  // label 0), then B. Summed over ranks, it is the moments argument of aucm_loss.
  m.def("aucm_moments(Tensor scores, Tensor labels) -> Tensor");
  // sum_c weights[c] * AUC-M loss of label c over the (B, C) batch, fused with its gradients:
  // returns (loss, grad_scores, grad_a, grad_b, grad_alpha), grad_scores empty (numel 0) when
  // compute_grad is false. a, b, alpha, prior, weights: C entries each. prior: v1's p per label,
  // None = the batch's n+/n. weights None = 1/C (the mean over labels). moments: those of a larger
  // (global) batch containing this one (aucm_moments summed over ranks), None = this batch's.
  // version: v1 | v2 (torchauc/compat/libauc_aucm.py has the formulas).
  m.def(
      "aucm_loss(Tensor scores, Tensor labels, Tensor a, Tensor b, Tensor alpha, Tensor? prior, Tensor? weights, "
      "Tensor? moments, float margin, str version, bool compute_grad) -> (Tensor, Tensor, Tensor, Tensor, Tensor)");
}
