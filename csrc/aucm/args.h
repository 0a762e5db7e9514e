// Argument checks of the AUC-M ops, shared by the CPU kernels and the CUDA glue.
#pragma once
#include <ATen/ATen.h>

#include <cmath>
#include <string>
#include <string_view>

#include "aucm/math.h"

namespace torchauc::aucm {

// (B, C) scores and labels, contiguous; labels of the scores' dtype or else double (exact for any
// real or bool label, so `y == 1` / `y == 0` mean what they mean in the labels' own dtype).
struct Columns {
  at::Tensor scores, labels;
  int64_t rows = 0, cols = 0;
};

inline Columns check_columns(const at::Tensor& scores, const at::Tensor& labels) {
  TORCH_CHECK(at::isFloatingType(scores.scalar_type()), "scores must be a floating point tensor, got ",
              scores.scalar_type());
  TORCH_CHECK_VALUE(scores.dim() == 2, "scores must have shape (B, C), got ", scores.sizes());
  TORCH_CHECK_VALUE(scores.size(1) > 0, "scores must have at least one label column, got ", scores.sizes());
  TORCH_CHECK_VALUE(labels.sizes() == scores.sizes(), "labels must have the shape of scores ", scores.sizes(), ", got ",
                    labels.sizes());
  TORCH_CHECK_VALUE(labels.device() == scores.device(), "labels must be on the scores' device ", scores.device(),
                    ", got ", labels.device());
  TORCH_CHECK(!labels.is_complex(), "labels must be real or bool, got ", labels.scalar_type());
  Columns c{scores.contiguous(), labels, scores.size(0), scores.size(1)};
  if (labels.scalar_type() != scores.scalar_type()) c.labels = labels.to(at::kDouble);
  c.labels = c.labels.contiguous();
  return c;
}

// a, b, alpha, prior, weights: a floating tensor with one entry per label on the scores' device.
inline void check_per_label(const at::Tensor& t, const Columns& c, const char* name) {
  TORCH_CHECK(at::isFloatingType(t.scalar_type()), name, " must be a floating point tensor, got ", t.scalar_type());
  TORCH_CHECK_VALUE(t.numel() == c.cols, name, " must have one entry per label (", c.cols, "), got shape ", t.sizes());
  TORCH_CHECK_VALUE(t.device() == c.scores.device(), name, " must be on the scores' device ", c.scores.device(),
                    ", got ", t.device());
}

inline bool parse_version(std::string_view version) {
  if (version == "v1") return false;
  if (version == "v2") return true;
  TORCH_CHECK_VALUE(false, "version must be 'v1' or 'v2', got '", std::string(version), "'");
}

struct LossArgs {
  Columns col;
  at::Tensor params;   // (5, C) double on the scores' device: a, b, alpha, p, w (LabelParams)
  at::Tensor moments;  // undefined, or (6 C + 1) double: the (6, C) moments then n
  bool v2 = false, batch_prior = true;
};

inline LossArgs check_loss_args(const at::Tensor& scores, const at::Tensor& labels, const at::Tensor& a,
                                const at::Tensor& b, const at::Tensor& alpha, const c10::optional<at::Tensor>& prior,
                                const c10::optional<at::Tensor>& weights, const c10::optional<at::Tensor>& moments,
                                double margin, std::string_view version) {
  LossArgs r{check_columns(scores, labels)};
  r.v2 = parse_version(version);
  TORCH_CHECK_VALUE(std::isfinite(margin), "margin must be finite, got ", margin);
  check_per_label(a, r.col, "a");
  check_per_label(b, r.col, "b");
  check_per_label(alpha, r.col, "alpha");
  r.params = at::empty({5, r.col.cols}, r.col.scores.options().dtype(at::kDouble));
  r.params[0].copy_(a.reshape(-1));
  r.params[1].copy_(b.reshape(-1));
  r.params[2].copy_(alpha.reshape(-1));
  if (prior.has_value()) {
    TORCH_CHECK_VALUE(!r.v2, "prior must be None with version 'v2' (v2 has no class prior)");
    check_per_label(*prior, r.col, "prior");
    r.params[3].copy_(prior->reshape(-1));
    r.batch_prior = false;
  }
  if (weights.has_value()) {
    check_per_label(*weights, r.col, "weights");
    r.params[4].copy_(weights->reshape(-1));
  } else {
    r.params[4].fill_(1.0 / static_cast<double>(r.col.cols));
  }
  if (moments.has_value()) {
    const at::Tensor& m = *moments;
    TORCH_CHECK(at::isFloatingType(m.scalar_type()), "moments must be a floating point tensor, got ", m.scalar_type());
    TORCH_CHECK_VALUE(m.dim() == 1 && m.numel() == kMoments * r.col.cols + 1, "moments must have shape (6 C + 1,) = (",
                      kMoments * r.col.cols + 1, ",), got ", m.sizes());
    TORCH_CHECK_VALUE(m.device() == scores.device(), "moments must be on the scores' device ", scores.device(),
                      ", got ", m.device());
    r.moments = m.to(at::kDouble).contiguous();
  } else {
    TORCH_CHECK_VALUE(r.col.rows > 0, "scores must not be empty (the loss is a mean over the batch)");
  }
  return r;
}

// The dtype of the loss: that of the scores and the parameters together.
inline at::ScalarType loss_dtype(const at::Tensor& scores, const at::Tensor& a) {
  return at::promote_types(scores.scalar_type(), a.scalar_type());
}

// The op's outputs from `out` = (loss, grad_a[C], grad_b[C], grad_alpha[C]) as float64 on the scores'
// device: the loss in loss_dtype, each parameter's gradient in its own dtype and shape (copies, so no
// two outputs share storage).
inline std::tuple<at::Tensor, at::Tensor, at::Tensor, at::Tensor, at::Tensor> loss_outputs(
    const at::Tensor& out, at::Tensor grad_s, const at::Tensor& scores, const at::Tensor& a, const at::Tensor& b,
    const at::Tensor& alpha, bool compute_grad) {
  const int64_t cols = a.numel();
  const auto param_grad = [&](int k, const at::Tensor& p) {
    return out.narrow(0, 1 + k * cols, cols).to(p.scalar_type(), false, true).view(p.sizes());
  };
  return {out[0].to(loss_dtype(scores, a), false, true), compute_grad ? grad_s.view(scores.sizes()) : grad_s,
          param_grad(0, a), param_grad(1, b), param_grad(2, alpha)};
}

}  // namespace torchauc::aucm
