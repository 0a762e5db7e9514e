// CUDA glue of the pairwise AUC loss: argument checks (shared with the CPU path), allocation, the
// sorting/compaction steps done with ATen (CUB underneath), and the launches of cuda.cu.
// No host sync: the label check is a device-side assert, the NaN flag and the positive count stay on
// the device (read by the kernels), and the compactions have sizes known on the host (hinge: each
// side padded to n with zero-weight keys; tiled: both sides in one stable order by label).
#include "core/cuda_glue.h"

#include <ATen/ATen.h>
#include <ATen/Dispatch.h>
#include <c10/cuda/CUDAGuard.h>
#include <c10/cuda/CUDAStream.h>
#include <torch/library.h>

#include <cmath>
#include <limits>

#include "core/checks.h"
#include "core/labels.h"
#include "pairwise/args.h"
#include "pairwise/cuda.h"

namespace torchauc::pairwise {
namespace {

template <typename T>
const T* ptr_or_null(const at::Tensor& t) {
  return t.defined() ? t.data_ptr<T>() : nullptr;
}
template <typename T>
T* mut_ptr_or_null(at::Tensor& t) {
  return t.defined() ? t.data_ptr<T>() : nullptr;
}

// A key sorted after every finite one for the samples not on a side; with weight 0 its suffix
// moments (w, w k, w k^2, computed left to right) stay exactly 0.
constexpr double kAbsent = std::numeric_limits<double>::max();

// One side sorted ascending by key, with suffix moments of (w, w k, w k^2): (len + 1, 3), last row 0.
std::pair<at::Tensor, at::Tensor> sorted_side(const at::Tensor& keys, const at::Tensor& w) {
  auto sorted = keys.sort();
  const at::Tensor k = std::get<0>(sorted);
  const at::Tensor ws = w.index_select(0, std::get<1>(sorted));
  const at::Tensor mom = at::stack({ws, ws * k, ws * k * k}, 1);
  const at::Tensor suffix = at::cat({mom.flip(0).cumsum(0).flip(0), at::zeros({1, 3}, mom.options())}, 0);
  return {k.contiguous(), suffix.contiguous()};
}

std::tuple<at::Tensor, at::Tensor, at::Tensor, at::Tensor> pairwise_auc_loss_cuda(
    const at::Tensor& scores_in, const at::Tensor& labels_in, const c10::optional<at::Tensor>& pos_w_in,
    const c10::optional<at::Tensor>& neg_w_in, c10::string_view surrogate_name, double margin,
    c10::string_view reduction_name, bool compute_grad, double scale) {
  const PairwiseArgs args =
      check_pairwise_args(scores_in, labels_in, pos_w_in, neg_w_in, surrogate_name, margin, reduction_name, scale);
  const auto& [sur, red, checked_scale, scores, labels, pos_w, neg_w] = args;

  const c10::cuda::CUDAGuard guard(scores.device());
  const cudaStream_t stream = c10::cuda::getCurrentCUDAStream();
  const auto ct = scores.scalar_type() == at::kDouble ? at::kDouble : at::kFloat;  // compute type
  const at::Tensor s = scores.to(ct).contiguous();
  const at::Tensor a = pos_w ? pos_w->to(ct).contiguous() : at::Tensor();
  const at::Tensor b = neg_w ? neg_w->to(ct).contiguous() : at::Tensor();
  const at::Tensor y8 = binary_labels_async(labels);
  const int64_t n = s.numel();
  const at::Tensor has_nan = at::isnan(s).any();  // a device flag for the kernels
  const auto f64 = s.options().dtype(at::kDouble);

  at::Tensor scalars = at::zeros({sizeof(cuda::PairwiseScalars) / sizeof(double)}, f64);
  at::Tensor loss = at::empty({}, s.options());
  at::Tensor gs, ga, gb;
  if (compute_grad) {
    gs = at::empty({n}, s.options());
    if (pos_w) ga = at::empty({n}, s.options());
    if (neg_w) gb = at::empty({n}, s.options());
  }
  auto* sc = reinterpret_cast<cuda::PairwiseScalars*>(scalars.data_ptr<double>());
  const int8_t* y = y8.data_ptr<int8_t>();
  const bool* nan_flag = has_nan.data_ptr<bool>();

  AT_DISPATCH_FLOATING_TYPES(ct, "pairwise_auc_loss_cuda", [&] {
    const cuda::PairwiseOutputs<scalar_t> out{loss.data_ptr<scalar_t>(), mut_ptr_or_null<scalar_t>(gs),
                                              mut_ptr_or_null<scalar_t>(ga), mut_ptr_or_null<scalar_t>(gb),
                                              checked_scale};
    if (sur == Surrogate::Square || sur == Surrogate::Exp) {
      const cuda::PairwiseInputs<scalar_t> in{s.data_ptr<scalar_t>(),   y, ptr_or_null<scalar_t>(a),
                                              ptr_or_null<scalar_t>(b), n, margin};
      at::Tensor partials = at::empty({cuda::pairwise_partials_size(n)}, f64);
      cuda::launch_pairwise_moments<scalar_t>(static_cast<int>(sur), static_cast<int>(red), nan_flag, in, sc,
                                              partials.data_ptr<double>(), out, stream);
      return;
    }
    const at::Tensor pos = y8.to(at::kBool), neg = ~pos;
    const at::Tensor aw = a.defined() ? a.to(at::kDouble) : at::ones({n}, f64);
    const at::Tensor bw = b.defined() ? b.to(at::kDouble) : at::ones({n}, f64);
    at::Tensor dS_dx = at::zeros({n}, f64), dS_dw = at::zeros({n}, f64);
    // NaN scores need no skip (finish makes everything NaN); one-class batches give dS = 0 (the
    // kernels read the class sizes on the device)
    if (sur == Surrogate::Hinge || sur == Surrogate::SquaredHinge) {
      const at::Tensor s64 = s.to(at::kDouble).contiguous();
      const auto P = sorted_side(at::where(pos, margin - s64, kAbsent), at::where(pos, aw, 0.0));
      const auto N = sorted_side(at::where(neg, s64, kAbsent), at::where(neg, bw, 0.0));
      const at::Tensor a64 = a.defined() ? aw.contiguous() : at::Tensor();
      const at::Tensor b64 = b.defined() ? bw.contiguous() : at::Tensor();
      const at::Tensor n_pos = pos.sum();
      cuda::launch_hinge_query(sur == Surrogate::Hinge ? 1 : 2, s64.data_ptr<double>(), y, ptr_or_null<double>(a64),
                               ptr_or_null<double>(b64), n, margin, P.first.data_ptr<double>(),
                               P.second.data_ptr<double>(), n, N.first.data_ptr<double>(), N.second.data_ptr<double>(),
                               n, n_pos.data_ptr<int64_t>(), dS_dx.data_ptr<double>(), dS_dw.data_ptr<double>(),
                               stream);
    } else {
      // negatives then positives (stable: each side in sample order), keys v / m = -x (positives) or
      // x (negatives) times m; dv/dx = -m for positives, +m for negatives (v = m (z - x))
      const at::Tensor order = at::argsort(y8, /*stable=*/true, 0, /*descending=*/false);
      const at::Tensor n_pos = pos.sum();
      const at::Tensor key = at::where(pos, s * (-margin), s * margin).index_select(0, order).contiguous();
      const at::Tensor aw_t = a.defined() ? a : at::ones({n}, s.options());
      const at::Tensor bw_t = b.defined() ? b : at::ones({n}, s.options());
      const at::Tensor w = at::where(pos, aw_t, bw_t).index_select(0, order).contiguous();
      for (const bool own_pos : {true, false})
        cuda::launch_tiled_side<scalar_t>(static_cast<int>(sur), own_pos, key.data_ptr<scalar_t>(),
                                          w.data_ptr<scalar_t>(), order.data_ptr<int64_t>(), n,
                                          n_pos.data_ptr<int64_t>(), own_pos ? -margin : margin,
                                          dS_dx.data_ptr<double>(), dS_dw.data_ptr<double>(), stream);
    }
    // S = sum over positives of a_i * (row sum of b_j l_ij); A, B the side weight totals
    const at::Tensor S = (aw * dS_dw).masked_fill(neg, 0.0).sum();
    const at::Tensor A = aw.masked_fill(neg, 0.0).sum(), B = bw.masked_fill(pos, 0.0).sum();
    scalars.narrow(0, offsetof(cuda::PairwiseScalars, S) / sizeof(double), 3).copy_(at::stack({S, A, B}));
    cuda::launch_pairwise_finish<scalar_t>(static_cast<int>(red), nan_flag, y, n, dS_dx.data_ptr<double>(),
                                           dS_dw.data_ptr<double>(), sc, out, stream);
  });
  check_launch("pairwise_auc_loss");

  const auto empty = scores.options();
  at::Tensor g_s = compute_grad ? gs.to(scores.scalar_type()).view(scores_in.sizes()) : at::empty({0}, empty);
  at::Tensor g_a =
      (compute_grad && pos_w) ? ga.to(pos_w->scalar_type()).view(pos_w_in->sizes()) : at::empty({0}, empty);
  at::Tensor g_b =
      (compute_grad && neg_w) ? gb.to(neg_w->scalar_type()).view(neg_w_in->sizes()) : at::empty({0}, empty);
  return {loss.to(scores.scalar_type()), g_s, g_a, g_b};
}

}  // namespace

TORCH_LIBRARY_IMPL(torchauc, CUDA, m) { m.impl("pairwise_auc_loss", &pairwise_auc_loss_cuda); }

}  // namespace torchauc::pairwise
