#include "cpu/labels.h"

#include <ATen/Dispatch.h>
#include <ATen/Parallel.h>
#include <atomic>
#include <limits>

#include "checks.h"

namespace torchauc {

at::Tensor binary_labels_cpu(const at::Tensor& labels_in, const char* name) {
  const at::Tensor labels = labels_in.contiguous();
  auto out = at::empty({labels.numel()}, labels.options().dtype(at::kChar));
  int8_t* y = out.data_ptr<int8_t>();
  std::atomic<int64_t> first_bad{std::numeric_limits<int64_t>::max()};
  AT_DISPATCH_ALL_TYPES_AND3(at::kBool, at::kHalf, at::kBFloat16, labels.scalar_type(), "binary_labels", [&] {
    const scalar_t* src = labels.data_ptr<scalar_t>();
    at::parallel_for(0, labels.numel(), 1 << 18, [&](int64_t b, int64_t e) {
      for (int64_t i = b; i < e; ++i) {
        const double v = static_cast<double>(src[i]);
        if (v == 1.0) {
          y[i] = 1;
        } else if (v == 0.0) {
          y[i] = 0;
        } else {
          int64_t cur = first_bad.load();
          while (i < cur && !first_bad.compare_exchange_weak(cur, i)) {
          }
          y[i] = 0;
        }
      }
    });
  });
  const int64_t bad = first_bad.load();
  if (bad != std::numeric_limits<int64_t>::max()) {
    const double v = labels.reshape({-1})[bad].item<double>();
    throw_bad_binary_label(name, v, bad);
  }
  return out;
}

}  // namespace torchauc
