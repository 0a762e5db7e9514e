#include "cpu/class_labels.h"

#include <ATen/Dispatch.h>
#include <ATen/Parallel.h>
#include <atomic>
#include <limits>

namespace torchauc {

at::Tensor class_labels_cpu(const at::Tensor& labels_in, int64_t C, int64_t ignore_index, const char* name) {
  const at::Tensor labels = labels_in.reshape({-1}).contiguous();
  auto out = at::empty({labels.numel()}, labels.options().dtype(at::kInt));
  int32_t* y = out.data_ptr<int32_t>();
  std::atomic<int64_t> first_bad{std::numeric_limits<int64_t>::max()};
  AT_DISPATCH_INTEGRAL_TYPES_AND(at::kBool, labels.scalar_type(), "class_labels", [&] {
    const scalar_t* src = labels.data_ptr<scalar_t>();
    at::parallel_for(0, labels.numel(), 1 << 16, [&](int64_t b, int64_t e) {
      for (int64_t i = b; i < e; ++i) {
        const int64_t v = static_cast<int64_t>(src[i]);
        if (v >= 0 && v < C && v != ignore_index) {
          y[i] = static_cast<int32_t>(v);
        } else if (v == ignore_index) {
          y[i] = -1;
        } else {
          int64_t cur = first_bad.load();
          while (i < cur && !first_bad.compare_exchange_weak(cur, i)) {
          }
          y[i] = -1;
        }
      }
    });
  });
  const int64_t bad = first_bad.load();
  if (bad != std::numeric_limits<int64_t>::max()) {
    const int64_t v = labels[bad].item<int64_t>();
    TORCH_CHECK_VALUE(false, name, " must hold class indices in [0, ", C, ") or ignore_index (", ignore_index,
                      "); found ", v, " at index ", bad);
  }
  return out;
}

}  // namespace torchauc
