// Per-element math of the SAM family's passes, shared by the CPU kernels (the CUDA impl composes
// ATen multi-tensor ops with the same formulas).
#pragma once
#include "core/macros.h"

namespace torchauc::sam {

// torch.optim.SGD's coefficients in the element type's math precision.
template <typename T>
struct SgdCoef {
  T lr, momentum, one_minus_dampening, weight_decay;
  bool nesterov, maximize, fresh, has_momentum;
};

// One parameter element (buf unused without momentum): d = (maximize ? -g : g) + wd p; with momentum b = fresh ? d : m
// b + (1 - damp) d, d = nesterov ? d + m b : b; then p -= lr d (torch.optim.SGD's single-tensor update, same order).
template <typename T>
TAUC_HD void sgd_update(T& p, T g, T& buf, const SgdCoef<T>& c) {
  T d = c.maximize ? -g : g;
  if (c.weight_decay != T(0)) d = d + c.weight_decay * p;
  if (c.has_momentum) {
    buf = c.fresh ? d : c.momentum * buf + c.one_minus_dampening * d;
    d = c.nesterov ? d + c.momentum * buf : buf;
  }
  p = p - c.lr * d;
}

}  // namespace torchauc::sam
