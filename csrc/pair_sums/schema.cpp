// Schemas of the grouped pair-sum family (kernels: cpu.cpp, cuda_glue.cpp).
#include <torch/library.h>

TORCH_LIBRARY_FRAGMENT(torchauc, m) {
  // Weighted pair sums in groups, O(Q x group size) time, O(K (Q + I)) memory
  // (no pair matrix). For every query q of group g = query_group[q] and its
  // items j in [item_offsets[g], item_offsets[g + 1]), with t = sign
  // (queries[q] - items[j]) and l one of LibAUC's surrogates (math.h):
  //   value[k, q]  = sum_j weights[k, j] l(t)
  //   dquery[k, q] = d value[k, q] / d queries[q]
  // surrogate: squared_hinge|hinge|squared (margin m) | logistic (scale s) |
  // barrier_hinge (m, s). queries (Q,), items (I,), weights (K, I) with 1 <= K
  // <= 4: floating point (computed in float64 when any of them is float64, else
  // float32); query_group (Q,) and item_offsets (G + 1,) int64. Returns (value,
  // dquery), float64 (K, Q). Not differentiable itself: callers combine its
  // sums by hand.
  m.def(
      "grouped_pair_sums(Tensor queries, Tensor query_group, Tensor items, "
      "Tensor item_offsets, Tensor weights, "
      "str surrogate, float margin, float scale, float sign) -> (Tensor, "
      "Tensor)");
  // One step of LibAUC's SOAP AP loss on a (n, C) batch (compat.libauc_ap), CPU: anchors = the
  // positives (labels == 1) of the counted labels (all when counted is None); index (any shape, integer)
  // per sample (state slot c data_len + index[j]) or, for C = 1, per positive. Updates u_all / u_pos
  // (contiguous float32/64, C data_len elements, any shape) in place when update. Returns (value, d value / d scores)
  // in scores' dtype (grad empty unless want_grad); top_k: mAPLoss's sigmoid item weights (None = off).
  m.def(
      "ap_loss_step(Tensor scores, Tensor labels, Tensor index, Tensor? counted, Tensor(a!) u_all, "
      "Tensor(b!) u_pos, int data_len, str surrogate, float margin, float scale, float gamma, float? top_k, "
      "bool update, bool want_grad) -> (Tensor, Tensor)");
}
