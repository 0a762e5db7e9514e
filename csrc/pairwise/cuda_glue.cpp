// CUDA glue of the pairwise AUC loss: argument checks (shared with the CPU path), allocation, the
// sorting/compaction steps done with ATen (CUB underneath), and the launches of cuda.cu.
// Host syncs: one for the label verdict and positive count, one for the NaN check, and for the
// tiled surrogates the compaction (nonzero).
#include "core/cuda_glue.h"

#include <ATen/ATen.h>
#include <ATen/Dispatch.h>
#include <c10/cuda/CUDAGuard.h>
#include <c10/cuda/CUDAStream.h>
#include <torch/library.h>

#include <cmath>

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
    c10::string_view reduction_name, bool compute_grad) {
  const PairwiseArgs args =
      check_pairwise_args(scores_in, labels_in, pos_w_in, neg_w_in, surrogate_name, margin, reduction_name);
  const auto& [sur, red, scores, labels, pos_w, neg_w] = args;

  const c10::cuda::CUDAGuard guard(scores.device());
  const cudaStream_t stream = c10::cuda::getCurrentCUDAStream();
  const auto ct = scores.scalar_type() == at::kDouble ? at::kDouble : at::kFloat;  // compute type
  const at::Tensor s = scores.to(ct).contiguous();
  const at::Tensor a = pos_w ? pos_w->to(ct).contiguous() : at::Tensor();
  const at::Tensor b = neg_w ? neg_w->to(ct).contiguous() : at::Tensor();
  const BinaryLabels lab = binary_labels(labels);
  const int64_t n = s.numel(), n_pos = lab.n_pos, n_neg = n - lab.n_pos;
  const bool has_nan = n > 0 && at::isnan(s).any().item<bool>();
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
  const int8_t* y = lab.y.data_ptr<int8_t>();

  AT_DISPATCH_FLOATING_TYPES(ct, "pairwise_auc_loss_cuda", [&] {
    const cuda::PairwiseOutputs<scalar_t> out{loss.data_ptr<scalar_t>(), mut_ptr_or_null<scalar_t>(gs),
                                              mut_ptr_or_null<scalar_t>(ga), mut_ptr_or_null<scalar_t>(gb)};
    if (sur == Surrogate::Square || sur == Surrogate::Exp) {
      const cuda::PairwiseInputs<scalar_t> in{s.data_ptr<scalar_t>(),   y, ptr_or_null<scalar_t>(a),
                                              ptr_or_null<scalar_t>(b), n, margin};
      at::Tensor partials = at::empty({cuda::pairwise_partials_size(n)}, f64);
      cuda::launch_pairwise_moments<scalar_t>(static_cast<int>(sur), static_cast<int>(red), has_nan, in, sc,
                                              partials.data_ptr<double>(), out, stream);
      return;
    }
    const at::Tensor pos = lab.y.to(at::kBool), neg = ~pos;
    const at::Tensor aw = a.defined() ? a.to(at::kDouble) : at::ones({n}, f64);
    const at::Tensor bw = b.defined() ? b.to(at::kDouble) : at::ones({n}, f64);
    at::Tensor dS_dx = at::zeros({n}, f64), dS_dw = at::zeros({n}, f64);
    if (!has_nan && n_pos > 0 && n_neg > 0) {
      if (sur == Surrogate::Hinge || sur == Surrogate::SquaredHinge) {
        const at::Tensor s64 = s.to(at::kDouble).contiguous();
        const auto P = sorted_side(margin - s64.masked_select(pos), aw.masked_select(pos));
        const auto N = sorted_side(s64.masked_select(neg), bw.masked_select(neg));
        const at::Tensor a64 = a.defined() ? aw.contiguous() : at::Tensor();
        const at::Tensor b64 = b.defined() ? bw.contiguous() : at::Tensor();
        cuda::launch_hinge_query(sur == Surrogate::Hinge ? 1 : 2, s64.data_ptr<double>(), y, ptr_or_null<double>(a64),
                                 ptr_or_null<double>(b64), n, margin, P.first.data_ptr<double>(),
                                 P.second.data_ptr<double>(), n_pos, N.first.data_ptr<double>(),
                                 N.second.data_ptr<double>(), n_neg, dS_dx.data_ptr<double>(), dS_dw.data_ptr<double>(),
                                 stream);
      } else {
        const at::Tensor pidx = at::nonzero(pos).squeeze(1), nidx = at::nonzero(neg).squeeze(1);
        const at::Tensor pk = (s.index_select(0, pidx) * (-margin)).contiguous();
        const at::Tensor nk = (s.index_select(0, nidx) * margin).contiguous();
        const at::Tensor pa = (a.defined() ? a.index_select(0, pidx) : at::ones({n_pos}, s.options())).contiguous();
        const at::Tensor nb = (b.defined() ? b.index_select(0, nidx) : at::ones({n_neg}, s.options())).contiguous();
        // dv/dx = -m for positives, +m for negatives (v = m (z - x))
        cuda::launch_tiled_side<scalar_t>(static_cast<int>(sur), pk.data_ptr<scalar_t>(), pa.data_ptr<scalar_t>(),
                                          pidx.data_ptr<int64_t>(), n_pos, nk.data_ptr<scalar_t>(),
                                          nb.data_ptr<scalar_t>(), n_neg, -margin, dS_dx.data_ptr<double>(),
                                          dS_dw.data_ptr<double>(), stream);
        cuda::launch_tiled_side<scalar_t>(static_cast<int>(sur), nk.data_ptr<scalar_t>(), nb.data_ptr<scalar_t>(),
                                          nidx.data_ptr<int64_t>(), n_neg, pk.data_ptr<scalar_t>(),
                                          pa.data_ptr<scalar_t>(), n_pos, margin, dS_dx.data_ptr<double>(),
                                          dS_dw.data_ptr<double>(), stream);
      }
    }
    // S = sum over positives of a_i * (row sum of b_j l_ij); A, B the side weight totals
    const at::Tensor S = (aw * dS_dw).masked_fill(neg, 0.0).sum();
    const at::Tensor A = aw.masked_fill(neg, 0.0).sum(), B = bw.masked_fill(pos, 0.0).sum();
    scalars.narrow(0, offsetof(cuda::PairwiseScalars, S) / sizeof(double), 3).copy_(at::stack({S, A, B}));
    cuda::launch_pairwise_finish<scalar_t>(static_cast<int>(red), has_nan, y, n, dS_dx.data_ptr<double>(),
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
