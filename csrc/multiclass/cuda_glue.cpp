// CUDA glue of the multiclass / pixel AUC loss: argument checks (shared with the CPU path), label
// validation (a device-side assert, no host sync), the per-sample weights (ATen), and the launches of
// cuda.cu. The exact hinge runs on ATen ops here: one
// segmented sort of all columns at once (a (C, N) transposed copy, O(N C) memory), suffix sums and
// batched searchsorted; no loop over classes.
#include "core/cuda_glue.h"

#include <ATen/ATen.h>
#include <c10/cuda/CUDAGuard.h>
#include <c10/cuda/CUDAStream.h>
#include <torch/library.h>

#include <cmath>
#include <limits>

#include "core/labels.h"
#include "multiclass/args.h"
#include "multiclass/cuda.h"

namespace torchauc::multiclass {
namespace {

// Exact hinge with ATen ops; v (Ns, C) activated scores (double), dv their derivative.
std::pair<at::Tensor, at::Tensor> mc_hinge_aten(const at::Tensor& v, const at::Tensor& dv, const at::Tensor& y,
                                                const at::Tensor& valid, const at::Tensor& counts, Mode mode, Norm norm,
                                                double m) {
  const int64_t C = v.size(1);
  const auto f64 = v.options();
  const at::Tensor Ni = counts.view({C, 1}), Nj = counts.view({1, C});
  const at::Tensor Ntot = counts.sum(), Cb = counts.gt(0).sum().to(at::kDouble);
  const at::Tensor eye = at::eye(C, f64.dtype(at::kBool));
  at::Tensor omega = mode == Mode::Ovo ? (Ni * Nj).reciprocal() : (Ni * (Ntot - Ni)).reciprocal().expand({C, C});
  omega = at::where(Ni.gt(0).logical_and(Nj.gt(0)).logical_and(eye.logical_not()), omega, at::zeros({}, f64));
  at::Tensor F;
  if (norm == Norm::Present)
    F = mode == Mode::Ovo ? Cb * (Cb - 1) : at::where(Cb.ge(2), Cb, at::zeros({}, f64));
  else
    F = at::full({}, mode == Mode::Ovo ? double(C) * double(C - 1) : 1.0, f64);
  const at::Tensor scale = at::where(F.gt(0), F.reciprocal(), at::zeros({}, f64));

  // column-major views: row i of (C, N) is column i
  // ignored samples: score 0 and weight 0, so they neither pair nor make a column NaN
  const at::Tensor vt = at::where(valid.view({1, -1}), v.t(), at::zeros({}, f64)).contiguous();
  const at::Tensor pos = y.view({1, -1}).eq(at::arange(C, y.options()).view({C, 1}));  // (C, N)
  const at::Tensor w = omega.index_select(1, y.clamp_min(0)).mul(pos.logical_not().logical_and(valid.view({1, -1})));
  const auto inf = std::numeric_limits<double>::infinity();
  // negatives sorted by z with weights, suffix sums of (w, w z); positives sorted by u = m - x
  const at::Tensor zkey = at::where(pos, at::full({}, inf, f64), vt);
  auto zs = zkey.sort(1);
  const at::Tensor zsorted = std::get<0>(zs);
  const at::Tensor wz = at::where(pos, at::zeros({}, f64), w * vt);
  const at::Tensor ws = w.gather(1, std::get<1>(zs)), wzs = wz.gather(1, std::get<1>(zs));
  const at::Tensor zero = at::zeros({C, 1}, f64);
  const at::Tensor suf_w = at::cat({ws.flip(1).cumsum(1).flip(1), zero}, 1);
  const at::Tensor suf_wz = at::cat({wzs.flip(1).cumsum(1).flip(1), zero}, 1);
  const at::Tensor u = m - vt;
  const at::Tensor q = at::searchsorted(zsorted, (-u).contiguous(), false, /*right=*/true);
  const at::Tensor m0 = suf_w.gather(1, q), m1 = suf_wz.gather(1, q);
  const at::Tensor Lcol = at::where(pos, u * m0 + m1, at::zeros({}, f64)).sum(1);
  const at::Tensor usorted = std::get<0>(at::where(pos, u, at::full({}, -inf, f64)).sort(1));
  const at::Tensor above = vt.size(1) - at::searchsorted(usorted, (-vt).contiguous(), false, true);
  at::Tensor g = at::where(pos, -m0, w * above.to(at::kDouble)) * scale;
  const at::Tensor active = Ni.view({C}).gt(0).logical_and(omega.sum(1).gt(0)).logical_and(scale.gt(0));
  // NaN scores: the column's loss and gradients are NaN (sorting cannot rank them)
  const at::Tensor colnan = vt.isnan().any(1);
  const auto nan = std::numeric_limits<double>::quiet_NaN();
  at::Tensor L = at::where(active, Lcol * scale, at::zeros({}, f64));
  L = at::where(colnan.logical_and(active), at::full({}, nan, f64), L).sum();
  g = at::where(active.view({C, 1}), g, at::zeros({}, f64));
  g = at::where(colnan.logical_and(active).view({C, 1}), at::full({}, nan, f64), g);
  return {L, g.t() * dv};
}

std::tuple<at::Tensor, at::Tensor> multiclass_auc_loss_cuda(const at::Tensor& scores_in, const at::Tensor& labels_in,
                                                            c10::optional<int64_t> ignore_index,
                                                            c10::string_view activation_name,
                                                            c10::string_view surrogate_name, c10::string_view mode_name,
                                                            double margin, c10::string_view normalization_name,
                                                            bool compute_grad) {
  const auto [act, sur, mode, norm, sh] =
      check_mc_args(scores_in, labels_in, activation_name, surrogate_name, mode_name, margin, normalization_name);
  const c10::cuda::CUDAGuard guard(scores_in.device());
  const cudaStream_t stream = c10::cuda::getCurrentCUDAStream();
  const at::Tensor scores = scores_in.contiguous();
  const auto f64 = scores.options().dtype(at::kDouble);
  const int64_t C = sh.C, ns = sh.samples();
  const at::Tensor y32 = class_labels(labels_in, C, ignore_index), valid = y32.ge(0);
  const at::Tensor ylong = y32.to(at::kLong);
  // class counts (integer scatter: exact), as doubles
  const at::Tensor counts =
      at::zeros({C + 1}, ylong.options())
          .scatter_add_(0, at::where(valid, ylong, at::full({}, C, ylong.options())), at::ones_like(ylong))
          .narrow(0, 0, C)
          .to(at::kDouble);

  if (sur == Surrogate::Hinge) {
    // (Ns, C) activated scores in double (a transposed copy for NCHW)
    at::Tensor x = scores.dim() == 2 ? scores : scores.reshape({sh.B, C, sh.S}).transpose(1, 2).reshape({ns, C});
    x = x.to(at::kDouble);
    const at::Tensor v = act == Activation::Sigmoid ? x.sigmoid() : x;
    const at::Tensor dv = act == Activation::Sigmoid ? v * (1 - v) : at::ones_like(v);
    auto [L, g] = mc_hinge_aten(v, dv, y32.to(at::kLong), valid, counts, mode, norm, margin);
    at::Tensor grad = at::empty({0}, scores.options());
    if (compute_grad) {
      g = g * valid.view({ns, 1});
      grad = scores.dim() == 2 ? g : g.reshape({sh.B, sh.S, C}).transpose(1, 2);
      grad = grad.to(scores.scalar_type()).contiguous().view(scores.sizes());
    }
    return {L.to(scores.scalar_type()), grad};
  }

  // per-sample weights: rho_{y} (square, linear) or log rho_{y} (exp), 0 where ignored
  const bool ex = sur == Surrogate::Exp;
  at::Tensor rho = mode == Mode::Ovo ? counts.reciprocal() : at::ones_like(counts);
  if (ex) rho = rho.log();
  const at::Tensor r = at::where(valid, rho.index_select(0, ylong.clamp_min(0)), at::zeros({}, f64)).contiguous();
  const int64_t G = cuda::mc_stats_parts(ns, C, sh.S);
  at::Tensor part = at::empty({G * 4 * C}, f64), stats = at::empty({4 * C}, f64), coef = at::empty({4 * C}, f64);
  at::Tensor Lcol = at::empty({C}, f64), loss = at::empty({1}, f64);
  const Dtype dt = dtype_of(scores, "scores");
  if (ns > 0) {
    cuda::mc_stats_launch(dt, scores.data_ptr(), y32.data_ptr<int32_t>(), r.data_ptr<double>(), sh.B, C, sh.S, G,
                          static_cast<int>(act), ex, margin, part.data_ptr<double>(), stats.data_ptr<double>(), stream);
    check_launch("multiclass_auc_loss");
  } else {
    stats.zero_();
    if (ex)
      stats.view({4, C}).index_fill_(0, at::tensor({0, 2}, ylong.options()), -std::numeric_limits<double>::infinity());
  }
  cuda::mc_epilogue_launch(static_cast<int>(sur), static_cast<int>(mode), static_cast<int>(norm), C,
                           counts.data_ptr<double>(), stats.data_ptr<double>(), margin, coef.data_ptr<double>(),
                           Lcol.data_ptr<double>(), loss.data_ptr<double>(), stream);
  check_launch("multiclass_auc_loss");
  at::Tensor grad = at::empty({0}, scores.options());
  if (compute_grad) {
    grad = at::empty(scores.sizes(), scores.options());
    if (grad.numel() > 0) {
      cuda::mc_grad_launch(dt, scores.data_ptr(), y32.data_ptr<int32_t>(), r.data_ptr<double>(),
                           coef.data_ptr<double>(), sh.B, C, sh.S, static_cast<int>(act), ex, margin, grad.data_ptr(),
                           stream);
      check_launch("multiclass_auc_loss");
    }
  }
  return {loss.reshape({}).to(scores.scalar_type()), grad};
}

}  // namespace

TORCH_LIBRARY_IMPL(torchauc, CUDA, m) { m.impl("multiclass_auc_loss", &multiclass_auc_loss_cuda); }

}  // namespace torchauc::multiclass
