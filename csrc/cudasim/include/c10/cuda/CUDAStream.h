// cudasim shadow of c10/cuda/CUDAStream.h: one opaque stream per device; kernels run synchronously
// on the calling thread, so stream order is program order. Not emulated: concurrency, events.
#pragma once
#include <c10/core/Device.h>
#include <cuda_runtime.h>

namespace c10::cuda {

class CUDAStream {
 public:
  cudaStream_t stream() const { return nullptr; }
  operator cudaStream_t() const { return stream(); }
};

inline CUDAStream getCurrentCUDAStream(c10::DeviceIndex = -1) { return CUDAStream(); }

}  // namespace c10::cuda
