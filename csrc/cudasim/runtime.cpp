// cudasim runtime: launch checks, the block scheduler (one ucontext fiber per CUDA thread,
// switching only at __syncthreads), per-block shared memory, sticky launch errors, and the fiber
// annotations that let AddressSanitizer and ThreadSanitizer follow the CUDA threads (under TSan
// every CUDA thread is a named fiber; only barriers, kernel boundaries and atomics order them).
// Not emulated: see cudasim.h.
#include <ucontext.h>

#include <algorithm>
#include <cstdlib>
#include <cstring>
#include <exception>
#include <memory>
#include <mutex>
#include <random>
#include <sstream>
#include <unordered_map>
#include <vector>

#include "cudasim/cudasim.h"

#if defined(__SANITIZE_ADDRESS__)
#include <sanitizer/common_interface_defs.h>
#define CUDASIM_ASAN 1
#endif
#if defined(__SANITIZE_THREAD__)
#include <sanitizer/tsan_interface.h>
#define CUDASIM_TSAN 1
extern "C" void AnnotateIgnoreReadsBegin(const char*, int);
extern "C" void AnnotateIgnoreReadsEnd(const char*, int);
extern "C" void AnnotateIgnoreWritesBegin(const char*, int);
extern "C" void AnnotateIgnoreWritesEnd(const char*, int);
#endif

