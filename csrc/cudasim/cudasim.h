// cudasim: runs CUDA kernels (the project's .cu files compiled as C++) on the CPU.
// Emulates: the launch (grid/block/shared-memory limits checked as a GPU would, sizes never
// silently narrowed), blocks one after another, each CUDA thread a fiber that switches only at
// __syncthreads(), barriers (divergence is an error), fresh poisoned (0xFF bytes) __shared__
// storage per block, relaxed atomics (std::atomic_ref), selectable thread/block orders, sticky
// launch errors like cudaGetLastError's, and kernel faults as C++ exceptions.
// Does not emulate: warps (no lock-step, no warp intrinsics), streams (launches run to completion
// on the calling thread), weak memory ordering, device math accuracy or FMA contraction, dynamic
// (extern) shared memory, timing.
#pragma once
#include <atomic>
#include <cstddef>
#include <cstdint>
#include <stdexcept>
#include <string>
#include <tuple>
#include <type_traits>
#include <utility>
#include <vector>

struct uint3 {
  unsigned int x, y, z;
};
struct dim3 {
  unsigned int x, y, z;
  constexpr dim3(unsigned int vx = 1, unsigned int vy = 1, unsigned int vz = 1) : x(vx), y(vy), z(vz) {}
};

namespace cudasim {

// A kernel fault or misuse of the harness: surfaces as a Python RuntimeError through torch.
struct Error : std::runtime_error {
  using std::runtime_error::runtime_error;
};

enum class Schedule : int { Forward = 0, Reverse = 1, Random = 2 };
// Order of blocks and of the threads between two barriers; Random draws from `seed` (reset with
// the launch counter, so a run is reproducible from the seed).
void configure(Schedule schedule, uint64_t seed);
Schedule schedule();
uint64_t launches();  // kernels run since the last configure()

// The built-in variables of the running CUDA thread.
struct ThreadVars {
  uint3 tid, bid;
  dim3 bdim, gdim;
};
namespace detail {
extern thread_local std::atomic<const ThreadVars*> t_current;  // atomic: fibers switch under TSan
}
inline const ThreadVars& vars() { return *detail::t_current.load(std::memory_order_relaxed); }

// One dimension triple of a launch, kept as int64 so that no size is narrowed before the check.
struct Dims {
  int64_t x = 1, y = 1, z = 1;
  Dims(const dim3& d) : x(d.x), y(d.y), z(d.z) {}
  template <typename I, typename = std::enable_if_t<std::is_integral_v<I>>>
  Dims(I v) : x(static_cast<int64_t>(v)) {
    if constexpr (std::is_unsigned_v<I> && sizeof(I) == 8)
      if (v > static_cast<uint64_t>(INT64_MAX)) x = -1;  // reported as out of range
  }
};
struct Config {
  Dims grid, block;
  int64_t shmem;
  Config(Dims g, Dims b, int64_t s = 0, const void* /*stream*/ = nullptr) : grid(g), block(b), shmem(s) {}
  template <typename S>
  Config(Dims g, Dims b, int64_t s, S /*stream*/) : grid(g), block(b), shmem(s) {}
};

namespace detail {
struct Body {
  virtual void run() = 0;
  virtual ~Body() = default;
};
// Runs body->run() once per CUDA thread of the launch; false when the configuration is invalid
// (then the error is sticky for cudaGetLastError and nothing ran).
bool run_launch(const char* kernel, const char* file, int line, const Config& cfg, Body* body);
void* shared_storage(const void* tag, size_t bytes, size_t align);
}  // namespace detail

// kernel<<<cfg>>>(args...) after the build-time rewrite (tools/cudasim_rewrite.py). The arguments
// are evaluated once, copied once (like kernel parameters), and every thread calls the kernel with them.
template <typename F, typename... Args>
void launch(const char* kernel, const char* file, int line, F call, Config cfg, Args&&... args) {
  struct B final : detail::Body {
    F call;
    std::tuple<std::decay_t<Args>...> params;
    B(F c, Args&&... a) : call(c), params(std::forward<Args>(a)...) {}
    void run() override { std::apply(call, params); }
  } body(call, std::forward<Args>(args)...);
  detail::run_launch(kernel, file, line, cfg, &body);
}

// `__shared__ T name;` after the rewrite: one fresh, poisoned object per block, keyed by `tag`.
template <typename T>
T& shared_var(const void* tag) {
  static_assert(std::is_trivially_default_constructible_v<T>, "__shared__ variables have no constructors");
  return *static_cast<T*>(detail::shared_storage(tag, sizeof(T), alignof(T)));
}

void syncthreads(const char* file, int line);

// Sticky launch-configuration error, as cudaGetLastError / cudaPeekAtLastError see it (0 = none).
int last_error(bool clear);
const char* last_error_detail();

// Host synchronisations seen since the last take: a device-to-host copy or a stream / device
// synchronisation through the shadow runtime (cudaMemcpy*, cudaStreamSynchronize, ...), or a torch
// op that waits for the device on a GPU (.item(), nonzero, .cpu(), ..., csrc/cudasim/ops.cpp).
// Each is recorded by what caused it, between record_host_syncs() and take_host_syncs() (which
// stops the record), so a test can assert that a loss op has none.
void record_host_syncs();
void note_host_sync(const char* what);
std::vector<std::string> take_host_syncs();

}  // namespace cudasim

#define threadIdx (::cudasim::vars().tid)
#define blockIdx (::cudasim::vars().bid)
#define blockDim (::cudasim::vars().bdim)
#define gridDim (::cudasim::vars().gdim)
#define __syncthreads() ::cudasim::syncthreads(__FILE__, __LINE__)
