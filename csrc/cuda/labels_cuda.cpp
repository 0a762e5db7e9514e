#include "cuda/labels_cuda.h"

#include "checks.h"

namespace torchauc {

BinaryLabelsCuda binary_labels_cuda(const at::Tensor& labels, const char* name) {
  const at::Tensor one = labels == 1, zero = labels == 0;
  const at::Tensor bad = ~(one | zero);
  // one small device-to-host copy carries both the verdict and the positive count
  const at::Tensor counts = at::stack({bad.sum(), one.sum()}).cpu();
  const int64_t n_bad = counts[0].item<int64_t>();
  if (n_bad > 0) {
    const int64_t index = at::nonzero(bad.reshape({-1}))[0][0].item<int64_t>();
    throw_bad_binary_label(name, labels.reshape({-1})[index].item<double>(), index);
  }
  return BinaryLabelsCuda{one.to(at::kChar), counts[1].item<int64_t>()};
}

}  // namespace torchauc