namespace cudasim {
namespace detail {
thread_local std::atomic<const ThreadVars*> t_current{nullptr};
}

namespace {

constexpr int64_t kMaxSharedBytes = 48 * 1024;  // static shared memory without an opt-in
// Fiber stacks. ASan clears a stack's shadow at every swapcontext, so its stacks stay small.
constexpr size_t kStackBytes = 128 * 1024;

std::atomic<int> g_schedule{0};
std::atomic<uint64_t> g_seed{0}, g_launches{0};
thread_local int t_last_error = 0;
thread_local std::string t_last_detail;

enum State : int { kReady, kBarrier, kDone, kFailed };

// A value the harness shares between fibers without ordering them: relaxed atomic accesses, which
// TSan does not count as synchronisation (only barriers and kernel ends order CUDA threads).
template <typename T>
struct Relaxed {
  std::atomic<T> v;
  Relaxed(T x = T()) : v(x) {}
  operator T() const { return v.load(std::memory_order_relaxed); }
  Relaxed& operator=(T x) {
    v.store(x, std::memory_order_relaxed);
    return *this;
  }
  T load() const { return *this; }
};

struct Fiber {
  ucontext_t ctx;
  ThreadVars vars;
  Relaxed<int> state{kReady};
  Relaxed<const char*> site_file{nullptr};
  Relaxed<int> site_line{0};
  std::exception_ptr error;
  void* stack = nullptr;
  bool started = false;
  void* tsan = nullptr;
  void* asan_fake = nullptr;
};

// A __shared__ variable of the running block, followed by kRedzone poisoned bytes that must stay
// poisoned (a write past its end is reported at the end of the block). Without the redzone under
// ASan, which sees the overflow itself.
struct SharedVar {
  const void* tag;
  void* ptr;
  size_t bytes;
};
#ifdef CUDASIM_ASAN
constexpr size_t kRedzone = 0;
#else
constexpr size_t kRedzone = 64;
#endif

struct Launch {
  const char* kernel;
  const char* file;
  int line;
  detail::Body* body;
  ucontext_t sched;
  void* sched_tsan = nullptr;
  void* sched_asan_fake = nullptr;
  const void* main_bottom = nullptr;
  size_t main_size = 0;
  Relaxed<Fiber*> current{nullptr};
  std::vector<SharedVar> shared;  // this block's __shared__ variables
  int64_t shared_bytes = 0;
  std::vector<void*> stack_pool;                          // stacks free for reuse (not under TSan)
  std::vector<void*> deferred_frees;                      // freed after the launch (TSan: no false races on reuse)
  std::vector<std::unique_ptr<Fiber[]>> deferred_fibers;  // TSan: freed after the launch
  Relaxed<char*> barrier_sync{nullptr};                   // TSan sync address of the running block's barrier
  char end_sync = 0;                                      // TSan sync address of the kernel's end
};
thread_local Relaxed<Launch*> t_launch{nullptr};

void tsan_acquire(void* p) {
#ifdef CUDASIM_TSAN
  __tsan_acquire(p);
#else
  (void)p;
#endif
}
void tsan_release(void* p) {
#ifdef CUDASIM_TSAN
  __tsan_release(p);
#else
  (void)p;
#endif
}
void asan_start(void** fake, const void* bottom, size_t size) {
#ifdef CUDASIM_ASAN
  __sanitizer_start_switch_fiber(fake, bottom, size);
#else
  (void)fake, (void)bottom, (void)size;
#endif
}
void asan_finish(void* fake, const void** bottom, size_t* size) {
#ifdef CUDASIM_ASAN
  __sanitizer_finish_switch_fiber(fake, bottom, size);
#else
  (void)fake, (void)bottom, (void)size;
#endif
}

std::string triple(const uint3& v) {
  return "(" + std::to_string(v.x) + "," + std::to_string(v.y) + "," + std::to_string(v.z) + ")";
}
std::string where(const Launch& L) {
  return std::string(L.kernel) + " launched at " + L.file + ":" + std::to_string(L.line);
}

// Back to the scheduler; returns when the scheduler resumes this fiber.
void switch_to_scheduler(Launch& L, Fiber& f) {
  asan_start(&f.asan_fake, L.main_bottom, L.main_size);
#ifdef CUDASIM_TSAN
  __tsan_switch_to_fiber(L.sched_tsan, __tsan_switch_to_fiber_no_sync);
#endif
  swapcontext(&f.ctx, &L.sched);
  asan_finish(f.asan_fake, nullptr, nullptr);
}

void fiber_entry() {
  tsan_acquire(&t_launch);  // what the host did before this thread's start (the launch, its setup)
  Launch& L = *t_launch.load();
  Fiber& f = *L.current.load();
  asan_finish(nullptr, &L.main_bottom, &L.main_size);
  try {
    L.body->run();
    f.state = kDone;
  } catch (...) {
    f.error = std::current_exception();
    f.state = kFailed;
  }
  // Read what the switch needs before the release: after it, the host may reuse L's memory.
  ucontext_t* sched = &L.sched;
  const void* bottom = L.main_bottom;
  const size_t size = L.main_size;
#ifdef CUDASIM_TSAN
  void* sched_fiber = L.sched_tsan;
#endif
  tsan_release(&L.end_sync);  // the kernel's end orders this thread before the host's next step
  asan_start(nullptr, bottom, size);
#ifdef CUDASIM_TSAN
  __tsan_switch_to_fiber(sched_fiber, __tsan_switch_to_fiber_no_sync);
#endif
  swapcontext(&f.ctx, sched);
}

#ifdef CUDASIM_TSAN
// One TSan fiber per CUDA (block, thread), reused by later launches: the kernel boundary orders
// them anyway, and creating one per thread and launch exhausts TSan's memory.
void* tsan_fiber(const std::string& name) {
  static thread_local std::unordered_map<std::string, void*> fibers;
  void*& f = fibers[name];
  if (!f) {
    f = __tsan_create_fiber(0);
    __tsan_set_fiber_name(f, name.c_str());
  }
  return f;
}
#endif

void* take_stack(Launch& L) {
  if (!L.stack_pool.empty()) {
    void* s = L.stack_pool.back();
    L.stack_pool.pop_back();
    return s;
  }
  void* s = std::aligned_alloc(64, kStackBytes);
  if (!s) throw Error("cudasim: out of memory for fiber stacks");
  return s;
}

void resume(Launch& L, Fiber& f) {
  L.current = &f;
  detail::t_current.store(&f.vars, std::memory_order_relaxed);
  if (!f.started) {
    f.started = true;
    f.stack = take_stack(L);
    getcontext(&f.ctx);
    f.ctx.uc_stack.ss_sp = f.stack;
    f.ctx.uc_stack.ss_size = kStackBytes;
    f.ctx.uc_link = nullptr;
    makecontext(&f.ctx, fiber_entry, 0);
#ifdef CUDASIM_TSAN
    f.tsan = tsan_fiber("cuda block " + triple(f.vars.bid) + " thread " + triple(f.vars.tid));
#endif
    tsan_release(&t_launch);
  }
  asan_start(&L.sched_asan_fake, f.stack, kStackBytes);
#ifdef CUDASIM_TSAN
  __tsan_switch_to_fiber(f.tsan, __tsan_switch_to_fiber_no_sync);
#endif
  swapcontext(&L.sched, &f.ctx);
  asan_finish(L.sched_asan_fake, nullptr, nullptr);
  detail::t_current.store(nullptr, std::memory_order_relaxed);
}

// Frees what the launch allocated; abandoned fibers' stacks are not reused.
void finish_launch(Launch& L) {
#ifdef CUDASIM_TSAN
  __tsan_acquire(&L.end_sync);
#endif
  for (void* p : L.deferred_frees) std::free(p);
  L.deferred_fibers.clear();
  for (void* p : L.stack_pool) std::free(p);
}

void run_block(Launch& L, const ThreadVars& base, std::mt19937_64& rng) {
  const int64_t nt = int64_t(base.bdim.x) * base.bdim.y * base.bdim.z;
  std::unique_ptr<Fiber[]> storage(new Fiber[nt]);
  Fiber* fibers = storage.get();
  L.barrier_sync = static_cast<char*>(std::malloc(1));  // a fresh sync object per block
  L.deferred_frees.push_back(L.barrier_sync);
#ifdef CUDASIM_TSAN  // the fibers outlive the block: freeing them now would be a race for TSan
  L.deferred_fibers.push_back(std::move(storage));
#endif
  std::vector<int64_t> order(nt);
  for (int64_t t = 0; t < nt; ++t) {
    ThreadVars v = base;
    v.tid = uint3{unsigned(t % base.bdim.x), unsigned(t / base.bdim.x % base.bdim.y),
                  unsigned(t / (int64_t(base.bdim.x) * base.bdim.y))};
    fibers[t].vars = v;
    order[t] = t;
  }
  L.shared.clear();
  L.shared_bytes = 0;
  const Schedule sched = schedule();
  if (sched == Schedule::Reverse) std::reverse(order.begin(), order.end());
  auto fail = [&](const std::string& msg) {
    // abandoned fibers keep their stacks out of the pool (their frames never unwound)
    for (int64_t t = 0; t < nt; ++t)
      if (fibers[t].started && fibers[t].state != kDone) L.deferred_frees.push_back(fibers[t].stack);
    for (auto& s : L.shared) L.deferred_frees.push_back(s.ptr);
    L.shared.clear();
    throw Error("cudasim: " + where(L) + ", block " + triple(base.bid) + ": " + msg);
  };
  for (;;) {
    if (sched == Schedule::Random) std::shuffle(order.begin(), order.end(), rng);
    for (int64_t t : order) {
      Fiber& f = fibers[t];
      if (f.state != kReady) continue;
      resume(L, f);
      const int st = f.state;
      if (st == kFailed) {
#ifdef CUDASIM_TSAN
        __tsan_acquire(&L.end_sync);
#endif
        std::string what = "unknown exception";
        try {
          std::rethrow_exception(f.error);
        } catch (const std::exception& e) {
          what = e.what();
        } catch (...) {
        }
        fail("thread " + triple(f.vars.tid) + ": " + what);
      }
      if (st == kDone) {
#ifdef CUDASIM_TSAN
        L.deferred_frees.push_back(f.stack);  // no reuse: TSan would see the reuse as a race
#else
        L.stack_pool.push_back(f.stack);
#endif
        f.stack = nullptr;
      }
    }
    int64_t done = 0, waiting = 0;
    const Fiber* first_wait = nullptr;
    const Fiber* first_done = nullptr;
    for (int64_t t = 0; t < nt; ++t) {
      const Fiber& f = fibers[t];
      if (f.state == kDone) {
        ++done;
        if (!first_done) first_done = &f;
      } else {
        ++waiting;
        if (!first_wait) first_wait = &f;
      }
    }
    if (waiting == 0) break;
    auto site = [](const Fiber& f) {
      return std::string(f.site_file.load()) + ":" + std::to_string(f.site_line.load());
    };
    if (done > 0)
      fail("barrier divergence: " + std::to_string(waiting) + " threads wait at __syncthreads() at " +
           site(*first_wait) + " (first: thread " + triple(first_wait->vars.tid) + ") but " + std::to_string(done) +
           " have exited (first: thread " + triple(first_done->vars.tid) + ")");
    for (int64_t t = 0; t < nt; ++t)
      if (const Fiber& f = fibers[t];
          f.site_file.load() != first_wait->site_file.load() || f.site_line.load() != first_wait->site_line.load())
        fail("barrier divergence: thread " + triple(first_wait->vars.tid) + " waits at " + site(*first_wait) +
             ", thread " + triple(f.vars.tid) + " at " + site(f));
    for (int64_t t = 0; t < nt; ++t) fibers[t].state = kReady;
  }
  for (auto& s : L.shared) {
    const unsigned char* z = static_cast<const unsigned char*>(s.ptr) + s.bytes;
    for (size_t i = 0; i < kRedzone; ++i)
      if (z[i] != 0xFF)
        fail("write " + std::to_string(i) + " bytes past the end of a " + std::to_string(s.bytes) +
             "-byte __shared__ variable");
  }
  for (auto& s : L.shared) L.deferred_frees.push_back(s.ptr);
  L.shared.clear();
}

std::string dims(const Dims& d) {
  return "(" + std::to_string(d.x) + ", " + std::to_string(d.y) + ", " + std::to_string(d.z) + ")";
}

// The checks a GPU makes at launch (cudaErrorInvalidConfiguration); empty when valid.
std::string config_error(const Config& c) {
  std::ostringstream e;
  const Dims &g = c.grid, &b = c.block;
  if (g.x < 1 || g.x > 2147483647) e << "grid.x = " << g.x << " outside [1, 2^31 - 1]; ";
  if (g.y < 1 || g.y > 65535) e << "grid.y = " << g.y << " outside [1, 65535]; ";
  if (g.z < 1 || g.z > 65535) e << "grid.z = " << g.z << " outside [1, 65535]; ";
  if (b.x < 1 || b.x > 1024) e << "block.x = " << b.x << " outside [1, 1024]; ";
  if (b.y < 1 || b.y > 1024) e << "block.y = " << b.y << " outside [1, 1024]; ";
  if (b.z < 1 || b.z > 64) e << "block.z = " << b.z << " outside [1, 64]; ";
  if (b.x >= 1 && b.y >= 1 && b.z >= 1 && b.x * b.y * b.z > 1024)
    e << "block has " << b.x * b.y * b.z << " > 1024 threads; ";
  if (c.shmem < 0 || c.shmem > kMaxSharedBytes)
    e << "dynamic shared memory " << c.shmem << " bytes outside [0, 48 KiB]; ";
  return e.str();
}

}  // namespace

void configure(Schedule s, uint64_t seed) {
  g_schedule = static_cast<int>(s);
  g_seed = seed;
  g_launches = 0;
}
Schedule schedule() { return static_cast<Schedule>(g_schedule.load()); }
uint64_t launches() { return g_launches.load(); }

namespace {
std::mutex g_sync_mutex;
bool g_recording = false;               // guarded by g_sync_mutex (the glue may sync from any thread)
std::vector<std::string> g_host_syncs;  // guarded by g_sync_mutex
}  // namespace

void record_host_syncs() {
  const std::lock_guard<std::mutex> lock(g_sync_mutex);
  g_host_syncs.clear();
  g_recording = true;
}

void note_host_sync(const char* what) {
  const std::lock_guard<std::mutex> lock(g_sync_mutex);
  if (g_recording) g_host_syncs.emplace_back(what);
}

std::vector<std::string> take_host_syncs() {
  const std::lock_guard<std::mutex> lock(g_sync_mutex);
  g_recording = false;
  return std::exchange(g_host_syncs, {});
}

int last_error(bool clear) {
  const int e = t_last_error;
  if (clear) t_last_error = 0;
  return e;
}
const char* last_error_detail() { return t_last_detail.c_str(); }

namespace detail {

bool run_launch(const char* kernel, const char* file, int line, const Config& cfg, Body* body) {
  if (t_launch) throw Error(std::string("cudasim: launch of ") + kernel + " from device code is not supported");
  const std::string bad = config_error(cfg);
  if (!bad.empty()) {
    t_last_error = 9;  // cudaErrorInvalidConfiguration, sticky until cudaGetLastError
    t_last_detail = std::string("invalid configuration argument (cudasim: ") + kernel + " launched at " + file + ":" +
                    std::to_string(line) + " with grid " + dims(cfg.grid) + ", block " + dims(cfg.block) + ": " +
                    bad.substr(0, bad.size() - 2) + ")";
    return false;
  }
  const int64_t nblocks = cfg.grid.x * cfg.grid.y * cfg.grid.z;
  if (nblocks > (int64_t(1) << 24))
    throw Error("cudasim: " + std::string(kernel) + " at " + file + ":" + std::to_string(line) + ": grid of " +
                std::to_string(nblocks) + " blocks is too large to simulate (build with smaller TORCHAUC_MAX_GRID)");
  const uint64_t index = g_launches++;
  std::mt19937_64 rng(g_seed.load() * 0x9E3779B97F4A7C15ull + index);
  Launch L{};
  L.kernel = kernel;
  L.file = file;
  L.line = line;
  L.body = body;
#ifdef CUDASIM_TSAN
  L.sched_tsan = __tsan_get_current_fiber();
#endif
  std::vector<int64_t> order(nblocks);
  for (int64_t i = 0; i < nblocks; ++i) order[i] = i;
  if (schedule() == Schedule::Reverse) std::reverse(order.begin(), order.end());
  if (schedule() == Schedule::Random) std::shuffle(order.begin(), order.end(), rng);
  ThreadVars base{};
  base.bdim = dim3(unsigned(cfg.block.x), unsigned(cfg.block.y), unsigned(cfg.block.z));
  base.gdim = dim3(unsigned(cfg.grid.x), unsigned(cfg.grid.y), unsigned(cfg.grid.z));
  t_launch = &L;
  try {
    for (int64_t blk : order) {
      base.bid = uint3{unsigned(blk % cfg.grid.x), unsigned(blk / cfg.grid.x % cfg.grid.y),
                       unsigned(blk / (cfg.grid.x * cfg.grid.y))};
      run_block(L, base, rng);
    }
  } catch (...) {
    t_launch = nullptr;
    finish_launch(L);
    throw;
  }
  t_launch = nullptr;
  finish_launch(L);
  return true;
}

void* shared_storage(const void* tag, size_t bytes, size_t align) {
  Launch* L = t_launch.load();
  if (!L || !L->current) throw Error("cudasim: __shared__ variable used outside a kernel");
#ifdef CUDASIM_TSAN  // harness bookkeeping and the poison fill are not the kernel's accesses
  AnnotateIgnoreReadsBegin(__FILE__, __LINE__);
  AnnotateIgnoreWritesBegin(__FILE__, __LINE__);
#endif
  void* p = nullptr;
  for (auto& s : L->shared)
    if (s.tag == tag) p = s.ptr;
  if (!p) {
    L->shared_bytes += static_cast<int64_t>(bytes);
    if (L->shared_bytes <= kMaxSharedBytes) {
      const size_t a = std::max<size_t>(align, 16);
      p = std::aligned_alloc(a, (bytes + kRedzone + a - 1) / a * a);
      std::memset(p, 0xFF, bytes + kRedzone);  // poison: NaN for floats, -1 for integers
      L->shared.push_back({tag, p, bytes});
    }
  }
#ifdef CUDASIM_TSAN
  AnnotateIgnoreWritesEnd(__FILE__, __LINE__);
  AnnotateIgnoreReadsEnd(__FILE__, __LINE__);
#endif
  if (!p)
    throw Error("static __shared__ memory of the block exceeds 48 KiB (" + std::to_string(L->shared_bytes) + " bytes)");
  return p;
}

}  // namespace detail

void syncthreads(const char* file, int line) {
  Launch* L = t_launch.load();
  if (!L || !L->current) throw Error(std::string("cudasim: __syncthreads() outside a kernel at ") + file);
  Fiber& f = *L->current.load();
  f.site_file = file;
  f.site_line = line;
  f.state = kBarrier;
  char* sync = L->barrier_sync;
  tsan_release(sync);
  switch_to_scheduler(*L, f);
  tsan_acquire(sync);
}

}  // namespace cudasim
