// CPU kernel of autkc_loss_rows: rows in parallel, each through loss_math.h's autkc_row with a
// per-thread scratch row (float exp on the host is fast_math.h's vectorisable polynomial), in an AVX2 + FMA
// or a baseline build of the row (core/cpu_isa.h picks; TORCHAUC_CPU_ISA=base caps it).
#include <ATen/ATen.h>
#include <ATen/Parallel.h>
#include <torch/library.h>

#include <type_traits>
#include <vector>

#include "autkc/args.h"
#include "autkc/loss_math.h"
#include "core/cpu_isa.h"

namespace torchauc::autkc {
namespace {

template <typename T>
struct Rows {
  const T* x;
  const int32_t* y;
  int64_t C, k, m;
  Surrogate sur;
  T* loss;
  T* grad;                  // null: no gradient
  double grad_scale = 1.0;  // d loss / d loss_b (1 / B for the mean): folded into the row's store
};

// Rows [b0, b1) through autkc_row; p, vals, cols, g: the row's scratch (C, m, m, m + 1).
template <typename T, typename Acc>
inline void rows_block(const Rows<T>& r, int64_t b0, int64_t b1, Acc* p, double* vals, int64_t* cols, double* g) {
  for (int64_t b = b0; b < b1; ++b) {
    const T* xr = r.x + b * r.C;
    T* gr = r.grad ? r.grad + b * r.C : nullptr;
    const auto load = [xr](int64_t j) { return static_cast<Acc>(xr[j]); };
    const auto store = [gr, s = static_cast<Acc>(r.grad_scale)](int64_t j, double v) {
      gr[j] = static_cast<T>(reduced_grad(v, s));
    };
    r.loss[b] = static_cast<T>(autkc_row(load, r.C, r.y[b], r.m, r.k, r.sur, gr != nullptr, store, p, vals, cols, g));
  }
}

// rows_block for AVX2 + FMA: flatten inlines the row's passes into it, so they take its instruction set
// (row_topk_screen stays out of line, baseline: its vectors are SSE-sized by design). It serves AVX-512 CPUs
// too: a whole-row AVX-512 build measured slower (0.46-0.50 against 0.31-0.33 us a top-k cross entropy row,
// C = 100). The baseline calls rows_block as it is (flattened, the long rows' scan got slower). FMA
// contraction moves float results within rounding (the exp polynomial stays within 3 ulp, checked over every
// float of [0, 87)).
template <typename T, typename Acc>
__attribute__((flatten, target("avx2,fma"))) void rows_block_avx2(const Rows<T>& r, int64_t b0, int64_t b1, Acc* p,
                                                                  double* vals, int64_t* cols, double* g) {
  rows_block(r, b0, b1, p, vals, cols, g);
}

// The rows' losses into `loss` (B,) and their gradients, scaled by li.grad_scale(), into `grad`.
template <typename T, typename Acc>
void loss_rows(const LossInputs& li, int64_t k, int64_t m, T* loss, T* grad) {
  const Rows<T> r{li.in.scores.template data_ptr<T>(),
                  li.in.labels.template data_ptr<int32_t>(),
                  li.in.C,
                  k,
                  m,
                  static_cast<Surrogate>(li.surrogate),
                  loss,
                  grad,
                  li.grad_scale()};
  const bool avx2 = cpu_isa() != CpuIsa::Base;
  at::parallel_for(0, li.in.B, std::max<int64_t>(1, (1 << 14) / std::max<int64_t>(r.C, 1)),
                   [&](int64_t b0, int64_t b1) {
                     std::vector<Acc> p(r.C);
                     std::vector<double> vals(m), g(m + 1);
                     std::vector<int64_t> cols(m);
                     if (avx2)
                       rows_block_avx2(r, b0, b1, p.data(), vals.data(), cols.data(), g.data());
                     else
                       rows_block(r, b0, b1, p.data(), vals.data(), cols.data(), g.data());
                   });
}

std::tuple<at::Tensor, at::Tensor> autkc_loss_rows_cpu(const at::Tensor& logits, const at::Tensor& labels, int64_t k,
                                                       int64_t m, c10::string_view surrogate, bool compute_grad,
                                                       c10::string_view reduction) {
  const LossInputs li = check_loss(logits, labels, k, m, surrogate, reduction);
  const int64_t B = li.in.B;
  const auto opts = li.in.scores.options();
  at::Tensor loss = at::empty(li.loss_shape(), opts);
  at::Tensor grad = at::empty({compute_grad ? B : 0, li.in.C}, opts);
  AT_DISPATCH_FLOATING_TYPES_AND2(at::kHalf, at::kBFloat16, li.in.scores.scalar_type(), "autkc_loss_rows", [&] {
    using Acc = std::conditional_t<std::is_same_v<scalar_t, double>, double, float>;
    const bool reduce = li.reduction != Reduction::None;
    std::vector<scalar_t> rows(reduce ? B : 0);
    scalar_t* out = reduce ? rows.data() : loss.data_ptr<scalar_t>();
    if (B > 0) loss_rows<scalar_t, Acc>(li, k, m, out, compute_grad ? grad.data_ptr<scalar_t>() : nullptr);
    if (!reduce) return;
    // In order, in float64: deterministic for any thread count (the mean of no rows is NaN, as Tensor.mean's).
    double sum = 0.0;
    for (int64_t b = 0; b < B; ++b) sum += static_cast<double>(rows[b]);
    *loss.data_ptr<scalar_t>() =
        static_cast<scalar_t>(li.reduction == Reduction::Mean ? sum / static_cast<double>(B) : sum);
  });
  return {loss, grad};
}

}  // namespace

TORCH_LIBRARY_IMPL(torchauc, CPU, m) { m.impl("autkc_loss_rows", &autkc_loss_rows_cpu); }

}  // namespace torchauc::autkc
