// CPU kernel of autkc_topk: one row per task (at::parallel_for), the shared insertion of math.h.
#include <ATen/ATen.h>
#include <ATen/Parallel.h>
#include <torch/library.h>

#include <vector>

#include "autkc/args.h"
#include "autkc/math.h"

namespace torchauc::autkc {
namespace {

at::Tensor autkc_topk_cpu(const at::Tensor& scores, const at::Tensor& labels, int64_t k, double margin,
                          bool include_label) {
  const TopkInputs in = check_topk(scores, labels, k, include_label);
  at::Tensor out = at::empty({in.B, k}, in.scores.options().dtype(at::kLong));
  if (in.B == 0 || k == 0) return out;
  const int32_t* y = in.labels.data_ptr<int32_t>();
  int64_t* o = out.data_ptr<int64_t>();
  const int64_t C = in.C;
  AT_DISPATCH_FLOATING_TYPES_AND2(at::kHalf, at::kBFloat16, in.scores.scalar_type(), "autkc_topk", [&] {
    const scalar_t* s = in.scores.data_ptr<scalar_t>();
    at::parallel_for(0, in.B, std::max<int64_t>(1, (1 << 14) / std::max<int64_t>(C, 1)), [&](int64_t b0, int64_t b1) {
      std::vector<double> vals(k);
      for (int64_t b = b0; b < b1; ++b) {
        const scalar_t* row = s + b * C;
        row_topk([row](int64_t j) { return static_cast<double>(row[j]); }, C, y[b], k, margin, include_label,
                 vals.data(), o + b * k);
      }
    });
  });
  return out;
}

}  // namespace

TORCH_LIBRARY_IMPL(torchauc, CPU, m) { m.impl("autkc_topk", &autkc_topk_cpu); }

}  // namespace torchauc::autkc
