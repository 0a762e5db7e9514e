// Schemas of the AdAUC family (kernels: cpu.cpp, cuda_glue.cpp).
#include <torch/library.h>

TORCH_LIBRARY_FRAGMENT(torchauc, m) {
  // Instance-wise min-max square AUC objective (AdAUC), fused forward + gradient. Returns (loss,
  // grad_scores, grad_a, grad_b, grad_alpha): d loss / d input, grad_scores empty (numel 0) when
  // compute_grad is false. imratio: the positive prior p, None = the batch's positive rate.
  // form: canonical (-p(1-p) alpha^2) | xcurve (-p alpha^2).
  m.def(
      "adauc_loss(Tensor scores, Tensor labels, Tensor a, Tensor b, Tensor alpha, float? imratio, float margin, "
      "str form, bool compute_grad) -> (Tensor, Tensor, Tensor, Tensor, Tensor)");
  // One PGD ascent step on the perturbation, fused over the batch: delta + step * sign(grad) (linf)
  // or + step * grad / ||grad|| per sample (l2), projected onto the eps-ball, then clamped so that
  // inputs + delta stays in [lower, upper]. Returns the new delta.
  m.def(
      "adauc_pgd_step(Tensor inputs, Tensor delta, Tensor grad, float eps, float step, str norm, float lower, "
      "float upper) -> Tensor");
}
