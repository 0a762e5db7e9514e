// Schemas of the AUTKC (top-k) family (kernels: cpu.cpp, cuda_glue.cpp).
#include <torch/library.h>

TORCH_LIBRARY_FRAGMENT(torchauc, m) {
  // Per-row top-k selection without a full sort: scores (B, C), labels (B,) class ids -> int64 (B, k),
  // the columns of the k largest values v_j = s_j + margin * [j != y_b], descending, ties to the smaller
  // column, NaN largest. The label column is skipped unless include_label. Not differentiable: the
  // losses gather the selected scores (torch.gather carries the gradient).
  m.def("autkc_topk(Tensor scores, Tensor labels, int k, float margin, bool include_label) -> Tensor");
  // The AUTKC loss per row, fused (autkc/loss_math.h): logits (B, C), labels (B,) -> (loss (B,), grad (B, C))
  // with loss_b = (1/k) sum of the surrogate over the m top competitors of softmax(logits) (the raw
  // logits for "hinge") and grad = d loss_b / d logits_b (shape (0, C) unless compute_grad). Its
  // autograd (autograd.cpp) scales the saved grad by the incoming per-row gradient. Surrogate "ce": the
  // top-k cross entropy log(1 + sum e^{x_j - x_y}) over the competitors outside the m best (ce_math.h).
  // reduction "mean" / "sum": loss is 0-dim (the rows' sum in float64, over B for the mean) and grad its
  // gradient (the rows' gradients over B for the mean), so backward is free when the incoming gradient is 1.
  m.def(
      "autkc_loss_rows(Tensor logits, Tensor labels, int k, int m, str surrogate, bool compute_grad, "
      "str reduction=\"none\") -> (Tensor, Tensor)");
}
