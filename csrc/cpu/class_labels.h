// Class-index label validation on the CPU (multiclass and pixel metrics).
#pragma once
#include <ATen/ATen.h>

namespace torchauc {

// labels (n,) of an integer or bool dtype -> int32 class ids in [0, C); entries equal to
// ignore_index become -1. Any other value outside [0, C) is a ValueError naming `name`, the index
// and the value.
at::Tensor class_labels_cpu(const at::Tensor& labels, int64_t C, int64_t ignore_index, const char* name);

}  // namespace torchauc
