// Binary label validation on CUDA tensors (glue level: ATen ops, one host sync for the verdict).
#pragma once
#include <ATen/ATen.h>

namespace torchauc {

struct BinaryLabelsCuda {
  at::Tensor y;       // int8 0/1 on the device
  int64_t n_pos = 0;  // number of positives
};

// labels (n,) of any real or bool dtype with values in {0, 1}; any other value raises the same
// ValueError as the CPU path (argument name, offending value and index).
BinaryLabelsCuda binary_labels_cuda(const at::Tensor& labels, const char* name = "labels");

}  // namespace torchauc
