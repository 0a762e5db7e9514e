// Label validation shared by every op family, on every device: one function per label kind, one
// error text each. CPU tensors take one parallel pass; other devices use ATen ops, and either one
// host sync for the verdict (binary_labels, which also returns the positive count) or none (a
// device-side assert: binary_labels_async, class_labels).
#pragma once
#include <ATen/ATen.h>
#include <c10/util/Optional.h>

namespace torchauc {

struct BinaryLabels {
  at::Tensor y;       // int8 0/1, flat, on the labels' device
  int64_t n_pos = 0;  // number of positives
};

// labels of any real or bool dtype with values in {0, 1}. Any other value is a ValueError naming
// `name`, the first offending flat index and its value. On a GPU: one host sync (the verdict and
// n_pos); ops that need no host n_pos use binary_labels_async.
BinaryLabels binary_labels(const at::Tensor& labels, const char* name = "labels");

// binary_labels(...).y without a host sync on a GPU: there a bad value is a device-side assert
// (torch._assert_async; the error surfaces at the caller's next synchronisation as "device-side
// assert triggered" and leaves the CUDA context unusable). On the CPU the same ValueError as above.
at::Tensor binary_labels_async(const at::Tensor& labels, const char* name = "labels");

// Integer (or bool) class indices in [0, C) -> flat int32 ids, -1 where the label equals
// ignore_index. Any other value is a ValueError naming `name`, the first offending flat index and
// its value on the CPU; on a GPU a device-side assert, as for binary_labels_async (no host sync).
at::Tensor class_labels(const at::Tensor& labels, int64_t C, c10::optional<int64_t> ignore_index,
                        const char* name = "labels");

}  // namespace torchauc
