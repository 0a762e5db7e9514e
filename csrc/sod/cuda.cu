// CUDA kernels of the size-invariant SOD ops: connected components by union-find (roots are the
// smallest pixel index of a component, so the result does not depend on the schedule), the SI loss
// (one block per (image, frame) reduces the frame's sums deterministically, one thread per pixel
// writes the gradient), and the SI metric statistics (one block per (image, region): integer
// histograms in shared memory, block-reduced MAE sums). The math is in math.h, shared with the CPU.
#include <cuda_bf16.h>
#include <cuda_fp16.h>

#include <algorithm>
#include <cstdint>

#include "core/launch.cuh"
#include "sod/cuda.h"
#include "sod/math.h"

namespace torchauc::sod {
namespace cuda {
namespace {

#define SOD_GRID_STRIDE(t, total) \
  for (int64_t t = blockIdx.x * (int64_t)blockDim.x + threadIdx.x; t < (total); t += (int64_t)gridDim.x * blockDim.x)

// ------------------------------------------------------------------ connected components
__device__ int32_t find_root(const int32_t* parent, int32_t i) {
  int32_t p = parent[i];
  while (p != i) {
    i = p;
    p = parent[i];
  }
  return i;
}

// Links the components of a and b: the larger root points to the smaller (labels only decrease).
__device__ void unite(int32_t* parent, int32_t a, int32_t b) {
  while (true) {
    a = find_root(parent, a);
    b = find_root(parent, b);
    if (a == b) return;
    if (a > b) {
      const int32_t t = a;
      a = b;
      b = t;
    }
    const int32_t old = atomicMin(parent + b, a);
    if (old == b) return;
    b = old;
  }
}

__global__ void init_kernel(const bool* __restrict__ fg, int64_t total, int64_t HW, int32_t* parent) {
  SOD_GRID_STRIDE(t, total) { parent[t] = fg[t] ? static_cast<int32_t>(t % HW) : -1; }
}

__global__ void merge_kernel(int64_t B, int64_t H, int64_t W, bool eight, int32_t* parent) {
  SOD_GRID_STRIDE(t, B * H * W) {
    const int64_t HW = H * W, b = t / HW, j = t % HW, y = j / W, x = j % W;
    int32_t* par = parent + b * HW;
    if (par[j] < 0) continue;
    // the neighbours before this pixel in raster order: left, up (and up-left, up-right)
    const int64_t dys[4] = {0, -1, -1, -1}, dxs[4] = {-1, 0, -1, 1};
    for (int n = 0; n < (eight ? 4 : 2); ++n) {
      const int64_t yy = y + dys[n], xx = x + dxs[n];
      if (yy < 0 || xx < 0 || xx >= W) continue;
      const int64_t q = yy * W + xx;
      if (par[q] >= 0) unite(par, static_cast<int32_t>(j), static_cast<int32_t>(q));
    }
  }
}

__global__ void stats_kernel(int64_t B, int64_t HW, int32_t* parent, int32_t* area, int32_t* first) {
  SOD_GRID_STRIDE(t, B * HW) {
    const int64_t b = t / HW, j = t % HW;
    int32_t* par = parent + b * HW;
    if (par[j] < 0) continue;
    const int32_t r = find_root(par, static_cast<int32_t>(j));
    par[j] = r;
    atomicAdd(area + b * HW + r, 1);
    atomicMin(first + b, static_cast<int32_t>(j));
  }
}

__global__ void big_kernel(int64_t B, int64_t HW, const int32_t* parent, const int32_t* area, int64_t min_area,
                           int32_t* any_big) {
  SOD_GRID_STRIDE(t, B * HW) {
    if (parent[t] == static_cast<int32_t>(t % HW) && area[t] >= min_area) atomicMax(any_big + t / HW, 1);
  }
}

__global__ void flags_kernel(int64_t B, int64_t HW, const int32_t* parent, const int32_t* area, const int32_t* first,
                             int64_t min_area, const int32_t* any_big, int32_t* flags) {
  SOD_GRID_STRIDE(t, B * HW) {
    const int64_t b = t / HW, j = t % HW;
    const bool root = parent[t] == static_cast<int32_t>(j);
    // kept: large enough, or the first component of an image without a large one
    flags[t] = root && (area[t] >= min_area || (!any_big[b] && j == first[b])) ? 1 : 0;
  }
}

__global__ void relabel_kernel(int64_t B, int64_t HW, const int32_t* parent, const int32_t* flags, const int32_t* ids,
                               int32_t* labels) {
  SOD_GRID_STRIDE(t, B * HW) {
    const int64_t b = t / HW;
    const int32_t r = parent[t];
    labels[t] = (r >= 0 && flags[b * HW + r]) ? ids[b * HW + r] : 0;
  }
}

// ------------------------------------------------------------------ SI loss
template <typename T>
using acc_t = typename std::conditional<std::is_same<T, double>::value, double, float>::type;

// Block per item (image b, frame row k <= Kr): frame sums per channel, or (k == Kr) the background sums.
template <typename T>
__global__ void loss_sums_kernel(const T* __restrict__ pred, const T* __restrict__ target, const int64_t* boxes,
                                 const int64_t* counts, int64_t B, int64_t C, int64_t H, int64_t W, int64_t K,
                                 double* sums) {
  using A = acc_t<T>;
  __shared__ Doubles<4> sh[kThreads];
  const int64_t Kr = loss_rows(K);
  for (int64_t t = blockIdx.x; t < B * (Kr + 1); t += gridDim.x) {
    const int64_t b = t / (Kr + 1), k = t % (Kr + 1);
    const LossFrames f = loss_frames(counts, b, K);
    double* s = sums + t * C * kStats;
    const T* g = target + b * H * W;
    if (k < Kr) {
      if (k >= f.n) continue;
      const Box bx = loss_box(boxes, b, k, K, H, W, f.fallback);
      const int64_t bw = bx.x1 - bx.x0, n = bx.area();
      for (int64_t c = 0; c < C; ++c) {
        const T* p = pred + (b * C + c) * H * W;
        Doubles<4> acc{{0, 0, 0, 0}};
        for (int64_t i = threadIdx.x; i < n; i += blockDim.x) {
          const int64_t off = (bx.y0 + i / bw) * W + bx.x0 + i % bw;
          const A pv = (A)load(p, off), gv = (A)load(g, off);
          acc.v[0] += (double)bce<A>(pv, gv);
          acc.v[1] += (double)pv * (double)gv;
          acc.v[2] += (double)pv;
          acc.v[3] += (double)gv;
        }
        acc = block_reduce(acc, SumOp{}, sh);
        if (threadIdx.x == 0)
          for (int q = 0; q < kStats; ++q) s[c * kStats + q] = acc.v[q];
      }
    } else if (!f.fallback) {
      Doubles<4> acc{{0, 0, 0, 0}};
      for (int64_t i = threadIdx.x; i < H * W; i += blockDim.x) {
        const int64_t y = i / W, x = i % W;
        if (frame_bits(boxes, b, f.n, K, H, W, y, x)) continue;
        double pbar = 0;
        for (int64_t c = 0; c < C; ++c) pbar += (double)load(pred + (b * C + c) * H * W, i);
        const double d = pbar / (double)C - (double)load(g, i);
        acc.v[0] += d * d;
        acc.v[1] += 1;
      }
      acc = block_reduce(acc, SumOp{}, sh);
      if (threadIdx.x == 0) s[0] = acc.v[0], s[1] = acc.v[1];
    }
  }
}

// One block: the mean over images of the image losses.
template <typename T>
__global__ void loss_total_kernel(int base, const double* sums, const int64_t* boxes, const int64_t* counts, int64_t B,
                                  int64_t C, int64_t H, int64_t W, int64_t K, T* loss) {
  __shared__ double sh[kThreads];
  double acc = 0;
  for (int64_t b = threadIdx.x; b < B; b += blockDim.x) acc += image_loss(base, sums, boxes, counts, b, K, C, H, W);
  acc = block_reduce(acc, SumOp{}, sh);
  if (threadIdx.x == 0) store(loss, 0, acc / (double)B);
}

template <typename T>
__global__ void loss_grad_kernel(int base, const T* __restrict__ pred, const T* __restrict__ target, const double* sums,
                                 const int64_t* boxes, const int64_t* counts, int64_t B, int64_t C, int64_t H,
                                 int64_t W, int64_t K, T* grad) {
  SOD_GRID_STRIDE(t, B * H * W) {
    const int64_t b = t / (H * W), i = t % (H * W), y = i / W, x = i % W;
    double pbar = 0;
    for (int64_t c = 0; c < C; ++c) pbar += (double)load(pred, (b * C + c) * H * W + i);
    pbar /= (double)C;
    const double g = (double)load(target, t);
    for (int64_t c = 0; c < C; ++c) {
      const int64_t off = (b * C + c) * H * W + i;
      const double d = pixel_grad(base, sums, boxes, counts, b, K, C, H, W, c, y, x, (double)load(pred, off), pbar, g);
      store(grad, off, d * (1.0 / (double)B));
    }
  }
}

// ------------------------------------------------------------------ SI metric statistics
// Block per (image b, region r): histograms of pred and pred_norm over the thresholds (integer
// shared-memory atomics: exact, order-free) and the MAE sums (block reduction).
template <typename T>
__global__ void frame_stats_kernel(const T* __restrict__ pred, const T* __restrict__ norm, const T* __restrict__ target,
                                   const int64_t* boxes, const int64_t* counts, const double* thr, int64_t B, int64_t H,
                                   int64_t W, int64_t K, int64_t T_, bool official, int64_t* hist, double* sums) {
  __shared__ unsigned long long hs[2 * (kMaxThresholds + 1) * 2];
  __shared__ Doubles<3> sh[kThreads];
  const int64_t R = K + 2, NB = T_ + 1;
  for (int64_t t = blockIdx.x; t < B * R; t += gridDim.x) {
    const int64_t b = t / R, r = t % R, kb = frames_of(counts, b, K);
    for (int64_t i = threadIdx.x; i < 2 * NB * 2; i += blockDim.x) hs[i] = 0;
    __syncthreads();
    const bool need_bits = r == K || (official && r < K);
    Doubles<3> acc{{0, 0, 0}};
    for (int pass = 0; pass < 2; ++pass) {
      // pass 0: the histogram region (and the sums when both regions agree); pass 1: the sums of an
      // official frame, which are over the bit-test frame
      const bool split = official && r < K;
      if (pass == 1 && !split) break;
      const bool do_hist = pass == 0, do_sums = !split || pass == 1;
      const Box S = scan_box(boxes, b, r, K, kb, H, W, split && pass == 0);
      const int64_t bw = S.x1 - S.x0, n = S.area();
      for (int64_t i = threadIdx.x; i < n; i += blockDim.x) {
        const int64_t y = S.y0 + i / bw, x = S.x0 + i % bw, off = (b * H + y) * W + x;
        const uint64_t v = need_bits ? frame_bits(boxes, b, kb, K, H, W, y, x) : 0;
        const double g = (double)load(target, off);
        if (do_hist && (!need_bits || in_hist_region(r, K, kb, v, official))) {
          const unsigned long long gf = (unsigned long long)target_fixed(g);
          const int64_t h0 = threshold_bin(thr, T_, (double)load(pred, off)) * 2;
          const int64_t h1 = (NB + threshold_bin(thr, T_, (double)load(norm, off))) * 2;
          atomicAdd(hs + h0, 1ull);
          atomicAdd(hs + h0 + 1, gf);
          atomicAdd(hs + h1, 1ull);
          atomicAdd(hs + h1 + 1, gf);
        }
        if (do_sums && (r != K || in_sum_region(r, K, kb, v))) {
          const double p = (double)load(pred, off);
          acc.v[0] += 1;
          acc.v[1] += g;
          acc.v[2] += p > g ? p - g : (p < g ? g - p : p - g);
        }
      }
    }
    acc = block_reduce(acc, SumOp{}, sh);  // also the barrier before the histogram is read
    for (int64_t i = threadIdx.x; i < 2 * NB * 2; i += blockDim.x) hist[t * 2 * NB * 2 + i] = (int64_t)hs[i];
    if (threadIdx.x == 0)
      for (int q = 0; q < 3; ++q) sums[t * 3 + q] = acc.v[q];
    __syncthreads();  // the histogram is cleared for the next item
  }
}

}  // namespace

void launch_components_merge(const bool* fg, int64_t B, int64_t H, int64_t W, bool eight, int32_t* parent,
                             cudaStream_t stream) {
  const int64_t total = B * H * W;
  if (total == 0) return;
  init_kernel<<<grid_for(total), kThreads, 0, stream>>>(fg, total, H * W, parent);
  merge_kernel<<<grid_for(total), kThreads, 0, stream>>>(B, H, W, eight, parent);
}

void launch_components_stats(int64_t B, int64_t H, int64_t W, int32_t* parent, int32_t* area, int32_t* first,
                             cudaStream_t stream) {
  const int64_t total = B * H * W;
  if (total == 0) return;
  stats_kernel<<<grid_for(total), kThreads, 0, stream>>>(B, H * W, parent, area, first);
}

void launch_components_flags(int64_t B, int64_t H, int64_t W, const int32_t* parent, const int32_t* area,
                             const int32_t* first, int64_t min_area, int32_t* any_big, int32_t* flags,
                             cudaStream_t stream) {
  const int64_t total = B * H * W;
  if (total == 0) return;
  big_kernel<<<grid_for(total), kThreads, 0, stream>>>(B, H * W, parent, area, min_area, any_big);
  flags_kernel<<<grid_for(total), kThreads, 0, stream>>>(B, H * W, parent, area, first, min_area, any_big, flags);
}

void launch_components_relabel(int64_t B, int64_t H, int64_t W, const int32_t* parent, const int32_t* flags,
                               const int32_t* ids, int32_t* labels, cudaStream_t stream) {
  const int64_t total = B * H * W;
  if (total == 0) return;
  relabel_kernel<<<grid_for(total), kThreads, 0, stream>>>(B, H * W, parent, flags, ids, labels);
}

void launch_si_loss(Dtype t, const void* pred, const void* target, const int64_t* boxes, const int64_t* counts,
                    int64_t B, int64_t C, int64_t H, int64_t W, int64_t K, int base, double* sums, void* loss,
                    void* grad, cudaStream_t stream) {
  visit_floating(t, [&](auto tag) {
    using T = typename decltype(tag)::type;
    const T* p = static_cast<const T*>(pred);
    const T* g = static_cast<const T*>(target);
    const unsigned items = grid_for(B * (loss_rows(K) + 1), 1);
    loss_sums_kernel<T><<<items, kThreads, 0, stream>>>(p, g, boxes, counts, B, C, H, W, K, sums);
    loss_total_kernel<T><<<1, kThreads, 0, stream>>>(base, sums, boxes, counts, B, C, H, W, K, static_cast<T*>(loss));
    if (grad != nullptr && B * H * W > 0)
      loss_grad_kernel<T><<<grid_for(B * H * W), kThreads, 0, stream>>>(base, p, g, sums, boxes, counts, B, C, H, W, K,
                                                                        static_cast<T*>(grad));
  });
}

void launch_frame_stats(Dtype t, const void* pred, const void* pred_norm, const void* target, const int64_t* boxes,
                        const int64_t* counts, const double* thresholds, int64_t B, int64_t H, int64_t W, int64_t K,
                        int64_t T, bool official, int64_t* hist, double* sums, cudaStream_t stream) {
  if (B == 0) return;
  visit_floating(t, [&](auto tag) {
    using S = typename decltype(tag)::type;
    frame_stats_kernel<S><<<grid_for(B * (K + 2), 1), kThreads, 0, stream>>>(
        static_cast<const S*>(pred), static_cast<const S*>(pred_norm), static_cast<const S*>(target), boxes, counts,
        thresholds, B, H, W, K, T, official, hist, sums);
  });
}

}  // namespace cuda
}  // namespace torchauc::sod
