// Schemas of the SAM family (kernels: cpu.cpp, cuda_glue.cpp): the optimizer's own passes over
// parameter-sized memory, each fused over the whole parameter list.
#include <torch/library.h>

TORCH_LIBRARY_FRAGMENT(torchauc, m) {
  // The perturbed weights of a SAM step, written to out (the caller swaps them in):
  // out[i] = params[i] + rho[i] / (norm + eps) * directions[i], norm = the global 2-norm over every
  // tensor of directions, or the given 0-dim norm (ASAM's ||p * g|| differs from its direction's).
  m.def(
      "sam_perturb(Tensor[] params, Tensor[] directions, Tensor(a!)[] out, float[] rho, float eps, Tensor? norm) "
      "-> ()");
  // torch.optim.SGD's update of one param group in one pass per element (weight decay, momentum,
  // dampening, nesterov, maximize). momentum_buffers: one per param when momentum != 0 (else empty);
  // fresh: they are new and take the first direction, as torch.optim.SGD's first step does.
  m.def(
      "sam_sgd_step(Tensor(a!)[] params, Tensor[] grads, Tensor(b!)[] momentum_buffers, bool fresh, float lr, "
      "float momentum, float dampening, float weight_decay, bool nesterov, bool maximize) -> ()");
}
