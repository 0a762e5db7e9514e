// Schemas of the collaborative metric learning ops (python/torchauc/cml/). Row math: math.h.
#include <torch/library.h>

TORCH_LIBRARY_FRAGMENT(torchauc, m) {
  // DPCML/CML triplet hinge [m + min_c |u_c - p|^2 - min_{c,j} |u_c - n_j|^2]_+ summed (or averaged)
  // over B rows. Dense: users (B, K, d), pos (B, d), neg (B, J, d), no indices. Indexed: users (M, K,
  // d), pos (N, d), neg (N', d) tables and users_idx (B,), pos_idx (B,), neg_idx (B, J) rows gathered
  // inside the kernel. Returns (loss, argmin (B, 3) int64 [c_pos, c_neg, j_neg], c_pos = -1 where the
  // hinge is inactive).
  m.def(
      "cml_triplet_loss(Tensor users, Tensor pos, Tensor neg, Tensor? users_idx, Tensor? pos_idx, "
      "Tensor? neg_idx, float margin, str reduction) -> (Tensor, Tensor)");
  // Gradients of cml_triplet_loss (scaled by grad, a 0-dim tensor) w.r.t. users, pos, neg, in their
  // shapes: only the argmin vectors of active rows get nonzero rows (scattered with accumulation
  // for the indexed form).
  m.def(
      "cml_triplet_backward(Tensor grad, Tensor users, Tensor pos, Tensor neg, Tensor? users_idx, "
      "Tensor? pos_idx, Tensor? neg_idx, Tensor argmin, str reduction) -> (Tensor, Tensor, Tensor)");
  // num_negatives items per row, uniform over the items that user users[r] has no interaction with
  // (CSR indptr (M + 1,), indices sorted ascending within each row), exact rejection sampling with a
  // hash chain per (seed, row, column), one mix per attempt: the same draws on every device. (R, J) int64.
  m.def(
      "cml_sample_negatives(Tensor indptr, Tensor indices, Tensor users, int num_items, int num_negatives, "
      "int seed) -> Tensor");
  // Evaluation tile: for B users' scores (B, n) of items [item_offset, item_offset + n), the number of
  // candidate items (in neither CSR row: test_ptr/test_idx, train_ptr/train_idx, rows ascending) that
  // rank above each test item: score greater, or equal with a smaller item index. test_scores (B, W)
  // ascending per row (+inf padding), test_items (B, W) their item ids. Returns (B, W) int64.
  m.def(
      "cml_rank_counts(Tensor scores, int item_offset, Tensor test_scores, Tensor test_items, Tensor test_ptr, "
      "Tensor test_idx, Tensor? train_ptr, Tensor? train_idx) -> Tensor");
  // SFCML's positive scores: dots (nnz,) = users[b] . items[indices[k]] for the CSR entries k of each
  // row b (indptr (B + 1,) from 0 to nnz), gathered inside the kernel (no (nnz, d) tensor).
  // Out-of-range entries raise on CPU and give NaN on CUDA (no host sync).
  m.def("cml_gather_dots(Tensor users, Tensor items, Tensor indptr, Tensor indices) -> Tensor");
  // Its gradients (users (B, d), items (N, d)) for grad (nnz,): per-row sums in entry order, the
  // items' through the entries sorted by item (deterministic, no atomics).
  m.def(
      "cml_gather_dots_backward(Tensor grad, Tensor users, Tensor items, Tensor indptr, Tensor indices) -> "
      "(Tensor, Tensor)");
}
