// CPU kernels of the AUC-M family: one deterministic pass for the per-label moments (fixed row
// chunks, combined in order), the per-label epilogue, one elementwise gradient pass. Both passes
// run along a row over the label columns with one array per moment / coefficient, so they vectorise.
#include <ATen/ATen.h>
#include <ATen/Dispatch.h>
#include <ATen/Parallel.h>
#include <torch/library.h>

#include <algorithm>
#include <type_traits>
#include <vector>

#include "aucm/args.h"
#include "aucm/math.h"
#include "core/parallel.h"

namespace torchauc::aucm {
namespace {

constexpr int64_t kMaxChunks = 64;  // bounds the partial sums' memory at 64 x 6 C doubles

// f(scores pointer, labels pointer) with the element types of check_columns' result.
template <typename F>
void dispatch_columns(const Columns& c, const F& f) {
  AT_DISPATCH_FLOATING_TYPES_AND2(at::kHalf, at::kBFloat16, c.scores.scalar_type(), "aucm_cpu", [&] {
    const scalar_t* s = c.scores.data_ptr<scalar_t>();
    if (c.labels.scalar_type() == c.scores.scalar_type())
      f(s, c.labels.data_ptr<scalar_t>());
    else
      f(s, c.labels.data_ptr<double>());
  });
}

// acc (6, cols) += the moments of rows [r0, r1): one array per moment, the inner loop over the
// label columns (contiguous in a row) vectorises.
template <typename T, typename L>
void add_rows(const T* s, const L* y, int64_t r0, int64_t r1, int64_t cols, double* acc) {
  double* __restrict n_pos = acc, * __restrict n_neg = acc + cols, * __restrict s1p = acc + 2 * cols;
  double* __restrict s1n = acc + 3 * cols, * __restrict s2p = acc + 4 * cols, * __restrict s2n = acc + 5 * cols;
  for (int64_t r = r0; r < r1; ++r) {
    const T* __restrict sr = s + r * cols;
    const L* __restrict yr = y + r * cols;
    for (int64_t c = 0; c < cols; ++c)
      aucm_add(static_cast<double>(sr[c]), sides_of(static_cast<double>(yr[c])), n_pos[c], n_neg[c], s1p[c], s1n[c],
               s2p[c], s2n[c]);
  }
}

// out[0 .. 6 C) += the (6, C) moments of the batch.
void add_column_moments(const Columns& col, double* out) {
  const int64_t rows = col.rows, cols = col.cols, width = kMoments * cols;
  const int64_t chunk_rows = std::max({int64_t{1}, kChunk / cols, (rows + kMaxChunks - 1) / kMaxChunks});
  const int64_t nchunks = (rows + chunk_rows - 1) / chunk_rows;
  std::vector<double> part(nchunks * width, 0.0);  // chunk k: its (6, C) moments
  dispatch_columns(col, [&](const auto* s, const auto* y) {
    at::parallel_for(0, nchunks, 1, [&](int64_t kb, int64_t ke) {
      for (int64_t k = kb; k < ke; ++k)
        add_rows(s, y, k * chunk_rows, std::min(rows, (k + 1) * chunk_rows), cols, part.data() + k * width);
    });
  });
  for (int64_t k = 0; k < nchunks; ++k)
    for (int64_t j = 0; j < width; ++j) out[j] += part[k * width + j];
}

// The moments vector of aucm_moments: (6, C) moments, then B.
at::Tensor batch_moments(const Columns& col) {
  at::Tensor out = at::zeros({kMoments * col.cols + 1}, col.scores.options().dtype(at::kDouble));
  double* m = out.data_ptr<double>();
  add_column_moments(col, m);
  m[kMoments * col.cols] = static_cast<double>(col.rows);
  return out;
}

at::Tensor aucm_moments_cpu(const at::Tensor& scores, const at::Tensor& labels) {
  return batch_moments(check_columns(scores, labels));
}

std::tuple<at::Tensor, at::Tensor, at::Tensor, at::Tensor, at::Tensor> aucm_loss_cpu(
    const at::Tensor& scores, const at::Tensor& labels, const at::Tensor& a, const at::Tensor& b,
    const at::Tensor& alpha, const c10::optional<at::Tensor>& prior, const c10::optional<at::Tensor>& weights,
    const c10::optional<at::Tensor>& moments, double margin, c10::string_view version, bool compute_grad) {
  const LossArgs args = check_loss_args(scores, labels, a, b, alpha, prior, weights, moments, margin, version);
  const Columns& col = args.col;
  const int64_t rows = col.rows, cols = col.cols;
  const at::Tensor m = args.moments.defined() ? args.moments : batch_moments(col);
  const double* mp = m.data_ptr<double>();
  const double n = mp[kMoments * cols];
  const double* P = args.params.data_ptr<double>();
  // the gradient's coefficients, one array each (kp, cp, kn, cn, a, b): the gradient pass vectorises
  std::vector<double> coef(6 * cols);
  at::Tensor out = at::empty({1 + 3 * cols}, args.params.options());  // loss, grad_a, grad_b, grad_alpha
  double* gp = out.data_ptr<double>() + 1;
  double loss = 0.0;
  for (int64_t c = 0; c < cols; ++c) {
    const LabelParams q{P[c], P[cols + c], P[2 * cols + c], P[3 * cols + c], P[4 * cols + c]};
    const auto at_ = [&](int j) { return mp[j * cols + c]; };
    const LabelResult r =
        aucm_finish(at_(0), at_(1), at_(2), at_(3), at_(4), at_(5), n, q, margin, args.v2, args.batch_prior);
    loss += r.loss;
    gp[c] = r.grad_a;
    gp[cols + c] = r.grad_b;
    gp[2 * cols + c] = r.grad_alpha;
    const double row[6] = {r.kp, r.cp, r.kn, r.cn, r.a, r.b};
    for (int j = 0; j < 6; ++j) coef[j * cols + c] = row[j];
  }
  out.data_ptr<double>()[0] = loss;
  at::Tensor grad_s = at::empty({compute_grad ? rows * cols : 0}, col.scores.options());
  if (compute_grad) {
    dispatch_columns(col, [&](const auto* s, const auto* y) {
      using T = std::remove_const_t<std::remove_pointer_t<decltype(s)>>;
      T* g = grad_s.data_ptr<T>();
      const double *kp = coef.data(), *cp = kp + cols, *kn = cp + cols, *cn = kn + cols, *A = cn + cols, *B = A + cols;
      const int64_t grain = std::max<int64_t>(1, (int64_t{1} << 14) / cols);
      at::parallel_for(0, rows, grain, [&](int64_t rb, int64_t re) {
        for (int64_t r = rb; r < re; ++r) {
          const auto* __restrict sr = s + r * cols;
          const auto* __restrict yr = y + r * cols;
          T* __restrict gr = g + r * cols;
          for (int64_t c = 0; c < cols; ++c)
            gr[c] = static_cast<T>(aucm_grad(static_cast<double>(sr[c]), sides_of(static_cast<double>(yr[c])), kp[c],
                                             cp[c], kn[c], cn[c], A[c], B[c]));
        }
      });
    });
  }
  return loss_outputs(out, grad_s, scores, a, b, alpha, compute_grad);
}

}  // namespace

TORCH_LIBRARY_IMPL(torchauc, CPU, m) {
  m.impl("aucm_moments", &aucm_moments_cpu);
  m.impl("aucm_loss", &aucm_loss_cpu);
}

}  // namespace torchauc::aucm
