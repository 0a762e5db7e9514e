// CUDA glue of the partial-AUC family: checks, compaction and allocation in ATen, kernels in cuda.cu.
// partial_auc_select on CUDA is a composition of stable ATen sorts (CUB radix sort underneath): the
// same order as the CPU nth_element path (hardness, then index), so the masks agree exactly; the
// kept counts come from n+ on the device (no host sync).
#include "core/cuda_glue.h"

#include <ATen/ATen.h>
#include <c10/cuda/CUDAGuard.h>
#include <c10/cuda/CUDAStream.h>
#include <torch/library.h>

#include "core/checks.h"
#include "core/labels.h"
#include "partial_auc/args.h"
#include "partial_auc/cuda.h"

namespace torchauc::partial_auc {
namespace {

at::Tensor partial_auc_select_cuda(const at::Tensor& scores_in, const at::Tensor& labels_in, double max_fpr,
                                   double min_tpr, c10::string_view rounding_name) {
  const c10::cuda::CUDAGuard guard(scores_in.device());
  const at::Tensor scores = check_binary_scores(scores_in);
  const at::Tensor labels = check_binary_labels(labels_in, scores);
  check_partial_bounds(max_fpr, min_tpr, /*allow_empty=*/true);
  const Rounding rounding = parse_rounding(rounding_name);
  const at::Tensor pos = binary_labels_async(labels).to(at::kBool);
  const int64_t n = scores.numel();
  const at::Tensor n_pos = pos.sum();
  at::Tensor kept = at::empty({3}, n_pos.options());  // [k+, k-, n-]
  cuda::launch_kept_counts(n_pos.data_ptr<int64_t>(), n, 1.0 - min_tpr, max_fpr, static_cast<int>(rounding),
                           kept.data_ptr<int64_t>(), c10::cuda::getCurrentCUDAStream());
  check_launch("partial_auc_select");
  const at::Tensor s = scores.to(at::kDouble);
  // hardness: negatives by score, positives by -score; NaN hardest. Three stable sorts give the
  // order (class, NaN first, hardness descending, index ascending).
  const at::Tensor isnan = at::isnan(s);
  const at::Tensor hard = at::where(isnan, at::zeros_like(s), at::where(pos, -s, s));
  at::Tensor order = std::get<1>(at::sort(-hard, /*stable=*/true, /*dim=*/0, /*descending=*/false));
  auto resort = [&](const at::Tensor& key) {
    return order.index_select(0, std::get<1>(at::sort(key.index_select(0, order), true, 0, false)));
  };
  order = resort(at::logical_not(isnan).to(at::kLong));
  order = resort(pos.to(at::kLong));
  // rank within the class, from the position in `order` (negatives first, then positives)
  const at::Tensor position = at::arange(n, s.options().dtype(at::kLong));
  const at::Tensor sorted_pos = pos.index_select(0, order);
  const at::Tensor rank = at::where(sorted_pos, position - kept[2], position);
  const at::Tensor keep = at::where(sorted_pos, rank < kept[0], rank < kept[1]);
  at::Tensor mask = at::zeros({n}, scores.options().dtype(at::kBool));
  mask.index_put_({order}, keep);
  return mask;
}

// Both classes compacted from the (C, n) layout of check_exp_inputs: flat indices grouped by problem
// (nonzero is ordered), so each problem's positives / negatives are one contiguous segment.
struct CudaCompact {
  at::Tensor k, c, z, pidx, nidx;
  at::Tensor pseg, nseg, koff, zoff;  // per-row problem ids and per-problem offsets; undefined for one problem
  Surrogate sur;
  bool use_double;
  int64_t cols, n;
};

const int64_t* ptr_or_null(const at::Tensor& t) { return t.defined() ? t.data_ptr<int64_t>() : nullptr; }

CudaCompact compact_cuda(const at::Tensor& scores_in, const at::Tensor& labels_in, double margin, double lambda,
                         c10::string_view surrogate) {
  const ExpInputs in = check_exp_inputs(scores_in, labels_in, margin, lambda, surrogate);
  CudaCompact C;
  C.sur = in.sur;
  C.use_double = in.scores.scalar_type() == at::kDouble;
  C.cols = in.cols;
  C.n = in.n;
  const at::Tensor pos = binary_labels(in.labels).y.to(at::kBool);
  C.pidx = at::nonzero(pos).reshape({-1});
  C.nidx = at::nonzero(at::logical_not(pos)).reshape({-1});
  const at::Tensor s = in.scores.to(at::kDouble).reshape({-1});
  const at::Tensor zs = s.index_select(0, C.nidx);
  const at::Tensor ks = margin - s.index_select(0, C.pidx);
  at::Tensor cs = at::zeros_like(ks);
  if (C.cols > 1) {
    const at::Tensor grid = pos.reshape({C.cols, C.n});
    auto offsets = [](const at::Tensor& mask) {
      return at::cat({at::zeros({1}, mask.options().dtype(at::kLong)), at::cumsum(mask.sum(1), 0)});
    };
    C.koff = offsets(grid);
    C.zoff = offsets(at::logical_not(grid));
    C.pseg = at::floor_divide(C.pidx, C.n);
    C.nseg = at::floor_divide(C.nidx, C.n);
    if (ks.numel() > 0 && zs.numel() > 0) {  // per-problem max negative (-inf: no negatives, shift 0)
      const at::Tensor zmax = at::where(grid, -INFINITY, s.reshape({C.cols, C.n})).amax(1);
      const at::Tensor h = at::clamp_min(ks + zmax.index_select(0, C.pseg), 0.0);
      cs = (C.sur == Surrogate::SquaredHinge ? h * h : h) / lambda;
    }
  } else if (zs.numel() > 0) {
    const at::Tensor h = at::clamp_min(ks + zs.max(), 0.0);
    cs = (C.sur == Surrogate::SquaredHinge ? h * h : h) / lambda;
  }
  const auto T = C.use_double ? at::kDouble : at::kFloat;
  C.k = ks.to(T).contiguous();
  C.c = cs.to(T).contiguous();
  C.z = zs.to(T).contiguous();
  return C;
}

std::tuple<at::Tensor, at::Tensor, at::Tensor, at::Tensor> partial_auc_exp_rows_cuda(const at::Tensor& scores,
                                                                                     const at::Tensor& labels,
                                                                                     double margin, double lambda,
                                                                                     c10::string_view surrogate) {
  const c10::cuda::CUDAGuard guard(scores.device());
  const CudaCompact C = compact_cuda(scores, labels, margin, lambda, surrogate);
  const auto opts = scores.options().dtype(at::kDouble);
  const int64_t total = C.cols * C.n;
  at::Tensor sh = at::zeros({total}, opts), r0 = at::zeros({total}, opts), r1 = at::zeros({total}, opts),
             r2 = at::zeros({total}, opts);
  sh.index_put_({C.pidx}, C.c.to(at::kDouble));
  const auto stream = c10::cuda::getCurrentCUDAStream().stream();
  const int sur = static_cast<int>(C.sur);
  const int64_t *pseg = ptr_or_null(C.pseg), *zoff = ptr_or_null(C.zoff);
  if (C.use_double)
    cuda::launch_exp_rows<double>(sur, C.k.data_ptr<double>(), C.c.data_ptr<double>(), C.pidx.data_ptr<int64_t>(), pseg,
                                  C.k.numel(), C.z.data_ptr<double>(), zoff, C.z.numel(), 1.0 / lambda,
                                  r0.data_ptr<double>(), r1.data_ptr<double>(), r2.data_ptr<double>(), stream);
  else
    cuda::launch_exp_rows<float>(sur, C.k.data_ptr<float>(), C.c.data_ptr<float>(), C.pidx.data_ptr<int64_t>(), pseg,
                                 C.k.numel(), C.z.data_ptr<float>(), zoff, C.z.numel(),
                                 static_cast<float>(1.0 / lambda), r0.data_ptr<double>(), r1.data_ptr<double>(),
                                 r2.data_ptr<double>(), stream);
  check_launch("partial_auc_exp_rows");
  auto out = [&](const at::Tensor& t) { return exp_output(t.reshape({C.cols, C.n}), scores); };
  return {out(sh), out(r0), out(r1), out(r2)};
}

at::Tensor partial_auc_exp_cols_cuda(const at::Tensor& scores, const at::Tensor& labels, const at::Tensor& row_scale,
                                     double margin, double lambda, c10::string_view surrogate) {
  const c10::cuda::CUDAGuard guard(scores.device());
  const CudaCompact C = compact_cuda(scores, labels, margin, lambda, surrogate);
  const at::Tensor rs = check_exp_row_scale(row_scale, scores).reshape({-1});
  const at::Tensor alpha = rs.index_select(0, C.pidx).to(C.k.scalar_type()).contiguous();
  at::Tensor col = at::zeros({C.cols * C.n}, scores.options().dtype(at::kDouble));
  const auto stream = c10::cuda::getCurrentCUDAStream().stream();
  const int sur = static_cast<int>(C.sur);
  const int64_t *koff = ptr_or_null(C.koff), *nseg = ptr_or_null(C.nseg);
  if (C.use_double)
    cuda::launch_exp_cols<double>(sur, C.k.data_ptr<double>(), C.c.data_ptr<double>(), alpha.data_ptr<double>(), koff,
                                  C.k.numel(), C.z.data_ptr<double>(), C.nidx.data_ptr<int64_t>(), nseg, C.z.numel(),
                                  1.0 / lambda, col.data_ptr<double>(), stream);
  else
    cuda::launch_exp_cols<float>(sur, C.k.data_ptr<float>(), C.c.data_ptr<float>(), alpha.data_ptr<float>(), koff,
                                 C.k.numel(), C.z.data_ptr<float>(), C.nidx.data_ptr<int64_t>(), nseg, C.z.numel(),
                                 static_cast<float>(1.0 / lambda), col.data_ptr<double>(), stream);
  check_launch("partial_auc_exp_cols");
  return exp_output(col.reshape({C.cols, C.n}), scores);
}

// UPAUCI: no host sync. The label check is a device-side assert, n+ and the params stay on the
// device, and the kernels derive the coefficients from n+ themselves.
std::tuple<at::Tensor, at::Tensor, at::Tensor, at::Tensor> partial_auc_upauci_cuda(
    const at::Tensor& scores_in, const at::Tensor& labels_in, const at::Tensor& weights_in, const at::Tensor& params_in,
    double max_fpr, double min_tpr, double omega, bool compute_grad) {
  const c10::cuda::CUDAGuard guard(scores_in.device());
  const UpauciInputs in = check_upauci_inputs(scores_in, labels_in, weights_in, params_in, max_fpr, min_tpr, omega);
  const at::Tensor y8 = binary_labels_async(in.labels);
  const at::Tensor n_pos = y8.sum(at::kLong);
  const int64_t n = in.scores.numel();
  const cuda::UpauciSizes sizes{n_pos.data_ptr<int64_t>(), n, 1.0 - min_tpr, max_fpr, omega, in.two_way};
  const at::Tensor params = params_in.contiguous();
  const bool dbl = in.scores.scalar_type() == at::kDouble;
  const auto ct = dbl ? at::kDouble : at::kFloat;
  const at::Tensor s = in.scores.to(ct), c = in.weights.to(ct);
  at::Tensor gs, gc;
  if (compute_grad) {
    gs = at::empty({n}, s.options());
    gc = at::empty({n}, s.options());
  }
  const auto f64 = params.options();
  at::Tensor ws = at::empty({cuda::upauci_blocks(n) * kUpauciSums}, f64), out = at::empty({1 + kUpauciParams}, f64);
  const auto stream = c10::cuda::getCurrentCUDAStream().stream();
  const int8_t* y = y8.data_ptr<int8_t>();
  if (dbl)
    cuda::launch_upauci<double>(sizes, params.data_ptr<double>(), s.data_ptr<double>(), y, c.data_ptr<double>(), n,
                                compute_grad ? gs.data_ptr<double>() : nullptr,
                                compute_grad ? gc.data_ptr<double>() : nullptr, ws.data_ptr<double>(),
                                out.data_ptr<double>(), stream);
  else
    cuda::launch_upauci<float>(sizes, params.data_ptr<double>(), s.data_ptr<float>(), y, c.data_ptr<float>(), n,
                               compute_grad ? gs.data_ptr<float>() : nullptr,
                               compute_grad ? gc.data_ptr<float>() : nullptr, ws.data_ptr<double>(),
                               out.data_ptr<double>(), stream);
  check_launch("partial_auc_upauci");
  const at::Tensor loss = out[0].to(scores_in.scalar_type());
  if (!compute_grad) {
    // distinct empty outputs: returns must not alias each other
    return {loss, at::empty({0}, in.scores.options()), at::empty({0}, in.scores.options()), at::empty({0}, f64)};
  }
  return {loss, gs.to(scores_in.scalar_type()).view(scores_in.sizes()),
          gc.to(weights_in.scalar_type()).view(weights_in.sizes()), out.slice(0, 1).clone()};
}

}  // namespace

TORCH_LIBRARY_IMPL(torchauc, CUDA, m) {
  m.impl("partial_auc_upauci", &partial_auc_upauci_cuda);
  m.impl("partial_auc_select", &partial_auc_select_cuda);
  m.impl("partial_auc_exp_rows", &partial_auc_exp_rows_cuda);
  m.impl("partial_auc_exp_cols", &partial_auc_exp_cols_cuda);
}

}  // namespace torchauc::partial_auc
