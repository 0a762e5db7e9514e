// Deliberately broken kernels for the CUDA simulation harness (csrc/cudasim): one per kind of bug it
// must report. Built only into the simulation library (torch.ops.cudasim.selftest, test_harness.py)
// and the sanitizer driver; never compiled by nvcc.
#include <cuda_runtime.h>

#include <cstdint>
#include <string>
#include <vector>

namespace cudasim_selftest {
namespace {

__global__ void nothing(int*) {}

__global__ void divergent_barrier(int* out) {
  if (threadIdx.x < 16) __syncthreads();  // the other threads exit without reaching it
  out[threadIdx.x] = 1;
}

__global__ void two_barriers(int* out) {
  if (threadIdx.x % 2) {
    __syncthreads();
  } else {
    __syncthreads();  // a different barrier: undefined on a GPU
  }
  out[threadIdx.x] = 1;
}

__global__ void big_shared(double* out) {
  __shared__ double a[4096], b[4096];  // 64 KiB of static shared memory
  a[threadIdx.x] = 1.0;
  b[threadIdx.x] = 2.0;
  out[threadIdx.x] = a[threadIdx.x] + b[threadIdx.x];
}

__global__ void shared_overflow(int* out) {
  __shared__ int s[32];
  s[threadIdx.x] = 1;  // launched with 33 threads: writes s[32]
  out[threadIdx.x] = 0;
}

__global__ void uninit_shared(float* out) {
  __shared__ float s[64];
  if (threadIdx.x < 32) s[threadIdx.x] = 1.0f;
  __syncthreads();
  out[threadIdx.x] = s[threadIdx.x];  // threads 32..63 read what nobody wrote
}

__global__ void misaligned_atomic(char* buf) { atomicAdd(reinterpret_cast<int*>(buf + 1), 1); }

// A missing barrier between the write and the read: the value read depends on the thread order.
__global__ void missing_barrier(int* out) {
  __shared__ int s[64];
  s[threadIdx.x] = static_cast<int>(threadIdx.x);
  out[threadIdx.x] = s[(threadIdx.x + 1) % 64];
}

template <typename T>
std::string join(const std::vector<T>& v) {
  std::string s;
  for (size_t i = 0; i < v.size(); ++i) s += (i ? "," : "") + std::to_string(v[i]);
  return s;
}

}  // namespace

// Runs the self-test `name`: the launch error text, the exception text of a kernel fault, or the
// values the kernel wrote (comma-separated).
std::string run(const std::string& name) {
  try {
    std::vector<int> out(1024, 0);
    std::vector<double> outd(4096, 0.0);
    std::vector<float> outf(64, 0.0f);
    if (name == "grid_y") nothing<<<dim3(1, 70000), 1>>>(out.data());
    else if (name == "block_size") nothing<<<1, 2048>>>(out.data());
    else if (name == "zero_grid") nothing<<<0, 32>>>(out.data());
    else if (name == "grid_truncation") nothing<<<(int64_t(1) << 32) + 1, 1>>>(out.data());
    else if (name == "shmem") nothing<<<1, 32, 64 * 1024>>>(out.data());
    else if (name == "divergent_barrier") divergent_barrier<<<1, 64>>>(out.data());
    else if (name == "two_barriers") two_barriers<<<1, 64>>>(out.data());
    else if (name == "big_shared") big_shared<<<1, 64>>>(outd.data());
    else if (name == "shared_overflow") shared_overflow<<<1, 33>>>(out.data());
    else if (name == "misaligned_atomic") misaligned_atomic<<<1, 1>>>(reinterpret_cast<char*>(out.data()));
    else if (name == "uninit_shared") {
      uninit_shared<<<1, 64>>>(outf.data());
      return join(outf);
    } else if (name == "missing_barrier") {
      missing_barrier<<<1, 64>>>(out.data());
      out.resize(64);
      return join(out);
    } else if (name == "host_sync") {  // the shadow runtime records what would wait for a GPU
      int host = 0;
      cudasim::record_host_syncs();
      cudaMemcpy(&out[1], &out[0], sizeof(int), cudaMemcpyHostToDevice);
      cudaMemcpyAsync(&host, &out[1], sizeof(int), cudaMemcpyDeviceToHost, nullptr);
      cudaStreamSynchronize(nullptr);
      std::string names;
      for (const std::string& s : cudasim::take_host_syncs()) names += (names.empty() ? "" : ",") + s;
      return names;
    } else {
      return "unknown self-test " + name;
    }
    const cudaError_t e = cudaGetLastError();
    return e == cudaSuccess ? std::string() : std::string(cudaGetErrorString(e));
  } catch (const std::exception& e) {
    return e.what();
  }
}

}  // namespace cudasim_selftest
