// Schemas of the AUTKC (top-k) family (kernels: cpu.cpp, cuda_glue.cpp).
#include <torch/library.h>

TORCH_LIBRARY_FRAGMENT(torchauc, m) {
  // Per-row top-k selection without a full sort: scores (B, C), labels (B,) class ids -> int64 (B, k),
  // the columns of the k largest values v_j = s_j + margin * [j != y_b], descending, ties to the smaller
  // column, NaN largest. The label column is skipped unless include_label. Not differentiable: the
  // losses gather the selected scores (torch.gather carries the gradient).
  m.def("autkc_topk(Tensor scores, Tensor labels, int k, float margin, bool include_label) -> Tensor");
}
