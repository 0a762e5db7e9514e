// CPU kernel of partial_auc_upauci: after the label pass (which counts the positives), one
// parallel pass writes the per-sample gradients and collects the ten class sums of math.h in fixed
// chunks (combined in chunk order, so the result does not depend on the thread count); the epilogue
// gives the loss and the scalar gradients. O(n), no sort.
#include <ATen/ATen.h>
#include <ATen/Dispatch.h>
#include <ATen/Parallel.h>
#include <torch/library.h>

#include <algorithm>
#include <array>
#include <vector>

#include "core/checks.h"
#include "core/labels.h"
#include "partial_auc/args.h"
#include "partial_auc/math.h"

namespace torchauc::partial_auc {
namespace {

constexpr int64_t kChunk = 1 << 15;
using Sums = std::array<double, kUpauciSums>;

template <typename T>
Sums upauci_pass(const UpauciCoef& k, const double* p, const T* s, const int8_t* y, const T* c, int64_t n, T* gs,
                 T* gc) {
  const int64_t nchunks = (n + kChunk - 1) / kChunk;
  std::vector<Sums> part(nchunks, Sums{});
  at::parallel_for(0, nchunks, 1, [&](int64_t cb, int64_t ce) {
    for (int64_t ch = cb; ch < ce; ++ch) {
      Sums acc{};
      const int64_t end = std::min(n, (ch + 1) * kChunk);
      for (int64_t i = ch * kChunk; i < end; ++i) {
        double df, dc;
        upauci_sample<double>(k, p, static_cast<double>(s[i]), y[i] != 0, static_cast<double>(c[i]), acc.data(), &df,
                              &dc);
        if (gs) {
          gs[i] = static_cast<T>(df);
          gc[i] = static_cast<T>(dc);
        }
      }
      part[ch] = acc;
    }
  });
  Sums total{};
  for (const Sums& q : part)
    for (int j = 0; j < kUpauciSums; ++j) total[j] += q[j];
  return total;
}

std::tuple<at::Tensor, at::Tensor, at::Tensor, at::Tensor> partial_auc_upauci_cpu(
    const at::Tensor& scores_in, const at::Tensor& labels_in, const at::Tensor& weights_in, const at::Tensor& params_in,
    double max_fpr, double min_tpr, double omega, bool compute_grad) {
  const UpauciInputs in = check_upauci_inputs(scores_in, labels_in, weights_in, params_in, max_fpr, min_tpr, omega);
  const BinaryLabels lab = binary_labels(in.labels);
  const int64_t n = in.scores.numel();
  const UpauciCoef k = upauci_coef(lab.n_pos, n - lab.n_pos, 1.0 - min_tpr, max_fpr, omega, in.two_way);
  const at::Tensor params = params_in.contiguous();
  const double* p = params.data_ptr<double>();
  // float and double kernels; 16-bit inputs go through float
  const auto ct = in.scores.scalar_type() == at::kDouble ? at::kDouble : at::kFloat;
  const at::Tensor s = in.scores.to(ct), c = in.weights.to(ct);
  at::Tensor gs, gc;
  if (compute_grad) {
    gs = at::empty({n}, s.options());
    gc = at::empty({n}, s.options());
  }
  Sums S;
  AT_DISPATCH_FLOATING_TYPES(ct, "partial_auc_upauci", [&] {
    S = upauci_pass<scalar_t>(k, p, s.data_ptr<scalar_t>(), lab.y.data_ptr<int8_t>(), c.data_ptr<scalar_t>(), n,
                              compute_grad ? gs.data_ptr<scalar_t>() : nullptr,
                              compute_grad ? gc.data_ptr<scalar_t>() : nullptr);
  });
  double loss;
  at::Tensor gp = at::zeros({kUpauciParams}, params.options());
  upauci_epilogue(k, S.data(), p, omega, &loss, gp.data_ptr<double>());
  const at::Tensor out = at::scalar_tensor(loss, in.scores.options());
  if (!compute_grad) {
    // distinct empty outputs: returns must not alias each other
    return {out, at::empty({0}, in.scores.options()), at::empty({0}, in.scores.options()),
            at::empty({0}, params.options())};
  }
  return {out, gs.to(scores_in.scalar_type()).view(scores_in.sizes()),
          gc.to(weights_in.scalar_type()).view(weights_in.sizes()), gp};
}

}  // namespace

TORCH_LIBRARY_IMPL(torchauc, CPU, m) { m.impl("partial_auc_upauci", &partial_auc_upauci_cpu); }

}  // namespace torchauc::partial_auc
