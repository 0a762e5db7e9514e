// CUDA glue of the CML ops: checks (shared with the CPU path), allocation, stream, launches.
// The triplet ops sync nowhere (indexed rows out of their table give NaN rows); the sampler syncs
// once to raise on a user without negatives.
#include "core/cuda_glue.h"

#include <ATen/ATen.h>
#include <ATen/Dispatch.h>
#include <c10/cuda/CUDAGuard.h>
#include <c10/cuda/CUDAStream.h>
#include <torch/library.h>

#include "cml/args.h"
#include "cml/cuda.h"

namespace torchauc::cml {
namespace {

cudaStream_t stream() { return c10::cuda::getCurrentCUDAStream().stream(); }

std::tuple<at::Tensor, at::Tensor> cml_triplet_loss_cuda(const at::Tensor& users, const at::Tensor& pos,
                                                         const at::Tensor& neg,
                                                         const c10::optional<at::Tensor>& users_idx,
                                                         const c10::optional<at::Tensor>& pos_idx,
                                                         const c10::optional<at::Tensor>& neg_idx, double margin,
                                                         c10::string_view reduction) {
  const TripletArgs a = check_triplet_args(users, pos, neg, users_idx, pos_idx, neg_idx, margin, reduction);
  const c10::cuda::CUDAGuard guard(users.device());
  const auto f64 = users.options().dtype(at::kDouble);
  at::Tensor dist = at::empty({a.B * a.K * (1 + a.J)}, f64), hinge = at::empty({a.B}, f64);
  at::Tensor argmin = at::empty({a.B, 3}, users.options().dtype(at::kLong));
  at::Tensor loss = at::empty({}, a.users.options());
  AT_DISPATCH_FLOATING_TYPES(a.users.scalar_type(), "cml_triplet_loss_cuda", [&] {
    cuda::launch_triplet_forward<scalar_t>(rows_of<scalar_t>(a), a.users.size(0), a.pos.size(0), a.neg.size(0), margin,
                                           a.mean, dist.data_ptr<double>(), hinge.data_ptr<double>(),
                                           argmin.data_ptr<int64_t>(), loss.data_ptr<scalar_t>(), stream());
  });
  check_launch("cml_triplet_loss");
  return {loss.to(users.scalar_type()), argmin};
}

std::tuple<at::Tensor, at::Tensor, at::Tensor> cml_triplet_backward_cuda(
    const at::Tensor& grad, const at::Tensor& users, const at::Tensor& pos, const at::Tensor& neg,
    const c10::optional<at::Tensor>& users_idx, const c10::optional<at::Tensor>& pos_idx,
    const c10::optional<at::Tensor>& neg_idx, const at::Tensor& argmin, c10::string_view reduction) {
  const TripletArgs a = check_triplet_args(users, pos, neg, users_idx, pos_idx, neg_idx, 0.0, reduction);
  TORCH_CHECK_VALUE(
      argmin.scalar_type() == at::kLong && argmin.dim() == 2 && argmin.size(0) == a.B && argmin.size(1) == 3,
      "argmin must be the (B, 3) int64 output of cml_triplet_loss, got ", argmin.sizes());
  TORCH_CHECK_VALUE(grad.numel() == 1 && grad.device() == users.device(),
                    "grad must hold one element on the users' device, got ", grad.sizes());
  const c10::cuda::CUDAGuard guard(users.device());
  const at::Tensor am = argmin.contiguous(), g = grad.reshape({1}).to(a.users.scalar_type()).contiguous();
  at::Tensor ga = at::empty({a.B, a.d}, a.users.options()), gb = at::empty({a.B, a.d}, a.users.options());
  AT_DISPATCH_FLOATING_TYPES(a.users.scalar_type(), "cml_triplet_backward_cuda", [&] {
    cuda::launch_triplet_grad_rows<scalar_t>(rows_of<scalar_t>(a), g.const_data_ptr<scalar_t>(), a.mean,
                                             am.const_data_ptr<int64_t>(), ga.data_ptr<scalar_t>(),
                                             gb.data_ptr<scalar_t>(), stream());
  });
  check_launch("cml_triplet_backward");
  auto [gu, gp, gn] = scatter_triplet_grads(a, am, ga, gb);
  return {gu.to(users.scalar_type()), gp.to(pos.scalar_type()), gn.to(neg.scalar_type())};
}

at::Tensor cml_sample_negatives_cuda(const at::Tensor& indptr, const at::Tensor& indices_in, const at::Tensor& users,
                                     int64_t num_items, int64_t num_negatives, int64_t seed) {
  const c10::cuda::CUDAGuard guard(indptr.device());
  const auto [start, len] = check_sampler_args(indptr, indices_in, users, num_items, num_negatives, true);
  const at::Tensor indices = indices_in.contiguous();
  at::Tensor out = at::empty({users.numel(), num_negatives}, users.options());
  cuda::launch_sample_negatives(indices.const_data_ptr<int64_t>(), start.const_data_ptr<int64_t>(),
                                len.const_data_ptr<int64_t>(), users.numel(), num_negatives, num_items,
                                static_cast<uint64_t>(seed), out.data_ptr<int64_t>(), stream());
  check_launch("cml_sample_negatives");
  return out;
}

// Each item's entries for the item gradient: order (nnz,) the entries sorted by item (stable: each
// item's entries in CSR order) and item_ptr (N + 1,) the item's range in order. Sort and binary
// search on the device, no host sync; item ids outside [0, N) fall before item_ptr[0] or after
// item_ptr[N], so they reach no item.
std::pair<at::Tensor, at::Tensor> entries_by_item(const DotsArgs& a) {
  const auto [sorted, order] = at::sort(a.indices, /*stable=*/true, 0, /*descending=*/false);
  const at::Tensor item_ptr = at::searchsorted(sorted, at::arange(a.N + 1, a.indices.options()));
  return {order.contiguous(), item_ptr.contiguous()};
}

at::Tensor cml_gather_dots_cuda(const at::Tensor& users, const at::Tensor& items, const at::Tensor& indptr,
                                const at::Tensor& indices) {
  const c10::cuda::CUDAGuard guard(users.device());
  const DotsArgs a = check_dots_args(users, items, indptr, indices);
  at::Tensor out = at::empty({a.nnz}, a.users.options());
  AT_DISPATCH_FLOATING_TYPES(a.users.scalar_type(), "cml_gather_dots_cuda", [&] {
    cuda::launch_gather_dots<scalar_t>(a.users.const_data_ptr<scalar_t>(), a.items.const_data_ptr<scalar_t>(),
                                       a.indptr.const_data_ptr<int64_t>(), a.indices.const_data_ptr<int64_t>(), a.B,
                                       a.N, a.d, a.nnz, out.data_ptr<scalar_t>(), stream());
  });
  check_launch("cml_gather_dots");
  return out.to(users.scalar_type());
}

std::tuple<at::Tensor, at::Tensor> cml_gather_dots_backward_cuda(const at::Tensor& grad, const at::Tensor& users,
                                                                 const at::Tensor& items, const at::Tensor& indptr,
                                                                 const at::Tensor& indices) {
  const c10::cuda::CUDAGuard guard(users.device());
  const DotsArgs a = check_dots_args(users, items, indptr, indices);
  const at::Tensor g = check_dots_grad(grad, a);
  const auto [order, item_ptr] = entries_by_item(a);
  at::Tensor entry_user = at::empty({a.nnz}, a.indices.options());
  cuda::launch_entry_rows(a.indptr.const_data_ptr<int64_t>(), a.B, a.nnz, entry_user.data_ptr<int64_t>(), stream());
  check_launch("cml_gather_dots_backward (rows)");
  at::Tensor gu = at::empty({a.B, a.d}, a.users.options()), gi = at::empty({a.N, a.d}, a.items.options());
  AT_DISPATCH_FLOATING_TYPES(a.users.scalar_type(), "cml_gather_dots_backward_cuda", [&] {
    cuda::launch_gather_dots_grads<scalar_t>(
        g.const_data_ptr<scalar_t>(), a.users.const_data_ptr<scalar_t>(), a.items.const_data_ptr<scalar_t>(),
        a.indptr.const_data_ptr<int64_t>(), a.indices.const_data_ptr<int64_t>(), order.const_data_ptr<int64_t>(),
        item_ptr.const_data_ptr<int64_t>(), entry_user.const_data_ptr<int64_t>(), a.B, a.N, a.d, a.nnz,
        gu.data_ptr<scalar_t>(), gi.data_ptr<scalar_t>(), stream());
  });
  check_launch("cml_gather_dots_backward");
  return {gu.to(users.scalar_type()), gi.to(items.scalar_type())};
}

at::Tensor cml_rank_counts_cuda(const at::Tensor& scores_in, int64_t offset, const at::Tensor& q_in,
                                const at::Tensor& qi_in, const at::Tensor& test_ptr, const at::Tensor& test_idx,
                                const c10::optional<at::Tensor>& train_ptr,
                                const c10::optional<at::Tensor>& train_idx) {
  const c10::cuda::CUDAGuard guard(scores_in.device());
  check_rank_counts_args(scores_in, q_in, qi_in, test_ptr, test_idx, train_ptr, train_idx);
  const at::Tensor scores = scores_in.contiguous(), q = q_in.contiguous(), qi = qi_in.contiguous();
  const at::Tensor tp = test_ptr.contiguous(), ti = test_idx.contiguous();
  const at::Tensor rp = train_ptr ? train_ptr->contiguous() : at::Tensor();
  const at::Tensor ri = train_idx ? train_idx->contiguous() : at::Tensor();
  const int64_t B = scores.size(0), W = q.size(1);
  at::Tensor hist = at::zeros({B, W + 1}, qi.options()), out = at::zeros({B, W}, qi.options());
  AT_DISPATCH_FLOATING_TYPES(scores.scalar_type(), "cml_rank_counts_cuda", [&] {
    cuda::launch_rank_counts<scalar_t>(
        scores.const_data_ptr<scalar_t>(), B, scores.size(1), offset, q.const_data_ptr<scalar_t>(),
        qi.const_data_ptr<int64_t>(), W, tp.const_data_ptr<int64_t>(), ti.const_data_ptr<int64_t>(),
        rp.defined() ? rp.const_data_ptr<int64_t>() : nullptr, ri.defined() ? ri.const_data_ptr<int64_t>() : nullptr,
        hist.data_ptr<int64_t>(), out.data_ptr<int64_t>(), stream());
  });
  check_launch("cml_rank_counts");
  return out;
}

}  // namespace

TORCH_LIBRARY_IMPL(torchauc, CUDA, m) {
  m.impl("cml_rank_counts", &cml_rank_counts_cuda);
  m.impl("cml_triplet_loss", &cml_triplet_loss_cuda);
  m.impl("cml_triplet_backward", &cml_triplet_backward_cuda);
  m.impl("cml_sample_negatives", &cml_sample_negatives_cuda);
  m.impl("cml_gather_dots", &cml_gather_dots_cuda);
  m.impl("cml_gather_dots_backward", &cml_gather_dots_backward_cuda);
}

}  // namespace torchauc::cml
