// CPU kernel of autkc_loss_rows: rows in parallel, each through loss_math.h's autkc_row with a
// per-thread scratch row (float exp on the host is fast_math.h's vectorisable polynomial).
#include <ATen/ATen.h>
#include <ATen/Parallel.h>
#include <torch/library.h>

#include <type_traits>
#include <vector>

#include "autkc/args.h"
#include "autkc/loss_math.h"

namespace torchauc::autkc {
namespace {

template <typename T, typename Acc>
void loss_rows(const LossInputs& li, int64_t k, int64_t m, T* loss, T* grad) {
  const int64_t C = li.in.C;
  const T* x = li.in.scores.template data_ptr<T>();
  const int32_t* y = li.in.labels.template data_ptr<int32_t>();
  const auto sur = static_cast<Surrogate>(li.surrogate);
  at::parallel_for(0, li.in.B, std::max<int64_t>(1, (1 << 14) / std::max<int64_t>(C, 1)), [&](int64_t b0, int64_t b1) {
    std::vector<Acc> p(C);
    std::vector<double> vals(m), g(m + 1);
    std::vector<int64_t> cols(m);
    for (int64_t b = b0; b < b1; ++b) {
      const T* xr = x + b * C;
      T* gr = grad ? grad + b * C : nullptr;
      const auto load = [xr](int64_t j) { return static_cast<Acc>(xr[j]); };
      const auto store = [gr](int64_t j, double v) { gr[j] = static_cast<T>(v); };
      loss[b] = static_cast<T>(
          autkc_row(load, C, y[b], m, k, sur, gr != nullptr, store, p.data(), vals.data(), cols.data(), g.data()));
    }
  });
}

std::tuple<at::Tensor, at::Tensor> autkc_loss_rows_cpu(const at::Tensor& logits, const at::Tensor& labels, int64_t k,
                                                       int64_t m, c10::string_view surrogate, bool compute_grad) {
  const LossInputs li = check_loss(logits, labels, k, m, surrogate);
  const auto opts = li.in.scores.options();
  at::Tensor loss = at::empty({li.in.B}, opts);
  at::Tensor grad = at::empty({compute_grad ? li.in.B : 0, li.in.C}, opts);
  if (li.in.B == 0) return {loss, grad};
  AT_DISPATCH_FLOATING_TYPES_AND2(at::kHalf, at::kBFloat16, li.in.scores.scalar_type(), "autkc_loss_rows", [&] {
    using Acc = std::conditional_t<std::is_same_v<scalar_t, double>, double, float>;
    loss_rows<scalar_t, Acc>(li, k, m, loss.data_ptr<scalar_t>(), compute_grad ? grad.data_ptr<scalar_t>() : nullptr);
  });
  return {loss, grad};
}

}  // namespace

TORCH_LIBRARY_IMPL(torchauc, CPU, m) { m.impl("autkc_loss_rows", &autkc_loss_rows_cpu); }

}  // namespace torchauc::autkc
