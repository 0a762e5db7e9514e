// Schemas of the partial AUC family (kernels: cpu.cpp, cuda_glue.cpp).
#include <torch/library.h>

TORCH_LIBRARY_FRAGMENT(torchauc, m) {
  // Hard top-k selection: bool mask (n,) of the k- = R(max_fpr n-) highest-scored negatives and the
  // k+ = R((1 - min_tpr) n+) lowest-scored positives; R = rounding (floor|ceil|round). Ties at the
  // cut-off go to the smaller index; NaN scores count as the hardest.
  m.def("partial_auc_select(Tensor scores, Tensor labels, float max_fpr, float min_tpr, str rounding) -> Tensor");
  // Per-positive exp row sums of l_ij = surrogate(margin - s_i + s_j) (squared_hinge|hinge), float64 of the
  // scores' shape ((n,), or (n, C): C independent problems, one per column, the pairs within a column),
  // zero at negatives: shift c_i = max_j l_ij / Lambda, r0 = sum_j e_ij, r1 = sum_j e_ij l'_ij,
  // r2 = sum_j e_ij l_ij with e_ij = exp(l_ij / Lambda - c_i).
  m.def(
      "partial_auc_exp_rows(Tensor scores, Tensor labels, float margin, float Lambda, str surrogate) "
      "-> (Tensor, Tensor, Tensor, Tensor)");
  // Per-negative column sums sum_i row_scale_i e_ij l'_ij (same e_ij as above; row_scale has the scores'
  // shape), float64 of the scores' shape, zero at positives.
  m.def(
      "partial_auc_exp_cols(Tensor scores, Tensor labels, Tensor row_scale, float margin, float Lambda, "
      "str surrogate) -> Tensor");
  // UPAUCI (math.h), fused forward + gradient: weights (n,) = the batch's instance weights c,
  // params (7,) f64 = (a, b, gamma, s, s', theta_a, theta_b); min_tpr == 0 is one-way (OPAUC). Returns
  // (loss, d/d scores, d/d weights, d/d params); the gradients are empty when compute_grad is false.
  m.def(
      "partial_auc_upauci(Tensor scores, Tensor labels, Tensor weights, Tensor params, float max_fpr, "
      "float min_tpr, float omega, bool compute_grad) -> (Tensor, Tensor, Tensor, Tensor)");
}
