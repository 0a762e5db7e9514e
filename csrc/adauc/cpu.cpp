// CPU kernels of the AdAUC family: the loss in one deterministic reduction pass plus one
// elementwise gradient pass, and the fused PGD step (elementwise for linf, one pass per sample for l2).
#include <ATen/ATen.h>
#include <ATen/Dispatch.h>
#include <ATen/OpMathType.h>
#include <ATen/Parallel.h>
#include <torch/library.h>

#include <array>

#include "adauc/args.h"
#include "adauc/math.h"
#include "core/labels.h"
#include "core/parallel.h"

namespace torchauc::adauc {
namespace {

using Sums = std::array<double, kSums>;

std::tuple<at::Tensor, at::Tensor, at::Tensor, at::Tensor, at::Tensor> adauc_loss_cpu(
    const at::Tensor& scores_in, const at::Tensor& labels_in, const at::Tensor& a_in, const at::Tensor& b_in,
    const at::Tensor& alpha_in, c10::optional<double> imratio, double margin, c10::string_view form_name,
    bool compute_grad) {
  const LossArgs args = check_loss_args(scores_in, labels_in, a_in, b_in, alpha_in, imratio, margin, form_name);
  const at::Tensor& scores = args.scores;
  const BinaryLabels lab = binary_labels(args.labels);
  const int8_t* y = lab.y.data_ptr<int8_t>();
  const int64_t n = scores.numel();
  const double a = a_in.item<double>(), b = b_in.item<double>(), alpha = alpha_in.item<double>();
  at::Tensor grad_s = at::empty({compute_grad ? n : 0}, scores.options());
  AdaucScalars c{};
  AT_DISPATCH_FLOATING_TYPES_AND2(at::kHalf, at::kBFloat16, scores.scalar_type(), "adauc_loss_cpu", [&] {
    const scalar_t* s = scores.data_ptr<scalar_t>();
    const Sums sums = chunked_reduce(
        n, Sums{}, [&](int64_t i, Sums& acc) { adauc_add(static_cast<double>(s[i]), y[i] != 0, a, b, acc.data()); },
        [](Sums x, const Sums& z) {
          for (int k = 0; k < kSums; ++k) x[k] += z[k];
          return x;
        });
    c = adauc_finish(sums.data(), static_cast<double>(n), args.imratio, a, b, alpha, margin, args.form);
    if (compute_grad) {
      scalar_t* g = grad_s.data_ptr<scalar_t>();
      at::parallel_for(0, n, 1 << 14, [&](int64_t lo, int64_t hi) {
        for (int64_t i = lo; i < hi; ++i)
          g[i] = static_cast<scalar_t>(adauc_grad_score(c, static_cast<double>(s[i]), y[i] != 0));
      });
    }
  });
  const auto scalar = [](double v, const at::Tensor& like) { return at::scalar_tensor(v, like.options()); };
  return {scalar(c.loss, scores), compute_grad ? grad_s.view(scores_in.sizes()) : grad_s,
          scalar(c.grad_a, a_in).view(a_in.sizes()), scalar(c.grad_b, b_in).view(b_in.sizes()),
          scalar(c.grad_alpha, alpha_in).view(alpha_in.sizes())};
}

at::Tensor adauc_pgd_step_cpu(const at::Tensor& x_in, const at::Tensor& d_in, const at::Tensor& g_in, double eps,
                              double step, c10::string_view norm_name, double lower, double upper) {
  const Norm norm = check_pgd_args(x_in, d_in, g_in, eps, step, norm_name, lower, upper);
  const at::Tensor x = x_in.contiguous(), d = d_in.contiguous(), g = g_in.contiguous();
  at::Tensor out = at::empty_like(x, at::MemoryFormat::Contiguous);
  const int64_t rows = x.size(0), total = x.numel(), cols = rows ? total / rows : 0;
  AT_DISPATCH_FLOATING_TYPES_AND2(at::kHalf, at::kBFloat16, x.scalar_type(), "adauc_pgd_step_cpu", [&] {
    using T = at::opmath_type<scalar_t>;  // float for 16-bit and float, double for double
    const scalar_t *xp = x.data_ptr<scalar_t>(), *dp = d.data_ptr<scalar_t>(), *gp = g.data_ptr<scalar_t>();
    scalar_t* op = out.data_ptr<scalar_t>();
    const T e = static_cast<T>(eps), st = static_cast<T>(step), lo = static_cast<T>(lower), hi = static_cast<T>(upper);
    if (norm == Norm::Linf) {
      at::parallel_for(0, total, 1 << 14, [&](int64_t b, int64_t end) {
        for (int64_t i = b; i < end; ++i)
          op[i] = static_cast<scalar_t>(linf_step<T>(dp[i], gp[i], xp[i], e, st, lo, hi));
      });
      return;
    }
    at::parallel_for(0, rows, 1, [&](int64_t rb, int64_t re) {
      for (int64_t r = rb; r < re; ++r) {
        const int64_t base = r * cols;
        double gsq = 0.0, dsq = 0.0;
        for (int64_t j = 0; j < cols; ++j) gsq += static_cast<double>(gp[base + j]) * static_cast<double>(gp[base + j]);
        const T denom = static_cast<T>(l2_denom(gsq));
        for (int64_t j = 0; j < cols; ++j) {
          const double v = l2_raw_step<T>(dp[base + j], gp[base + j], denom, st);
          dsq += v * v;
        }
        const T f = static_cast<T>(l2_renorm_factor(dsq, eps));
        for (int64_t j = 0; j < cols; ++j) {
          const T v = l2_raw_step<T>(dp[base + j], gp[base + j], denom, st) * f;
          op[base + j] = static_cast<scalar_t>(range_clamp<T>(v, xp[base + j], lo, hi));
        }
      }
    });
  });
  return out;
}

}  // namespace

TORCH_LIBRARY_IMPL(torchauc, CPU, m) {
  m.impl("adauc_loss", &adauc_loss_cpu);
  m.impl("adauc_pgd_step", &adauc_pgd_step_cpu);
}

}  // namespace torchauc::adauc
