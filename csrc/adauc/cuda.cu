// CUDA kernels of the AdAUC family; the math is math.h, shared with the CPU kernels. The loss
// reduction is two-pass (fixed grid of per-block partials, then one block combines them in
// order): deterministic. The l2 PGD step gives each sample one block (two block reductions).
#include <cuda_runtime.h>

#include <algorithm>

#include "adauc/cuda.h"
#include "adauc/math.h"
#include "core/launch.cuh"

namespace torchauc::adauc {
namespace cuda {
namespace {

constexpr int64_t kMaxPartials = 1024;

int num_blocks(int64_t n) { return static_cast<int>(grid_for(n, kThreads, std::min(kMaxPartials, kMaxGrid))); }

using Acc = Doubles<kSums>;

__device__ Acc block_sum(const Acc& x) {
  __shared__ Acc sh[kThreads];
  return block_reduce(x, SumOp(), sh);
}

template <typename T>
__global__ void sums_kernel(const T* s, const int8_t* y, int64_t n, const double* params, double* partials) {
  Acc acc{};
  const double a = params[0], b = params[1];
  for (int64_t i = blockIdx.x * static_cast<int64_t>(blockDim.x) + threadIdx.x; i < n;
       i += static_cast<int64_t>(gridDim.x) * blockDim.x)
    adauc_add(static_cast<double>(load(s, i)), y[i] != 0, a, b, acc.v);
  acc = block_sum(acc);
  if (threadIdx.x == 0)
    for (int k = 0; k < kSums; ++k) partials[blockIdx.x * kSums + k] = acc.v[k];
}

// One block: combines the partials in order, writes out[0..3] and the gradient coefficients.
__global__ void finish_kernel(int nparts, const double* partials, int64_t n, const double* params, double imratio,
                              double margin, int form, double* out, AdaucScalars* coef) {
  Acc acc{};
  for (int p = threadIdx.x; p < nparts; p += blockDim.x)
    for (int k = 0; k < kSums; ++k) acc.v[k] += partials[p * kSums + k];
  acc = block_sum(acc);
  if (threadIdx.x != 0) return;
  const AdaucScalars c = adauc_finish(acc.v, static_cast<double>(n), imratio, params[0], params[1], params[2], margin,
                                      static_cast<Form>(form));
  out[0] = c.loss;
  out[1] = c.grad_a;
  out[2] = c.grad_b;
  out[3] = c.grad_alpha;
  *coef = c;
}

template <typename T>
__global__ void grad_kernel(const T* s, const int8_t* y, int64_t n, const AdaucScalars* coef, T* g) {
  const AdaucScalars c = *coef;
  for (int64_t i = blockIdx.x * static_cast<int64_t>(blockDim.x) + threadIdx.x; i < n;
       i += static_cast<int64_t>(gridDim.x) * blockDim.x)
    store(g, i, adauc_grad_score(c, static_cast<double>(load(s, i)), y[i] != 0));
}

// The arithmetic type of the step: float for 16-bit and float, double for double (as PyTorch's opmath).
template <typename T>
struct Math {
  using type = float;
};
template <>
struct Math<double> {
  using type = double;
};

template <typename T>
__global__ void linf_kernel(const T* x, const T* d, const T* g, T* out, int64_t total, double eps, double step,
                            double lower, double upper) {
  using M = typename Math<T>::type;
  for (int64_t i = blockIdx.x * static_cast<int64_t>(blockDim.x) + threadIdx.x; i < total;
       i += static_cast<int64_t>(gridDim.x) * blockDim.x)
    store(out, i,
          linf_step<M>(load(d, i), load(g, i), load(x, i), static_cast<M>(eps), static_cast<M>(step),
                       static_cast<M>(lower), static_cast<M>(upper)));
}

template <typename T>
__global__ void l2_kernel(const T* x, const T* d, const T* g, T* out, int64_t rows, int64_t cols, double eps,
                          double step, double lower, double upper) {
  using M = typename Math<T>::type;
  __shared__ double sh[kThreads];
  const M st = static_cast<M>(step), lo = static_cast<M>(lower), hi = static_cast<M>(upper);
  for (int64_t r = blockIdx.x; r < rows; r += gridDim.x) {
    const int64_t base = r * cols;
    double gsq = 0.0;
    for (int64_t j = threadIdx.x; j < cols; j += blockDim.x) {
      const double v = static_cast<double>(load(g, base + j));
      gsq += v * v;
    }
    const M denom = static_cast<M>(l2_denom(block_reduce(gsq, SumOp(), sh)));
    double dsq = 0.0;
    for (int64_t j = threadIdx.x; j < cols; j += blockDim.x) {
      const double v = l2_raw_step<M>(load(d, base + j), load(g, base + j), denom, st);
      dsq += v * v;
    }
    const M f = static_cast<M>(l2_renorm_factor(block_reduce(dsq, SumOp(), sh), eps));
    for (int64_t j = threadIdx.x; j < cols; j += blockDim.x) {
      const M v = l2_raw_step<M>(load(d, base + j), load(g, base + j), denom, st) * f;
      store(out, base + j, range_clamp<M>(v, load(x, base + j), lo, hi));
    }
  }
}

}  // namespace

// partials, then the coefficients (AdaucScalars, 10 doubles) at the end of the buffer
int64_t adauc_partials_size(int64_t n) {
  return static_cast<int64_t>(num_blocks(n)) * kSums + sizeof(AdaucScalars) / sizeof(double);
}

void launch_adauc_loss(Dtype dtype, const void* s, const int8_t* y, int64_t n, const double* params, double imratio,
                       double margin, int form, double* partials, double* out, void* grad_s, cudaStream_t stream) {
  const int blocks = num_blocks(n);
  auto* coef = reinterpret_cast<AdaucScalars*>(partials + static_cast<int64_t>(blocks) * kSums);
  visit_floating(dtype, [&](auto tag) {
    using T = typename decltype(tag)::type;
    sums_kernel<T><<<blocks, kThreads, 0, stream>>>(static_cast<const T*>(s), y, n, params, partials);
    finish_kernel<<<1, kThreads, 0, stream>>>(blocks, partials, n, params, imratio, margin, form, out, coef);
    if (grad_s)
      grad_kernel<T><<<blocks, kThreads, 0, stream>>>(static_cast<const T*>(s), y, n, coef, static_cast<T*>(grad_s));
  });
}

void launch_pgd_step(Dtype dtype, int norm, const void* x, const void* d, const void* g, void* out, int64_t rows,
                     int64_t cols, double eps, double step, double lower, double upper, cudaStream_t stream) {
  const int64_t total = rows * cols;
  if (total == 0) return;
  visit_floating(dtype, [&](auto tag) {
    using T = typename decltype(tag)::type;
    const T *xp = static_cast<const T*>(x), *dp = static_cast<const T*>(d), *gp = static_cast<const T*>(g);
    T* op = static_cast<T*>(out);
    if (norm == static_cast<int>(Norm::Linf))
      linf_kernel<T><<<grid_for(total), kThreads, 0, stream>>>(xp, dp, gp, op, total, eps, step, lower, upper);
    else
      l2_kernel<T><<<grid_for(rows, 1), kThreads, 0, stream>>>(xp, dp, gp, op, rows, cols, eps, step, lower, upper);
  });
}

}  // namespace cuda
}  // namespace torchauc::adauc
