// CUDA kernels of the AUC-M family; the math is math.h, shared with the CPU kernels. The moments
// are a deterministic two-pass column reduction: blocks of W label columns x H row lanes over fixed
// row chunks write per-chunk partials, then one block combines them in chunk order per label, runs
// the per-label epilogue and reduces the weighted loss; an elementwise pass writes the gradient.
#include <cuda_runtime.h>

#include <algorithm>

#include "aucm/cuda.h"
#include "aucm/math.h"
#include "core/launch.cuh"

namespace torchauc::aucm {
namespace cuda {
namespace {

using Acc = Doubles<kMoments>;
constexpr int64_t kRowsPerLane = 16;       // rows one thread folds per chunk, before the chunk count caps
constexpr int64_t kMaxChunks = 1024;       // partials: at most this many chunks ...
constexpr int64_t kMaxPartials = 1 << 18;  // ... and this many (chunk, label) pairs for the combining block

// The column reduction's shape for a (rows, cols) batch, fixed by the sizes only (determinism).
struct Shape {
  int width, lanes;  // W label columns x H row lanes per block
  int64_t chunk_rows, chunks;
};

Shape shape_of(int64_t rows, int64_t cols) {
  Shape sh;
  sh.width = static_cast<int>(std::min<int64_t>(cols, 32));
  sh.lanes = kThreads / sh.width;
  const int64_t cap = std::max<int64_t>(1, std::min(kMaxChunks, kMaxPartials / cols));
  const int64_t want = (rows + sh.lanes * kRowsPerLane - 1) / (sh.lanes * kRowsPerLane);
  const int64_t chunks = std::max<int64_t>(1, std::min(want, cap));
  sh.chunk_rows = std::max<int64_t>(1, (rows + chunks - 1) / chunks);
  sh.chunks = std::max<int64_t>(1, (rows + sh.chunk_rows - 1) / sh.chunk_rows);
  return sh;
}

__device__ double label_value(const double* y, int64_t i) { return y[i]; }
template <typename T>
__device__ double label_value(const T* y, int64_t i) {
  return static_cast<double>(load(y, i));
}

// partials[(k * 6 + j) * cols + c]: moment j of label c over row chunk k.
template <typename T, typename L>
__global__ void moments_kernel(const T* s, const L* y, int64_t rows, int64_t cols, Shape sh, double* partials) {
  __shared__ Acc lane_sums[kThreads];
  const int tx = threadIdx.x % sh.width, ty = threadIdx.x / sh.width;
  const bool lane = ty < sh.lanes;
  for (int64_t tile = blockIdx.x; tile * sh.width < cols; tile += gridDim.x) {
    const int64_t c = tile * sh.width + tx;
    for (int64_t k = blockIdx.y; k < sh.chunks; k += gridDim.y) {
      Acc acc{};
      if (lane && c < cols) {
        const int64_t end = (k + 1) * sh.chunk_rows < rows ? (k + 1) * sh.chunk_rows : rows;
        for (int64_t r = k * sh.chunk_rows + ty; r < end; r += sh.lanes)
          aucm_add(static_cast<double>(load(s, r * cols + c)), sides_of(label_value(y, r * cols + c)), acc.v[0],
                   acc.v[1], acc.v[2], acc.v[3], acc.v[4], acc.v[5]);
      }
      lane_sums[threadIdx.x] = acc;
      __syncthreads();
      if (ty == 0 && c < cols) {
        Acc total{};
        for (int l = 0; l < sh.lanes; ++l)
          for (int j = 0; j < kMoments; ++j) total.v[j] += lane_sums[l * sh.width + tx].v[j];
        for (int j = 0; j < kMoments; ++j) partials[(k * kMoments + j) * cols + c] = total.v[j];
      }
      __syncthreads();
    }
  }
}

// Label c's moments: the chunks' partials summed in chunk order.
__device__ Acc combine(const double* partials, int64_t chunks, int64_t cols, int64_t c) {
  Acc m{};
  for (int64_t k = 0; k < chunks; ++k)
    for (int j = 0; j < kMoments; ++j) m.v[j] += partials[(k * kMoments + j) * cols + c];
  return m;
}

__global__ void moments_out_kernel(const double* partials, int64_t chunks, int64_t cols, int64_t rows, double* out) {
  for (int64_t c = blockIdx.x * static_cast<int64_t>(blockDim.x) + threadIdx.x; c < cols;
       c += static_cast<int64_t>(gridDim.x) * blockDim.x) {
    const Acc m = combine(partials, chunks, cols, c);
    for (int j = 0; j < kMoments; ++j) out[j * cols + c] = m.v[j];
  }
  if (blockIdx.x == 0 && threadIdx.x == 0) out[kMoments * cols] = static_cast<double>(rows);
}

// One block: each label's moments (from the partials, or `moments` when given), its epilogue and
// coefficients; out[0] = the labels' weighted losses summed by a block reduction.
__global__ void finish_kernel(const double* partials, int64_t chunks, const double* moments, int64_t rows, int64_t cols,
                              const double* params, double margin, bool v2, bool batch_prior, double* out,
                              LabelResult* coef) {
  __shared__ double sh[kThreads];
  const double n = moments ? moments[kMoments * cols] : static_cast<double>(rows);
  double loss = 0.0;
  for (int64_t c = threadIdx.x; c < cols; c += blockDim.x) {
    const Acc m = moments ? combine(moments, 1, cols, c) : combine(partials, chunks, cols, c);
    const LabelParams q{params[c], params[cols + c], params[2 * cols + c], params[3 * cols + c], params[4 * cols + c]};
    const LabelResult r = aucm_finish(m.v[0], m.v[1], m.v[2], m.v[3], m.v[4], m.v[5], n, q, margin, v2, batch_prior);
    coef[c] = r;
    loss += r.loss;
    out[1 + c] = r.grad_a;
    out[1 + cols + c] = r.grad_b;
    out[1 + 2 * cols + c] = r.grad_alpha;
  }
  loss = block_reduce(loss, SumOp(), sh);
  if (threadIdx.x == 0) out[0] = loss;
}

template <typename T, typename L>
__global__ void grad_kernel(const T* s, const L* y, int64_t total, int64_t cols, const LabelResult* coef, T* g) {
  for (int64_t i = blockIdx.x * static_cast<int64_t>(blockDim.x) + threadIdx.x; i < total;
       i += static_cast<int64_t>(gridDim.x) * blockDim.x)
    store(g, i, aucm_grad_score(coef[i % cols], static_cast<double>(load(s, i)), sides_of(label_value(y, i))));
}

// f(TypeTag<T>, TypeTag<L>) for the scores' dtype T and the labels' type L (T or double).
template <typename F>
void visit_columns(Dtype dtype, bool labels_double, F&& f) {
  visit_floating(dtype, [&](auto tag) {
    if (labels_double)
      f(tag, TypeTag<double>{});
    else
      f(tag, tag);
  });
}

// The partials of the batch into work[0 ..); returns the shape used.
template <typename T, typename L>
Shape launch_partials(const T* s, const L* y, int64_t rows, int64_t cols, double* work, cudaStream_t stream) {
  const Shape sh = shape_of(rows, cols);
  const dim3 grid(grid_for(cols, sh.width), static_cast<unsigned>(std::min<int64_t>(sh.chunks, kMaxGridY)));
  moments_kernel<T, L><<<grid, kThreads, 0, stream>>>(s, y, rows, cols, sh, work);
  return sh;
}

int64_t partials_size(int64_t rows, int64_t cols) { return shape_of(rows, cols).chunks * kMoments * cols; }

}  // namespace

// partials, then the per-label coefficients (LabelResult, 10 doubles each)
int64_t aucm_work_size(int64_t rows, int64_t cols) {
  return partials_size(rows, cols) + cols * static_cast<int64_t>(sizeof(LabelResult) / sizeof(double));
}

void launch_aucm_moments(Dtype dtype, bool labels_double, const void* s, const void* y, int64_t rows, int64_t cols,
                         double* work, double* out, cudaStream_t stream) {
  visit_columns(dtype, labels_double, [&](auto st, auto lt) {
    using T = typename decltype(st)::type;
    using L = typename decltype(lt)::type;
    const Shape sh = launch_partials(static_cast<const T*>(s), static_cast<const L*>(y), rows, cols, work, stream);
    moments_out_kernel<<<grid_for(cols), kThreads, 0, stream>>>(work, sh.chunks, cols, rows, out);
  });
}

void launch_aucm_loss(Dtype dtype, bool labels_double, const void* s, const void* y, int64_t rows, int64_t cols,
                      const double* params, const double* moments, double margin, bool v2, bool batch_prior,
                      double* work, double* out, void* grad_s, cudaStream_t stream) {
  auto* coef = reinterpret_cast<LabelResult*>(work + partials_size(rows, cols));
  visit_columns(dtype, labels_double, [&](auto st, auto lt) {
    using T = typename decltype(st)::type;
    using L = typename decltype(lt)::type;
    const T* sp = static_cast<const T*>(s);
    const L* yp = static_cast<const L*>(y);
    int64_t chunks = 0;
    if (!moments) chunks = launch_partials(sp, yp, rows, cols, work, stream).chunks;
    finish_kernel<<<1, kThreads, 0, stream>>>(work, chunks, moments, rows, cols, params, margin, v2, batch_prior, out,
                                              coef);
    const int64_t total = rows * cols;
    if (grad_s && total > 0)
      grad_kernel<T, L><<<grid_for(total), kThreads, 0, stream>>>(sp, yp, total, cols, coef, static_cast<T*>(grad_s));
  });
}

}  // namespace cuda
}  // namespace torchauc::aucm
