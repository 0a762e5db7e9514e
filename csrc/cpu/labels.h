// Binary label validation on the CPU, shared by every binary op (losses and metrics).
#pragma once
#include <ATen/ATen.h>

namespace torchauc {

// labels (n,) of any real or bool dtype with values in {0, 1} -> int8 tensor of 0/1.
// Any other value is an error that names `name`, the offending index and value.
at::Tensor binary_labels_cpu(const at::Tensor& labels, const char* name = "labels");

}  // namespace torchauc
