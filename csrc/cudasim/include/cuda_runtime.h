// cudasim shadow of <cuda_runtime.h>: qualifiers, error codes, streams (opaque, unused), the
// device built-ins and math the project's kernels use, and std::atomic_ref atomics.
// Emulated: launch errors (sticky, read by cudaGetLastError), relaxed atomics, misaligned atomics as
// faults. Not emulated: device memory (host memory is used), streams and events, device math
// accuracy (host libm), FMA contraction (the __*_rn intrinsics are plain host operations).
#pragma once
#include <math.h>  // the C++ wrapper: float overloads of exp, log, ... in the global namespace

#include <atomic>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <type_traits>

#include "cudasim/cudasim.h"

#define __global__
#define __device__
#define __host__
#define __forceinline__ inline
#define __launch_bounds__(...)

enum cudaError_t : int { cudaSuccess = 0, cudaErrorInvalidValue = 1, cudaErrorInvalidConfiguration = 9 };
struct CUstream_st;
typedef CUstream_st* cudaStream_t;

inline cudaError_t cudaGetLastError() { return static_cast<cudaError_t>(cudasim::last_error(true)); }
inline cudaError_t cudaPeekAtLastError() { return static_cast<cudaError_t>(cudasim::last_error(false)); }
// The detail of the last launch error names the kernel, its launch site and the bad dimension.
inline const char* cudaGetErrorString(cudaError_t e) {
  if (e == cudaSuccess) return "no error";
  if (e == cudaErrorInvalidConfiguration) return cudasim::last_error_detail();
  if (e == cudaErrorInvalidValue) return "invalid argument";
  return "unknown error";
}

// Copies and synchronisations: host memory on both sides, so a copy is a memcpy; the ones that make
// the host wait for the device on a GPU (a copy to the host, a stream / device synchronisation)
// are recorded for cudasim::take_host_syncs.
enum cudaMemcpyKind : int {
  cudaMemcpyHostToHost = 0,
  cudaMemcpyHostToDevice = 1,
  cudaMemcpyDeviceToHost = 2,
  cudaMemcpyDeviceToDevice = 3,
  cudaMemcpyDefault = 4
};
inline cudaError_t cudaMemcpyAsync(void* dst, const void* src, size_t bytes, cudaMemcpyKind kind,
                                   cudaStream_t = nullptr) {
  // a D2H copy into pinned memory need not block, but its result is only usable after a sync
  if (kind == cudaMemcpyDeviceToHost || kind == cudaMemcpyDefault) cudasim::note_host_sync("cudaMemcpy D2H");
  if (bytes) std::memcpy(dst, src, bytes);
  return cudaSuccess;
}
inline cudaError_t cudaMemcpy(void* dst, const void* src, size_t bytes, cudaMemcpyKind kind) {
  return cudaMemcpyAsync(dst, src, bytes, kind);
}
inline cudaError_t cudaStreamSynchronize(cudaStream_t) {
  cudasim::note_host_sync("cudaStreamSynchronize");
  return cudaSuccess;
}
inline cudaError_t cudaDeviceSynchronize() {
  cudasim::note_host_sync("cudaDeviceSynchronize");
  return cudaSuccess;
}

// ---- device code only (the .cu sources are compiled with __CUDACC__ defined; the glue is not)
#if defined(__CUDACC__)
// device intrinsics (host equivalents)
inline unsigned int __float_as_uint(float f) { return __builtin_bit_cast(unsigned int, f); }
inline float __uint_as_float(unsigned int u) { return __builtin_bit_cast(float, u); }
inline long long __double_as_longlong(double d) { return __builtin_bit_cast(long long, d); }
inline double __longlong_as_double(long long u) { return __builtin_bit_cast(double, u); }
inline float __fmul_rn(float a, float b) { return a * b; }
inline float __fadd_rn(float a, float b) { return a + b; }
inline double __dmul_rn(double a, double b) { return a * b; }
inline double __dadd_rn(double a, double b) { return a + b; }
inline unsigned long long __umul64hi(unsigned long long a, unsigned long long b) {
  return static_cast<unsigned long long>((static_cast<unsigned __int128>(a) * b) >> 64);
}

// CUDA's min/max overloads for mixed integer and floating arguments.
template <typename A, typename B, typename = std::enable_if_t<std::is_arithmetic_v<A> && std::is_arithmetic_v<B>>>
inline std::common_type_t<A, B> min(A a, B b) {
  using C = std::common_type_t<A, B>;
  return static_cast<C>(a) < static_cast<C>(b) ? static_cast<C>(a) : static_cast<C>(b);
}
template <typename A, typename B, typename = std::enable_if_t<std::is_arithmetic_v<A> && std::is_arithmetic_v<B>>>
inline std::common_type_t<A, B> max(A a, B b) {
  using C = std::common_type_t<A, B>;
  return static_cast<C>(a) < static_cast<C>(b) ? static_cast<C>(b) : static_cast<C>(a);
}

// ---- atomics: relaxed read-modify-write on the object in place, as on the device
namespace cudasim {
template <typename T>
std::atomic_ref<T> atomic_at(T* p) {
  if (reinterpret_cast<uintptr_t>(p) % sizeof(T) != 0) throw Error("misaligned address in an atomic operation");
  return std::atomic_ref<T>(*p);
}
}  // namespace cudasim
#define CUDASIM_ATOMIC_ADD(T) \
  inline T atomicAdd(T* p, T v) { return cudasim::atomic_at(p).fetch_add(v, std::memory_order_relaxed); }
CUDASIM_ATOMIC_ADD(int)
CUDASIM_ATOMIC_ADD(unsigned int)
CUDASIM_ATOMIC_ADD(unsigned long long)
CUDASIM_ATOMIC_ADD(float)
CUDASIM_ATOMIC_ADD(double)
#undef CUDASIM_ATOMIC_ADD
#define CUDASIM_ATOMIC_MINMAX(T)                                                     \
  inline T atomicMin(T* p, T v) {                                                    \
    auto a = cudasim::atomic_at(p);                                                  \
    T cur = a.load(std::memory_order_relaxed);                                       \
    while (v < cur && !a.compare_exchange_weak(cur, v, std::memory_order_relaxed)) { \
    }                                                                                \
    return cur;                                                                      \
  }                                                                                  \
  inline T atomicMax(T* p, T v) {                                                    \
    auto a = cudasim::atomic_at(p);                                                  \
    T cur = a.load(std::memory_order_relaxed);                                       \
    while (v > cur && !a.compare_exchange_weak(cur, v, std::memory_order_relaxed)) { \
    }                                                                                \
    return cur;                                                                      \
  }
CUDASIM_ATOMIC_MINMAX(int)
CUDASIM_ATOMIC_MINMAX(unsigned int)
CUDASIM_ATOMIC_MINMAX(long long)
CUDASIM_ATOMIC_MINMAX(unsigned long long)
#undef CUDASIM_ATOMIC_MINMAX
#endif  // __CUDACC__
