// cudasim shadow of c10/cuda/CUDAGuard.h: the simulated "device" is the CPU (the glue is registered
// on the CPU key of torchauc_cudasim), so the guard only checks that it is handed a CPU device.
#pragma once
#include <c10/core/Device.h>
#include <c10/util/Exception.h>

namespace c10::cuda {

struct CUDAGuard {
  explicit CUDAGuard(c10::Device d) {
    TORCH_CHECK(d.is_cpu(), "cudasim: CUDAGuard expects the simulated device (cpu), got ", d);
  }
  CUDAGuard(const CUDAGuard&) = delete;
  CUDAGuard& operator=(const CUDAGuard&) = delete;
};

}  // namespace c10::cuda
