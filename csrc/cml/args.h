// Argument checks of the CML ops and the ATen steps both backends share (the gradient scatter and
// the sampler's row checks).
#pragma once
#include <ATen/ATen.h>

#include <cmath>
#include <string_view>
#include <tuple>
#include <utility>

#include "cml/math.h"

namespace torchauc::cml {

inline bool parse_mean(std::string_view reduction) {
  TORCH_CHECK_VALUE(reduction == "sum" || reduction == "mean", "reduction must be 'sum' or 'mean', got '",
                    std::string(reduction), "'");
  return reduction == "mean";
}

inline void check_index(const c10::optional<at::Tensor>& idx, const char* name, int64_t B, int64_t J,
                        const at::Tensor& like) {
  const at::Tensor& t = *idx;
  TORCH_CHECK_VALUE(t.scalar_type() == at::kLong, name, " must be an int64 tensor, got ", t.scalar_type());
  TORCH_CHECK_VALUE(t.device() == like.device(), name, " must be on the embeddings' device ", like.device());
  const bool ok =
      J < 0 ? (t.dim() == 1 && t.size(0) == B)
            : ((t.dim() == 2 && t.size(0) == B && t.size(1) == J) || (J == 1 && t.dim() == 1 && t.size(0) == B));
  TORCH_CHECK_VALUE(ok, name, " must have shape (", B, J < 0 ? "" : ", J", "), got ", t.sizes());
}

// The checked triplet inputs: compute-type (float/double) contiguous tensors and their sizes.
struct TripletArgs {
  at::Tensor users, pos, neg;
  at::Tensor users_idx, pos_idx, neg_idx;  // undefined in the dense form
  bool indexed, mean;
  int64_t B, K, J, d;
};

inline TripletArgs check_triplet_args(const at::Tensor& users, const at::Tensor& pos, const at::Tensor& neg,
                                      const c10::optional<at::Tensor>& users_idx,
                                      const c10::optional<at::Tensor>& pos_idx,
                                      const c10::optional<at::Tensor>& neg_idx, double margin,
                                      std::string_view reduction) {
  TripletArgs a{};
  a.mean = parse_mean(reduction);
  TORCH_CHECK_VALUE(std::isfinite(margin), "margin must be finite, got ", margin);
  for (const auto& [t, name] : {std::pair{&users, "users"}, std::pair{&pos, "pos"}, std::pair{&neg, "neg"}}) {
    TORCH_CHECK_VALUE(at::isFloatingType(t->scalar_type()), name, " must be floating point, got ", t->scalar_type());
    TORCH_CHECK_VALUE(t->scalar_type() == users.scalar_type(), name, " must have the users' dtype ",
                      users.scalar_type(), ", got ", t->scalar_type());
    TORCH_CHECK_VALUE(t->device() == users.device(), name, " must be on the users' device ", users.device());
  }
  const int n_idx = users_idx.has_value() + pos_idx.has_value() + neg_idx.has_value();
  TORCH_CHECK_VALUE(n_idx == 0 || n_idx == 3, "users_idx, pos_idx and neg_idx must be given together or not at all");
  a.indexed = n_idx == 3;
  TORCH_CHECK_VALUE(users.dim() == 3 && users.size(1) >= 1 && users.size(2) >= 1, "users must have shape (",
                    a.indexed ? "M" : "B", ", K, d) with K, d >= 1, got ", users.sizes());
  a.K = users.size(1);
  a.d = users.size(2);
  TORCH_CHECK_VALUE(pos.dim() == 2 && pos.size(1) == a.d, "pos must have shape (", a.indexed ? "N" : "B", ", ", a.d,
                    "), got ", pos.sizes());
  if (a.indexed) {
    a.B = users_idx->dim() == 1 ? users_idx->size(0) : -1;
    TORCH_CHECK_VALUE(neg.dim() == 2 && neg.size(1) == a.d, "neg must have shape (N, ", a.d, "), got ", neg.sizes());
    TORCH_CHECK_VALUE(neg_idx->dim() == 1 || neg_idx->dim() == 2, "neg_idx must have shape (B,) or (B, J), got ",
                      neg_idx->sizes());
    a.J = neg_idx->dim() == 2 ? neg_idx->size(1) : 1;
    check_index(users_idx, "users_idx", a.B, -1, users);
    check_index(pos_idx, "pos_idx", a.B, -1, users);
    check_index(neg_idx, "neg_idx", a.B, a.J, users);
    a.users_idx = users_idx->contiguous();
    a.pos_idx = pos_idx->contiguous();
    a.neg_idx = neg_idx->contiguous();
  } else {
    a.B = users.size(0);
    TORCH_CHECK_VALUE(pos.size(0) == a.B, "pos must have shape (", a.B, ", ", a.d, "), got ", pos.sizes());
    const bool ok = (neg.dim() == 2 && neg.size(0) == a.B && neg.size(1) == a.d) ||
                    (neg.dim() == 3 && neg.size(0) == a.B && neg.size(2) == a.d);
    TORCH_CHECK_VALUE(ok, "neg must have shape (", a.B, ", ", a.d, ") or (", a.B, ", J, ", a.d, "), got ", neg.sizes());
    a.J = neg.dim() == 3 ? neg.size(1) : 1;
  }
  TORCH_CHECK_VALUE(a.J >= 1, "there must be at least one negative per row (J >= 1), got J = ", a.J);
  const auto ct = users.scalar_type() == at::kDouble ? at::kDouble : at::kFloat;
  a.users = users.to(ct).contiguous();
  a.pos = pos.to(ct).contiguous();
  a.neg = neg.to(ct).contiguous();
  return a;
}

// The kernels' view of checked triplet inputs (CPU and CUDA alike).
template <typename T>
TripletRows<T> rows_of(const TripletArgs& a) {
  auto idx = [](const at::Tensor& t) { return t.defined() ? t.const_data_ptr<int64_t>() : nullptr; };
  return {a.users.const_data_ptr<T>(),
          a.pos.const_data_ptr<T>(),
          a.neg.const_data_ptr<T>(),
          idx(a.users_idx),
          idx(a.pos_idx),
          idx(a.neg_idx),
          a.B,
          a.K,
          a.J,
          a.d};
}

// Indexed rows must lie in their tables (CPU check; the CUDA kernels give NaN rows instead).
inline void check_index_bounds(const TripletArgs& a) {
  if (!a.indexed || a.B == 0) return;
  for (const auto& [t, n, name] :
       {std::tuple{&a.users_idx, a.users.size(0), "users_idx"}, std::tuple{&a.pos_idx, a.pos.size(0), "pos_idx"},
        std::tuple{&a.neg_idx, a.neg.size(0), "neg_idx"}}) {
    const auto mm = at::aminmax(*t);
    const int64_t lo = std::get<0>(mm).item<int64_t>(), hi = std::get<1>(mm).item<int64_t>();
    TORCH_CHECK_VALUE(lo >= 0 && hi < n, name, " must be in [0, ", n, "), got values in [", lo, ", ", hi, "]");
  }
}

// The checked inputs of the gathered dots u_b . v_{indices[k]} (CSR entries k of row b): users (B, d)
// and items (N, d) in the compute type (float/double), contiguous; indptr (B + 1,), indices (nnz,).
struct DotsArgs {
  at::Tensor users, items, indptr, indices;
  int64_t B, N, d, nnz;
};

inline DotsArgs check_dots_args(const at::Tensor& users, const at::Tensor& items, const at::Tensor& indptr,
                                const at::Tensor& indices) {
  for (const auto& [t, name] : {std::pair{&users, "users"}, std::pair{&items, "items"}}) {
    TORCH_CHECK_VALUE(at::isFloatingType(t->scalar_type()), name, " must be floating point, got ", t->scalar_type());
    TORCH_CHECK_VALUE(t->scalar_type() == users.scalar_type(), name, " must have the users' dtype ",
                      users.scalar_type(), ", got ", t->scalar_type());
  }
  TORCH_CHECK_VALUE(users.dim() == 2 && items.dim() == 2 && users.size(1) == items.size(1),
                    "users (B, d) and items (N, d) must share d, got ", users.sizes(), " and ", items.sizes());
  for (const auto& [t, name] : {std::pair{&indptr, "indptr"}, std::pair{&indices, "indices"}})
    TORCH_CHECK_VALUE(t->scalar_type() == at::kLong && t->dim() == 1, name, " must be a 1-D int64 tensor, got ",
                      t->scalar_type(), " ", t->sizes());
  TORCH_CHECK_VALUE(indptr.numel() == users.size(0) + 1, "indptr must have B + 1 = ", users.size(0) + 1,
                    " entries, got ", indptr.numel());
  for (const at::Tensor* t : {&items, &indptr, &indices})
    TORCH_CHECK_VALUE(t->device() == users.device(), "every input must be on the users' device ", users.device());
  const auto ct = users.scalar_type() == at::kDouble ? at::kDouble : at::kFloat;
  return {users.to(ct).contiguous(),
          items.to(ct).contiguous(),
          indptr.contiguous(),
          indices.contiguous(),
          users.size(0),
          items.size(0),
          users.size(1),
          indices.numel()};
}

// The gradient of the gathered dots: (nnz,) on the inputs' device, in the compute type.
inline at::Tensor check_dots_grad(const at::Tensor& grad, const DotsArgs& a) {
  TORCH_CHECK_VALUE(grad.dim() == 1 && grad.numel() == a.nnz && grad.device() == a.users.device(),
                    "grad must have shape (", a.nnz, ",) on the users' device, got ", grad.sizes());
  return grad.to(a.users.scalar_type()).contiguous();
}

// Places the compact gradient rows ga = 2 s (u_cp - p), gb = 2 s (u_cn - n_j) (B, d) into tensors
// of the inputs' shapes: users[row, cp] += ga, users[row, cn] -= gb, pos[row] -= ga, neg[row j] += gb.
// Accumulating index_put_ is deterministic on every device.
inline std::tuple<at::Tensor, at::Tensor, at::Tensor> scatter_triplet_grads(const TripletArgs& a,
                                                                            const at::Tensor& argmin,
                                                                            const at::Tensor& ga,
                                                                            const at::Tensor& gb) {
  const at::Tensor cp = argmin.select(1, 0).clamp_min(0), cn = argmin.select(1, 1), jn = argmin.select(1, 2);
  const at::Tensor rows = at::arange(a.B, argmin.options());
  // inactive rows carry zero gradients: clamping their indices (the CUDA forward makes rows with
  // out-of-range indices NaN, hence inactive) keeps every scatter in bounds
  const at::Tensor urow = a.indexed ? a.users_idx.clamp(0, a.users.size(0) - 1) : rows;
  const at::Tensor prow = a.indexed ? a.pos_idx.clamp(0, a.pos.size(0) - 1) : rows;
  const at::Tensor nflat =
      a.indexed ? a.neg_idx.reshape({a.B, a.J}) : (rows * a.J).unsqueeze(1) + at::arange(a.J, rows.options());
  const at::Tensor nrow = nflat.gather(1, jn.unsqueeze(1)).squeeze(1).clamp(0, a.neg.numel() / a.d - 1);
  at::Tensor gu = at::zeros({a.users.size(0) * a.K, a.d}, ga.options());
  gu.index_put_({urow * a.K + cp}, ga, true);
  gu.index_put_({urow * a.K + cn}, -gb, true);
  at::Tensor gp = at::zeros({a.pos.size(0), a.d}, ga.options());
  gp.index_put_({prow}, -ga, true);
  at::Tensor gn = at::zeros({a.neg.numel() / a.d, a.d}, ga.options());
  gn.index_put_({nrow}, gb, true);
  return {gu.view(a.users.sizes()), gp, gn.view(a.neg.sizes())};
}

// Sampler inputs: indptr (M + 1,), indices (nnz,), users (R,) int64 on one device; a user id out of
// range or a user who has every item is a ValueError (one host sync). check_rows: also that every row
// is ascending without repeats (the membership test's binary search needs it), folded into the same
// sync; the CPU path checks the rows in its own pass. Returns the rows' [start, len).
inline std::pair<at::Tensor, at::Tensor> check_sampler_args(const at::Tensor& indptr, const at::Tensor& indices,
                                                            const at::Tensor& users, int64_t num_items,
                                                            int64_t num_negatives, bool check_rows = false) {
  for (const auto& [t, name] :
       {std::pair{&indptr, "indptr"}, std::pair{&indices, "indices"}, std::pair{&users, "users"}}) {
    TORCH_CHECK_VALUE(t->scalar_type() == at::kLong && t->dim() == 1, name, " must be a 1-D int64 tensor, got ",
                      t->scalar_type(), " ", t->sizes());
    TORCH_CHECK_VALUE(t->device() == indptr.device(), name, " must be on indptr's device ", indptr.device());
  }
  TORCH_CHECK_VALUE(indptr.numel() >= 1, "indptr must have M + 1 >= 1 entries");
  TORCH_CHECK_VALUE(num_items >= 1, "num_items must be >= 1, got ", num_items);
  TORCH_CHECK_VALUE(num_negatives >= 0, "num_negatives must be >= 0, got ", num_negatives);
  const int64_t M = indptr.numel() - 1;
  const at::Tensor u = users.clamp(0, std::max<int64_t>(M - 1, 0));
  at::Tensor start = M > 0 ? indptr.index_select(0, u) : at::zeros_like(users);
  at::Tensor len = M > 0 ? indptr.index_select(0, u + 1) - start : at::zeros_like(users);
  if (users.numel() > 0) {
    const int64_t nnz = indices.numel();
    at::Tensor unsorted = at::zeros({}, users.options().dtype(at::kBool));
    if (check_rows && nnz > 1) {  // a step k-1 -> k that does not rise, k not the start of a row
      at::Tensor row_start = at::zeros({nnz + 1}, unsorted.options());
      row_start.index_fill_(0, indptr.clamp(0, nnz), true);
      const at::Tensor rises = indices.narrow(0, 1, nnz - 1) > indices.narrow(0, 0, nnz - 1);
      unsorted = (rises.logical_not() & row_start.narrow(0, 1, nnz - 1).logical_not()).any();
    }
    const at::Tensor flags = at::stack({((users < 0) | (users >= M)).any(), (len >= num_items).any(),
                                        ((start < 0) | (len < 0) | (start + len > nnz)).any(), unsorted})
                                 .cpu();
    const bool* f = flags.data_ptr<bool>();
    TORCH_CHECK_VALUE(!f[0], "users must be in [0, ", M, ") (M = indptr.numel() - 1)");
    TORCH_CHECK_VALUE(!f[1], "a user in users has interacted with every item (num_items = ", num_items,
                      "): there is no negative to sample");
    TORCH_CHECK_VALUE(!f[2], "indptr must be non-decreasing, start at >= 0 and end at <= indices.numel()");
    TORCH_CHECK_VALUE(!f[3], "indices must be sorted ascending without repeats within each row");
  }
  return {start.contiguous(), len.contiguous()};
}

// A CSR row pointer that stays inside its indices (one host sync on CUDA).
inline void check_row_pointer(const at::Tensor& ptr, const at::Tensor& idx, const char* name) {
  const int64_t n = ptr.numel() - 1;
  const bool bad = (ptr.narrow(0, 1, n) < ptr.narrow(0, 0, n)).any().item<bool>() || ptr[0].item<int64_t>() < 0 ||
                   ptr[n].item<int64_t>() > idx.numel();
  TORCH_CHECK_VALUE(!bad, name, " must be non-decreasing within [0, ", idx.numel(), "]");
}

// The evaluation tile's inputs (shapes, dtypes, devices); returns the test_scores in the scores' dtype.
inline void check_rank_counts_args(const at::Tensor& scores, const at::Tensor& q, const at::Tensor& qi,
                                   const at::Tensor& test_ptr, const at::Tensor& test_idx,
                                   const c10::optional<at::Tensor>& train_ptr,
                                   const c10::optional<at::Tensor>& train_idx) {
  TORCH_CHECK_VALUE(scores.dim() == 2 && (scores.scalar_type() == at::kFloat || scores.scalar_type() == at::kDouble),
                    "scores must be a (B, n) float32/float64 tensor, got ", scores.scalar_type(), " ", scores.sizes());
  const int64_t B = scores.size(0);
  TORCH_CHECK_VALUE(q.dim() == 2 && q.size(0) == B && q.scalar_type() == scores.scalar_type(),
                    "test_scores must be (B, W) of the scores' dtype, got ", q.scalar_type(), " ", q.sizes());
  TORCH_CHECK_VALUE(qi.sizes() == q.sizes() && qi.scalar_type() == at::kLong,
                    "test_items must be int64 of test_scores' shape, got ", qi.scalar_type(), " ", qi.sizes());
  TORCH_CHECK_VALUE(train_ptr.has_value() == train_idx.has_value(), "train_ptr and train_idx go together");
  for (const auto& [t, name] : {std::pair{&test_ptr, "test_ptr"}, std::pair{&test_idx, "test_idx"}}) {
    TORCH_CHECK_VALUE(t->scalar_type() == at::kLong && t->dim() == 1, name, " must be 1-D int64");
  }
  TORCH_CHECK_VALUE(test_ptr.numel() == B + 1, "test_ptr must have B + 1 = ", B + 1, " entries");
  if (train_ptr) {
    TORCH_CHECK_VALUE(train_ptr->scalar_type() == at::kLong && train_ptr->numel() == B + 1 &&
                          train_idx->scalar_type() == at::kLong && train_idx->dim() == 1,
                      "train_ptr (B + 1,) and train_idx must be 1-D int64");
  }
  for (const at::Tensor* t : {&q, &qi, &test_ptr, &test_idx})
    TORCH_CHECK_VALUE(t->device() == scores.device(), "every input must be on the scores' device ", scores.device());
  if (train_ptr)
    TORCH_CHECK_VALUE(train_ptr->device() == scores.device() && train_idx->device() == scores.device(),
                      "every input must be on the scores' device ", scores.device());
  check_row_pointer(test_ptr, test_idx, "test_ptr");
  if (train_ptr) check_row_pointer(*train_ptr, *train_idx, "train_ptr");
}

}  // namespace torchauc::cml
