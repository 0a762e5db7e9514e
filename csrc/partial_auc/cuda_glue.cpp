// CUDA glue of the partial-AUC family: checks, counts and allocation in ATen, kernels in cuda.cu.
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

// partial_auc_exp_rows / exp_cols: no host sync. The label check is a device-side assert and both
// classes are compacted into buffers of all C * n elements by a prefix count (cuda.h ExpClasses), so
// no class size is read on the host; the kernels read the counts from the offsets.
struct DeviceClasses {
  at::Tensor y, pos_scan, s;              // (C * n) 0/1 labels, their inclusive prefix count; (C, n) float64 scores
  at::Tensor koff, zoff, nan, zmax;       // per problem: ExpClasses' offsets and NaN flags, its largest negative
  at::Tensor k, c, z, alpha, pidx, nidx;  // the compacted buffers, C * n each (cuda.h ExpClasses)
  Surrogate sur;
  bool use_double;
  int64_t cols, n;
};

DeviceClasses device_classes(const ExpInputs& in, bool with_alpha) {
  DeviceClasses D;
  D.sur = in.sur;
  D.use_double = in.scores.scalar_type() == at::kDouble;
  D.cols = in.cols;
  D.n = in.n;
  const int64_t total = in.cols * in.n;
  D.y = binary_labels_async(in.labels);
  D.s = in.scores.to(at::kDouble).contiguous();  // (C, n)
  const at::Tensor grid = D.y.view({in.cols, in.n});
  const auto lng = D.s.options().dtype(at::kLong);
  D.koff = at::cat({at::zeros({1}, lng), at::cumsum(grid.sum(1, /*keepdim=*/false, at::kLong), 0)});
  D.zoff = at::arange(in.cols + 1, lng) * in.n - D.koff;
  D.nan = at::isnan(D.s).any(1);
  // per-problem largest negative (-inf without negatives; the shift is then 0, as on the CPU)
  D.zmax = at::where(grid.to(at::kBool), -INFINITY, D.s).amax(1).contiguous();
  D.pos_scan = at::cumsum(D.y, 0, at::kLong);
  const auto T = D.use_double ? at::kDouble : at::kFloat;
  const auto topt = D.s.options().dtype(T);
  D.k = at::empty({total}, topt);
  D.c = at::empty({total}, topt);
  D.z = at::empty({total}, topt);
  if (with_alpha) D.alpha = at::empty({total}, topt);
  D.pidx = at::empty({total}, lng);
  D.nidx = at::empty({total}, lng);
  return D;
}

template <typename T>
cuda::ExpClasses<T> view_of(const DeviceClasses& D) {
  return {D.k.data_ptr<T>(),
          D.c.data_ptr<T>(),
          D.z.data_ptr<T>(),
          D.alpha.defined() ? D.alpha.data_ptr<T>() : nullptr,
          D.pidx.data_ptr<int64_t>(),
          D.nidx.data_ptr<int64_t>(),
          D.koff.data_ptr<int64_t>(),
          D.zoff.data_ptr<int64_t>(),
          D.nan.data_ptr<bool>(),
          D.cols,
          D.n};
}

template <typename T>
cuda::ExpClasses<T> compact(const DeviceClasses& D, const at::Tensor& row_scale, double margin, double lambda,
                            cudaStream_t stream) {
  const cuda::ExpClasses<T> e = view_of<T>(D);
  cuda::launch_exp_compact<T>(e, static_cast<int>(D.sur), D.s.data_ptr<double>(), D.y.data_ptr<int8_t>(),
                              D.pos_scan.data_ptr<int64_t>(), D.zmax.data_ptr<double>(),
                              row_scale.defined() ? row_scale.data_ptr<double>() : nullptr, margin, 1.0 / lambda,
                              stream);
  return e;
}

template <typename T>
void exp_rows_typed(const DeviceClasses& D, double margin, double lambda, at::Tensor* out, cudaStream_t stream) {
  const cuda::ExpClasses<T> e = compact<T>(D, at::Tensor(), margin, lambda, stream);
  cuda::launch_exp_rows<T>(e, static_cast<int>(D.sur), static_cast<T>(1.0 / lambda), out[0].data_ptr<double>(),
                           out[1].data_ptr<double>(), out[2].data_ptr<double>(), out[3].data_ptr<double>(), stream);
}

template <typename T>
void exp_cols_typed(const DeviceClasses& D, const at::Tensor& row_scale, double margin, double lambda, at::Tensor& out,
                    cudaStream_t stream) {
  const cuda::ExpClasses<T> e = compact<T>(D, row_scale, margin, lambda, stream);
  cuda::launch_exp_cols<T>(e, static_cast<int>(D.sur), static_cast<T>(1.0 / lambda), out.data_ptr<double>(), stream);
}

std::tuple<at::Tensor, at::Tensor, at::Tensor, at::Tensor> partial_auc_exp_rows_cuda(const at::Tensor& scores,
                                                                                     const at::Tensor& labels,
                                                                                     double margin, double lambda,
                                                                                     c10::string_view surrogate) {
  const c10::cuda::CUDAGuard guard(scores.device());
  const ExpInputs in = check_exp_inputs(scores, labels, margin, lambda, surrogate);
  const auto opts = scores.options().dtype(at::kDouble);
  at::Tensor out[4];
  for (at::Tensor& t : out) t = at::zeros({in.cols, in.n}, opts);
  if (in.cols * in.n > 0) {
    const DeviceClasses D = device_classes(in, /*with_alpha=*/false);
    const auto stream = c10::cuda::getCurrentCUDAStream().stream();
    if (D.use_double)
      exp_rows_typed<double>(D, margin, lambda, out, stream);
    else
      exp_rows_typed<float>(D, margin, lambda, out, stream);
    check_launch("partial_auc_exp_rows");
  }
  return {exp_output(out[0], scores), exp_output(out[1], scores), exp_output(out[2], scores),
          exp_output(out[3], scores)};
}

at::Tensor partial_auc_exp_cols_cuda(const at::Tensor& scores, const at::Tensor& labels, const at::Tensor& row_scale,
                                     double margin, double lambda, c10::string_view surrogate) {
  const c10::cuda::CUDAGuard guard(scores.device());
  const ExpInputs in = check_exp_inputs(scores, labels, margin, lambda, surrogate);
  const at::Tensor rs = check_exp_row_scale(row_scale, scores).reshape({-1});
  at::Tensor col = at::zeros({in.cols, in.n}, scores.options().dtype(at::kDouble));
  if (in.cols * in.n > 0) {
    const DeviceClasses D = device_classes(in, /*with_alpha=*/true);
    const auto stream = c10::cuda::getCurrentCUDAStream().stream();
    if (D.use_double)
      exp_cols_typed<double>(D, rs, margin, lambda, col, stream);
    else
      exp_cols_typed<float>(D, rs, margin, lambda, col, stream);
    check_launch("partial_auc_exp_cols");
  }
  return exp_output(col, scores);
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
