// CUDA glue of the AUROC metric ops: argument checks, label validation (ATen ops on the device, one
// sync to report a bad value), scratch allocation from the caching allocator, kernel launch.
#include "core/cuda_glue.h"

#include <ATen/ATen.h>
#include <c10/cuda/CUDAGuard.h>
#include <c10/cuda/CUDAStream.h>
#include <torch/library.h>

#include <limits>
#include <vector>

#include "auroc/args.h"
#include "auroc/cuda.h"
#include "auroc/math.h"
#include "core/checks.h"
#include "core/labels.h"

namespace torchauc::auroc {
namespace {

struct TorchScratch final : cuda::ScratchAllocator {
  explicit TorchScratch(const at::Tensor& like) : opts(like.options().dtype(at::kByte)) {}
  void* allocate(size_t bytes) override {
    bufs.push_back(at::empty({static_cast<int64_t>(bytes) + 16}, opts));
    return bufs.back().data_ptr();
  }
  void release_all() override { bufs.clear(); }
  at::TensorOptions opts;
  std::vector<at::Tensor> bufs;
};

bool deterministic() { return at::globalContext().deterministicAlgorithms(); }

at::Tensor auroc_binary_stats_cuda(const at::Tensor& scores_in, const at::Tensor& labels_in,
                                   const c10::optional<at::Tensor>& weights) {
  c10::cuda::CUDAGuard guard(scores_in.device());
  const BinaryColumns in = check_binary_columns(scores_in, labels_in);
  check_no_nan(in.scores);
  const at::Tensor y8 = binary_labels(in.labels).y;
  const at::Tensor w = weights_f64(weights, in.scores.select(1, 0), "sample_weights");
  const auto f64 = in.scores.options().dtype(at::kDouble);
  at::Tensor U = at::zeros({in.cols, 2}, f64), W = at::zeros({in.cols, 2}, f64);
  TorchScratch scratch(in.scores);
  cuda::RankTableArgs a{in.scores.data_ptr(),
                        dtype_of(in.scores, "scores"),
                        in.n,
                        in.cols,
                        1,
                        2,
                        y8.data_ptr<int8_t>(),
                        nullptr,
                        w.defined() ? w.data_ptr<double>() : nullptr,
                        U.data_ptr<double>(),
                        W.data_ptr<double>(),
                        deterministic()};
  check_cuda(cuda::auroc_rank_table(a, scratch, c10::cuda::getCurrentCUDAStream().stream()), "auroc_binary_stats");
  return at::stack({U.select(1, 0), W.select(1, 1), W.select(1, 0)}, 1);
}

std::tuple<at::Tensor, at::Tensor> auroc_multiclass_stats_cuda(const at::Tensor& scores_in, const at::Tensor& labels_in,
                                                               const c10::optional<at::Tensor>& weights,
                                                               int64_t ignore_index) {
  c10::cuda::CUDAGuard guard(scores_in.device());
  const MulticlassLayout in = check_multiclass_layout(scores_in, labels_in);
  check_no_nan(in.scores);
  const at::Tensor cls = class_labels(in.labels, in.C, ignore_index);
  const at::Tensor w = weights_f64(weights, in.labels, "sample_weights");
  const auto f64 = in.scores.options().dtype(at::kDouble);
  at::Tensor U = at::zeros({in.C, in.C}, f64), W = at::zeros({in.C, in.C}, f64);
  TorchScratch scratch(in.scores);
  cuda::RankTableArgs a{in.scores.data_ptr(),
                        dtype_of(in.scores, "scores"),
                        in.n,
                        in.C,
                        in.M,
                        in.C,
                        nullptr,
                        cls.data_ptr<int32_t>(),
                        w.defined() ? w.data_ptr<double>() : nullptr,
                        U.data_ptr<double>(),
                        W.data_ptr<double>(),
                        deterministic()};
  check_cuda(cuda::auroc_rank_table(a, scratch, c10::cuda::getCurrentCUDAStream().stream()), "auroc_multiclass_stats");
  return {U, W.select(0, 0).clone()};
}

// Two-way partial AUC: top-k selection of the kept positives and negatives (ATen), then the rank
// table of the scores with the keep mask as sample weights (U over kept pairs only).
at::Tensor auroc_partial_stats_cuda(const at::Tensor& scores_in, const at::Tensor& labels_in, double max_fpr,
                                    double min_tpr) {
  c10::cuda::CUDAGuard guard(scores_in.device());
  check_partial_bounds(max_fpr, min_tpr, /*allow_empty=*/false);
  const at::Tensor s = check_binary_scores(scores_in);
  check_no_nan(s);
  const at::Tensor y8 = binary_labels(check_binary_labels(labels_in, s)).y;
  const at::Tensor pos = y8.nonzero().select(1, 0), neg = y8.eq(0).nonzero().select(1, 0);
  const int64_t npos = pos.numel(), nneg = neg.numel();
  const int64_t kpos = kept_count(1.0 - min_tpr, npos), kneg = kept_count(max_fpr, nneg);
  at::Tensor keep = at::zeros({s.numel()}, s.options().dtype(at::kDouble));
  keep.index_fill_(0, pos.index_select(0, std::get<1>(s.index_select(0, pos).topk(kpos, 0, false))), 1.0);
  keep.index_fill_(0, neg.index_select(0, std::get<1>(s.index_select(0, neg).topk(kneg, 0, true))), 1.0);
  const at::Tensor st = auroc_binary_stats_cuda(s, y8, keep);
  return at::cat(
      {st.select(1, 0), at::tensor({double(kpos), double(kneg), double(npos), double(nneg)}, keep.options())});
}

at::Tensor auroc_partial_area_cuda(const at::Tensor& scores_in, const at::Tensor& labels_in,
                                   const c10::optional<at::Tensor>& weights, double max_fpr) {
  c10::cuda::CUDAGuard guard(scores_in.device());
  check_partial_bounds(max_fpr, 0.0, /*allow_empty=*/false);
  const at::Tensor s = check_binary_scores(scores_in);
  check_no_nan(s);
  const at::Tensor y8 = binary_labels(check_binary_labels(labels_in, s)).y;
  const at::Tensor w = weights_f64(weights, s, "sample_weights");
  at::Tensor out = at::zeros({3}, s.options().dtype(at::kDouble));
  TorchScratch scratch(s);
  double* o = out.data_ptr<double>();
  check_cuda(cuda::auroc_partial_area(s.data_ptr(), dtype_of(s, "scores"), s.numel(), y8.data_ptr<int8_t>(),
                                      w.defined() ? w.data_ptr<double>() : nullptr, max_fpr, o, o + 1, scratch,
                                      c10::cuda::getCurrentCUDAStream().stream()),
             "auroc_partial_area");
  const at::Tensor undefined = out.narrow(0, 1, 2).eq(0).any();
  out.narrow(0, 0, 1).masked_fill_(undefined, std::numeric_limits<double>::quiet_NaN());
  return out;
}

at::Tensor auroc_average_precision_cuda(const at::Tensor& scores_in, const at::Tensor& labels_in,
                                        const c10::optional<at::Tensor>& weights) {
  c10::cuda::CUDAGuard guard(scores_in.device());
  const BinaryColumns in = check_binary_columns(scores_in, labels_in);
  check_no_nan(in.scores);
  const at::Tensor y8 = binary_labels(in.labels).y;
  const at::Tensor w = weights_f64(weights, in.scores.select(1, 0), "sample_weights");
  at::Tensor out = at::zeros({in.cols, 3}, in.scores.options().dtype(at::kDouble));
  TorchScratch scratch(in.scores);
  check_cuda(cuda::auroc_average_precision(in.scores.data_ptr(), dtype_of(in.scores, "scores"), in.n, in.cols,
                                           y8.data_ptr<int8_t>(), w.defined() ? w.data_ptr<double>() : nullptr,
                                           out.data_ptr<double>(), scratch, c10::cuda::getCurrentCUDAStream().stream()),
             "auroc_average_precision");
  return out;
}

}  // namespace

TORCH_LIBRARY_IMPL(torchauc, CUDA, m) {
  m.impl("auroc_average_precision", &auroc_average_precision_cuda);
  m.impl("auroc_binary_stats", &auroc_binary_stats_cuda);
  m.impl("auroc_multiclass_stats", &auroc_multiclass_stats_cuda);
  m.impl("auroc_partial_stats", &auroc_partial_stats_cuda);
  m.impl("auroc_partial_area", &auroc_partial_area_cuda);
}

}  // namespace torchauc::auroc
