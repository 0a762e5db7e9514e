#include "core/labels.h"

#include <ATen/Dispatch.h>
#include <ATen/Parallel.h>

#include <atomic>
#include <limits>
#include <string>

namespace torchauc {
namespace {

constexpr int64_t kNone = std::numeric_limits<int64_t>::max();

// The CUDA glue run by the simulator (csrc/cudasim, glue_prelude.h) hands CPU tensors to the device
// path, so that the simulated ops check labels as the CUDA ones do.
#ifdef TORCHAUC_CUDASIM_GLUE
constexpr bool kDevicePathForCpu = true;
#else
constexpr bool kDevicePathForCpu = false;
#endif
bool on_host(const at::Tensor& t) { return t.is_cpu() && !kDevicePathForCpu; }

// What a device-side check reports: the rule, without the offending value and index (finding them
// would be a host round trip). On a GPU torch._assert_async ignores the text: a bad label stops the
// stream with "device-side assert triggered" at the caller's next synchronisation.
std::string device_check_message(const char* name, const char* rule) {
  return std::string(name) + rule + " (device-side check)";
}

// Lowers `slot` to i when i is smaller (first offending index, found by any thread).
void record_first(std::atomic<int64_t>& slot, int64_t i) {
  int64_t cur = slot.load();
  while (i < cur && !slot.compare_exchange_weak(cur, i)) {
  }
}

[[noreturn]] void throw_bad_binary_label(const char* name, double value, int64_t index) {
  TORCH_CHECK_VALUE(false, name, " must contain only 0 and 1 (or False/True); found ", value, " at index ", index);
  __builtin_unreachable();
}

[[noreturn]] void throw_bad_class_label(const char* name, int64_t C, c10::optional<int64_t> ignore, int64_t value,
                                        int64_t index) {
  TORCH_CHECK_VALUE(false, name, " must be class indices in [0, ", C, ")",
                    ignore ? " or ignore_index (" + std::to_string(*ignore) + ")" : std::string(), "; found ", value,
                    " at flat index ", index);
  __builtin_unreachable();
}

BinaryLabels binary_labels_cpu(const at::Tensor& flat, const char* name) {
  const int64_t n = flat.numel();
  at::Tensor out = at::empty({n}, flat.options().dtype(at::kChar));
  int8_t* y = out.data_ptr<int8_t>();
  std::atomic<int64_t> first_bad{kNone}, n_pos{0};
  AT_DISPATCH_ALL_TYPES_AND3(at::kBool, at::kHalf, at::kBFloat16, flat.scalar_type(), "binary_labels", [&] {
    const scalar_t* src = flat.data_ptr<scalar_t>();
    at::parallel_for(0, n, 1 << 18, [&](int64_t b, int64_t e) {
      int64_t pos = 0;
      for (int64_t i = b; i < e; ++i) {
        const double v = static_cast<double>(src[i]);
        const bool one = v == 1.0;
        if (!one && v != 0.0) record_first(first_bad, i);
        y[i] = one;
        pos += one;
      }
      n_pos += pos;
    });
  });
  const int64_t bad = first_bad.load();
  if (bad != kNone) throw_bad_binary_label(name, flat[bad].item<double>(), bad);
  return {out, n_pos.load()};
}

at::Tensor class_labels_cpu(const at::Tensor& flat, int64_t C, c10::optional<int64_t> ignore, const char* name) {
  const int64_t n = flat.numel();
  at::Tensor out = at::empty({n}, flat.options().dtype(at::kInt));
  int32_t* y = out.data_ptr<int32_t>();
  std::atomic<int64_t> first_bad{kNone};
  const bool has_ignore = ignore.has_value();
  const int64_t ign = has_ignore ? *ignore : 0;
  AT_DISPATCH_INTEGRAL_TYPES_AND(at::kBool, flat.scalar_type(), "class_labels", [&] {
    const scalar_t* src = flat.data_ptr<scalar_t>();
    at::parallel_for(0, n, 1 << 16, [&](int64_t b, int64_t e) {
      for (int64_t i = b; i < e; ++i) {
        const int64_t v = static_cast<int64_t>(src[i]);
        if (has_ignore && v == ign) {
          y[i] = -1;
        } else if (v < 0 || v >= C) {
          record_first(first_bad, i);
          y[i] = -1;
        } else {
          y[i] = static_cast<int32_t>(v);
        }
      }
    });
  });
  const int64_t bad = first_bad.load();
  if (bad != kNone) throw_bad_class_label(name, C, ignore, flat[bad].item<int64_t>(), bad);
  return out;
}

// First flat index where `bad` is true, or -1 (one host sync).
int64_t first_true(const at::Tensor& bad) {
  if (bad.numel() == 0 || !bad.any().item<bool>()) return -1;
  return at::nonzero(bad)[0][0].item<int64_t>();
}

}  // namespace

BinaryLabels binary_labels(const at::Tensor& labels, const char* name) {
  const at::Tensor flat = labels.reshape({-1}).contiguous();
  if (on_host(flat)) return binary_labels_cpu(flat, name);
  const at::Tensor one = flat.eq(1), bad = one.logical_or(flat.eq(0)).logical_not();
  // one small device-to-host copy carries both the verdict and the positive count
  const at::Tensor counts = at::stack({bad.sum(), one.sum()}).cpu();
  if (counts[0].item<int64_t>() > 0) {
    const int64_t i = first_true(bad);
    throw_bad_binary_label(name, flat[i].item<double>(), i);
  }
  return {one.to(at::kChar), counts[1].item<int64_t>()};
}

at::Tensor binary_labels_async(const at::Tensor& labels, const char* name) {
  const at::Tensor flat = labels.reshape({-1}).contiguous();
  if (on_host(flat)) return binary_labels_cpu(flat, name).y;
  const at::Tensor one = flat.eq(1), bad = one.logical_or(flat.eq(0)).logical_not();
  at::_assert_async(bad.any().logical_not(), device_check_message(name, " must contain only 0 and 1 (or False/True)"));
  return one.to(at::kChar);
}

at::Tensor class_labels(const at::Tensor& labels, int64_t C, c10::optional<int64_t> ignore, const char* name) {
  const at::Tensor flat = labels.reshape({-1}).contiguous();
  if (on_host(flat)) return class_labels_cpu(flat, C, ignore, name);
  const at::Tensor lab = flat.to(at::kLong);
  const at::Tensor in_range = lab.ge(0).logical_and(lab.lt(C));
  const at::Tensor ignored = ignore ? lab.eq(*ignore) : at::zeros_like(lab, lab.options().dtype(at::kBool));
  const std::string rule = " must be class indices in [0, " + std::to_string(C) + ")" +
                           (ignore ? " or ignore_index (" + std::to_string(*ignore) + ")" : std::string());
  at::_assert_async(in_range.logical_or(ignored).all(), device_check_message(name, rule.c_str()));
  // a bad label also reads as ignored (-1), so no kernel indexes with it before the assert stops the stream
  return at::where(in_range.logical_and(ignored.logical_not()), lab, at::full({}, -1, lab.options())).to(at::kInt);
}

}  // namespace torchauc
