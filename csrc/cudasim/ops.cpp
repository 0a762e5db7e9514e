// The torchauc_cudasim op namespace (the glue's ops, see glue_prelude.h) and the harness controls
// under torch.ops.cudasim: the schedule, the pending launch error, the fp16/bf16 conversions (so
// tests can compare them bit for bit with torch's), the harness's self-tests, and the record of
// host synchronisations (a torch op observer below, plus the shadow runtime's copies and syncs).
#include <ATen/ATen.h>
#include <ATen/record_function.h>
#include <cuda_bf16.h>
#include <cuda_fp16.h>
#include <cuda_runtime.h>
#include <torch/library.h>

#include <cstring>
#include <string>
#include <vector>

namespace cudasim_selftest {
std::string run(const std::string& name);  // tests/cudasim/selftest.cu
}

namespace {

std::string selftest(c10::string_view name) { return cudasim_selftest::run(std::string(name)); }

void configure(c10::string_view schedule, int64_t seed) {
  const std::string s(schedule);
  cudasim::Schedule sched = cudasim::Schedule::Forward;
  if (s == "reverse")
    sched = cudasim::Schedule::Reverse;
  else if (s == "random")
    sched = cudasim::Schedule::Random;
  else
    TORCH_CHECK_VALUE(s == "forward", "schedule must be forward, reverse or random, got '", s, "'");
  cudasim::configure(sched, static_cast<uint64_t>(seed));
}

// A launch error nobody read with cudaGetLastError (a glue that forgot check_launch); clears it.
std::string take_pending_error() {
  const cudaError_t e = cudaGetLastError();
  return e == cudaSuccess ? std::string() : std::string(cudaGetErrorString(e));
}

int64_t launch_count() { return static_cast<int64_t>(cudasim::launches()); }

// ---- host synchronisations of torch ops. The simulated device is the CPU, so what would make the
// host wait for a GPU is recognised by the op: a read of a tensor's value on the host (.item(),
// bool(t), float(t), ...: aten::_local_scalar_dense), the ops whose output size depends on the
// data (nonzero, masked_select, unique, boolean-mask indexing through nonzero), aten::equal, and,
// inside a simulated op (the glue), any .to(device) / .cpu() / .to(options): there every tensor is
// on the op's device, so a device argument can only mean a copy to the host. (Outside, e.g.
// `.to(device=pred.device)` in Python, it is a no-op on a GPU and indistinguishable from .cpu()
// here: those the GPU check catches, benchmarks/gpu.sh.) torch._assert_async is no sync: its CPU
// kernel reads the flag, a GPU's does not wait.
thread_local int t_in_assert_async = 0;
thread_local int t_in_simulated_op = 0;

bool starts_with(const char* s, const char* prefix) { return std::strncmp(s, prefix, std::strlen(prefix)) == 0; }

bool is_simulated_op(const char* name) {
  return starts_with(name, "torchauc_cudasim::") || std::strcmp(name, "cudasim::copy_to_host_selftest") == 0;
}

bool is_host_sync(const at::RecordFunction& fn) {
  static constexpr const char* kSyncing[] = {"aten::_local_scalar_dense",
                                             "aten::nonzero",
                                             "aten::masked_select",
                                             "aten::_unique",
                                             "aten::_unique2",
                                             "aten::unique_dim",
                                             "aten::unique_consecutive",
                                             "aten::unique_dim_consecutive",
                                             "aten::equal",
                                             "aten::bincount"};
  const char* name = fn.name();
  for (const char* s : kSyncing)
    if (std::strcmp(name, s) == 0) return true;
  if (t_in_simulated_op > 0 && std::strcmp(name, "aten::to") == 0) {
    const auto op = fn.operator_name();
    return op && (op->overload_name == "device" || op->overload_name == "dtype_layout");
  }
  return false;
}

std::unique_ptr<at::ObserverContext> on_op_start(const at::RecordFunction& fn) {
  if (std::strcmp(fn.name(), "aten::_assert_async") == 0)
    ++t_in_assert_async;
  else if (t_in_assert_async == 0 && is_host_sync(fn))
    cudasim::note_host_sync(fn.name());
  if (is_simulated_op(fn.name())) ++t_in_simulated_op;
  return nullptr;
}
void on_op_end(const at::RecordFunction& fn, at::ObserverContext*) {
  if (std::strcmp(fn.name(), "aten::_assert_async") == 0) --t_in_assert_async;
  if (is_simulated_op(fn.name())) --t_in_simulated_op;
}

// A glue that copies to the host, as the recorder's own test (a simulated op by the rule above).
at::Tensor copy_to_host_selftest(const at::Tensor& x) { return x.cpu(); }

// Starts a record of host synchronisations (clearing the previous one); the torch op observer is
// installed on first use, so processes that never record pay nothing.
void record_host_syncs() {
  static const at::CallbackHandle handle =
      at::addGlobalCallback(at::RecordFunctionCallback(&on_op_start, &on_op_end).scopes({at::RecordScope::FUNCTION}));
  (void)handle;
  cudasim::record_host_syncs();
}

// The host synchronisations since record_host_syncs(), each named by its cause; stops the record.
std::vector<std::string> take_host_syncs() { return cudasim::take_host_syncs(); }

// float32 -> the 16 bits of __half / __nv_bfloat16 and back, elementwise.
at::Tensor to_half_bits(const at::Tensor& x, bool bf16) {
  const at::Tensor f = x.to(at::kFloat).contiguous();
  at::Tensor out = at::empty(f.sizes(), f.options().dtype(at::kShort));
  const float* src = f.data_ptr<float>();
  int16_t* dst = out.data_ptr<int16_t>();
  for (int64_t i = 0; i < f.numel(); ++i)
    dst[i] = static_cast<int16_t>(bf16 ? __float2bfloat16(src[i]).__x : __float2half(src[i]).__x);
  return out;
}
at::Tensor from_half_bits(const at::Tensor& bits, bool bf16) {
  const at::Tensor b = bits.contiguous();
  at::Tensor out = at::empty(b.sizes(), b.options().dtype(at::kFloat));
  const int16_t* src = b.data_ptr<int16_t>();
  float* dst = out.data_ptr<float>();
  for (int64_t i = 0; i < b.numel(); ++i) {
    if (bf16) {
      __nv_bfloat16 h;
      h.__x = static_cast<uint16_t>(src[i]);
      dst[i] = __bfloat162float(h);
    } else {
      __half h;
      h.__x = static_cast<uint16_t>(src[i]);
      dst[i] = __half2float(h);
    }
  }
  return out;
}

}  // namespace

TORCH_LIBRARY(torchauc_cudasim, m) {}

TORCH_LIBRARY(cudasim, m) {
  m.def("configure(str schedule, int seed) -> ()", &configure);
  m.def("take_pending_error() -> str", &take_pending_error);
  m.def("launch_count() -> int", &launch_count);
  m.def("selftest(str name) -> str", &selftest);
  m.def("record_host_syncs() -> ()", &record_host_syncs);
  m.def("take_host_syncs() -> str[]", &take_host_syncs);
  m.def("copy_to_host_selftest(Tensor x) -> Tensor", &copy_to_host_selftest);
  m.def("to_half_bits(Tensor x, bool bf16) -> Tensor", &to_half_bits);
  m.def("from_half_bits(Tensor bits, bool bf16) -> Tensor", &from_half_bits);
}
