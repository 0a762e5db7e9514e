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

  // ---- AUCSeg T-Memory Bank (python/torchauc/memory_bank.py; csrc/cpu|cuda/memory_bank*). Not
  // differentiable. Request-table columns: csrc/common/memory_bank_math.h.
  // Per-(image, class) pixel count and bounding box of labels (B, H, W): stats (B, num_classes, 5)
  // int64 rows [count, ymin, ymax, xmin, xmax] ([0, H, -1, W, -1] when absent) and invalid (B,) =
  // number of labels outside [0, num_classes) that are not ignore_index.
  m.def("tmb_class_bbox(Tensor labels, int num_classes, int ignore_index) -> (Tensor, Tensor)");
  // Copy the crops of (R, 7) requests [image, class, y0, x0, h, w, offset] of images (B, ch, H, W)
  // and their masks (labels == class) into pool_img (P, ch) / pool_mask (P,) at `offset`.
  m.def("tmb_gather(Tensor images, Tensor labels, Tensor requests, Tensor(a!) pool_img, "
        "Tensor(b!) pool_mask) -> ()");
  // Paste (R, 13) requests [image, class, oy, ox, rh, rw, src_h, src_w, y0, x0, h, w, offset]
  // (sorted by image; later rows overwrite earlier ones) into images / labels in place.
  m.def("tmb_paste(Tensor(a!) images, Tensor(b!) labels, Tensor pool_img, Tensor pool_mask, "
        "Tensor requests) -> ()");
}

// ---- partial AUC family (csrc/cpu/pauc.cpp, csrc/cuda/pauc*). -------------------------------------
TORCH_LIBRARY_FRAGMENT(torchauc, m) {
  // Hard top-k selection: bool mask (n,) of the k- = R(max_fpr n-) highest-scored negatives and the
  // k+ = R((1 - min_tpr) n+) lowest-scored positives; R = rounding (floor|ceil|round). Ties at the
  // cut-off go to the smaller index; NaN scores count as the hardest.
  m.def("partial_auc_select(Tensor scores, Tensor labels, float max_fpr, float min_tpr, str rounding) -> Tensor");
  // Per-positive exp row sums of l_ij = surrogate(margin - s_i + s_j) (squared_hinge|hinge), float64 (n,)
  // each, zero at negatives: shift c_i = max_j l_ij / Lambda, r0 = sum_j e_ij, r1 = sum_j e_ij l'_ij,
  // r2 = sum_j e_ij l_ij with e_ij = exp(l_ij / Lambda - c_i).
  m.def("pauc_exp_rows(Tensor scores, Tensor labels, float margin, float Lambda, str surrogate) "
        "-> (Tensor, Tensor, Tensor, Tensor)");
  // Per-negative column sums sum_i row_scale_i e_ij l'_ij (same e_ij as above), float64 (n,), zero at
  // positives.
  m.def("pauc_exp_cols(Tensor scores, Tensor labels, Tensor row_scale, float margin, float Lambda, "
        "str surrogate) -> Tensor");
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

// ---- Exact AUROC metrics (issue 3; csrc/cpu/auc_metrics.cpp, csrc/cuda/auc_metrics*). Not
// differentiable (fake impls only). U = sum_{p pos, q neg} w_p w_q H(s_p - s_q), H(0) = 1/2.
TORCH_LIBRARY_FRAGMENT(torchauc, m) {
  // scores (n,) or (n, L), labels the same shape in {0,1}, weights (n,) -> (L, 3) f64 [U, W_pos, W_neg]
  m.def("auroc_binary_stats(Tensor scores, Tensor labels, Tensor? weights) -> Tensor");
  // scores (B, C, *) in place, labels (B, *) class ids (ignore_index skipped), weights like labels
  // -> (U (C, C) f64 with U[i][j] = sum_{p in i, q in j} w_p w_q H(s_pi - s_qi), W (C,) f64)
  m.def("auroc_multiclass_stats(Tensor scores, Tensor labels, Tensor? weights, int ignore_index) -> (Tensor, Tensor)");
  // two-way partial AUC subset statistics -> (5,) f64 [U_sub, k_pos, k_neg, n_pos, n_neg]
  m.def("partial_auroc_stats(Tensor scores, Tensor labels, float max_fpr, float min_tpr) -> Tensor");
  // one-way partial ROC area over FPR <= max_fpr, interpolated at max_fpr -> (3,) f64 [area, W_pos, W_neg]
  m.def("roc_partial_area(Tensor scores, Tensor labels, Tensor? weights, float max_fpr) -> Tensor");
}
