// The torchauc_cudasim op namespace (the glue's ops, see glue_prelude.h) and the harness controls
// under torch.ops.cudasim: the schedule, the pending launch error, the fp16/bf16 conversions (so
// tests can compare them bit for bit with torch's) and the harness's self-tests.
#include <ATen/ATen.h>
#include <cuda_bf16.h>
#include <cuda_fp16.h>
#include <cuda_runtime.h>
#include <torch/library.h>

#include <string>

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
  m.def("to_half_bits(Tensor x, bool bf16) -> Tensor", &to_half_bits);
  m.def("from_half_bits(Tensor bits, bool bf16) -> Tensor", &from_half_bits);
}
