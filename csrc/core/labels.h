// Label validation shared by every op family, on every device: one function per label kind, one
// error text each. CPU tensors take one parallel pass; other devices use ATen ops and one host sync
// for the verdict.
#pragma once
#include <ATen/ATen.h>
#include <c10/util/Optional.h>

namespace torchauc {

struct BinaryLabels {
  at::Tensor y;       // int8 0/1, flat, on the labels' device
  int64_t n_pos = 0;  // number of positives
};

// labels of any real or bool dtype with values in {0, 1}. Any other value is a ValueError naming
// `name`, the first offending flat index and its value.
BinaryLabels binary_labels(const at::Tensor& labels, const char* name = "labels");

// Integer (or bool) class indices in [0, C) -> flat int32 ids, -1 where the label equals
// ignore_index. Any other value is a ValueError naming `name`, the first offending flat index and
// its value.
at::Tensor class_labels(const at::Tensor& labels, int64_t C, c10::optional<int64_t> ignore_index,
                        const char* name = "labels");

}  // namespace torchauc
