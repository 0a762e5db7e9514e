// Schemas of the exact AUROC metrics (kernels: cpu.cpp, cuda_glue.cpp). Not differentiable (fake
// impls only). U = sum_{p pos, q neg} w_p w_q H(s_p - s_q), H(0) = 1/2.
#include <torch/library.h>

TORCH_LIBRARY_FRAGMENT(torchauc, m) {
  // scores (n,) or (n, L), labels the same shape in {0,1}, weights (n,) -> (L, 3) f64 [U, W_pos, W_neg]
  m.def("auroc_binary_stats(Tensor scores, Tensor labels, Tensor? weights) -> Tensor");
  // scores (B, C, *) in place, labels (B, *) class ids (ignore_index skipped), weights like labels
  // -> (U (C, C) f64 with U[i][j] = sum_{p in i, q in j} w_p w_q H(s_pi - s_qi), W (C,) f64)
  m.def("auroc_multiclass_stats(Tensor scores, Tensor labels, Tensor? weights, int ignore_index) -> (Tensor, Tensor)");
  // two-way partial AUC subset statistics -> (5,) f64 [U_sub, k_pos, k_neg, n_pos, n_neg]
  m.def("auroc_partial_stats(Tensor scores, Tensor labels, float max_fpr, float min_tpr) -> Tensor");
  // one-way partial ROC area over FPR <= max_fpr, interpolated at max_fpr -> (3,) f64 [area, W_pos, W_neg]
  m.def("auroc_partial_area(Tensor scores, Tensor labels, Tensor? weights, float max_fpr) -> Tensor");
  // average precision (scikit-learn's step sum over tie groups, descending): scores (n,) or (n, L),
  // labels the same shape in {0,1}, weights (n,) -> (L, 3) f64 [sum_groups dTP * precision, W_pos, W_neg]
  // (AP = first / second). Same sort and tie groups as auroc_binary_stats.
  m.def("auroc_average_precision(Tensor scores, Tensor labels, Tensor? weights) -> Tensor");
}
