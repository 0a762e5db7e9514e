// Schema of the multiclass / pixel-level AUC loss (kernels: cpu.cpp, cuda_glue.cpp).
#include <torch/library.h>

// scores (N, C) or (B, C, *spatial) read in place, labels (N,) or (B, *spatial) class indices;
// ignore_index samples are skipped. activation: none|sigmoid (fused), surrogate:
// square|exp|hinge|linear, mode: ovo|ova, normalization: present|xcurve (see math.h). Returns
// (loss, grad_scores); grad_scores is d loss / d scores (same shape and dtype), empty when
// compute_grad is false.
TORCH_LIBRARY_FRAGMENT(torchauc, m) {
  m.def(
      "multiclass_auc_loss(Tensor scores, Tensor labels, int? ignore_index, str activation, str surrogate, "
      "str mode, float margin, str normalization, bool compute_grad) -> (Tensor, Tensor)");
}
