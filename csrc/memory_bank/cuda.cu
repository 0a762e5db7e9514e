// CUDA kernels of the AUCSeg T-Memory Bank: per-class bounding boxes (run-length atomics), crop
// gather into the bank's flat pool, and the batched paste (nearest mask, bilinear image, OpenCV
// conventions from math.h, shared with the CPU kernels).
#include <cuda_bf16.h>
#include <cuda_fp16.h>

#include <algorithm>
#include <cstdint>

#include "core/launch.cuh"
#include "memory_bank/cuda.h"
#include "memory_bank/math.h"

namespace torchauc::memory_bank {
namespace cuda {
namespace {

#ifndef TORCHAUC_BBOX_SEGMENT
#define TORCHAUC_BBOX_SEGMENT 32
#endif
constexpr int64_t kSegment = TORCHAUC_BBOX_SEGMENT;  // pixels scanned per thread in the bbox kernel

// Image dtypes: uint8 or floating.
template <typename F>
void visit_image(Dtype t, F&& f) {
  if (t == Dtype::U8)
    f(TypeTag<uint8_t>{});
  else
    visit_floating(t, f);
}

// ------------------------------------------------------------------ image element conversions
template <typename T>
struct Acc {
  using type = float;
};
template <>
struct Acc<double> {
  using type = double;
};

template <typename T>
__device__ __forceinline__ typename Acc<T>::type load_acc(T v) {
  return static_cast<typename Acc<T>::type>(v);
}
__device__ __forceinline__ float load_acc(__half v) { return __half2float(v); }
__device__ __forceinline__ float load_acc(__nv_bfloat16 v) { return __bfloat162float(v); }

template <typename T>
__device__ __forceinline__ T store_acc(typename Acc<T>::type v) {
  return static_cast<T>(v);
}
template <>
__device__ __forceinline__ uint8_t store_acc<uint8_t>(float v) {
  const float r = rintf(v);
  return static_cast<uint8_t>(r < 0.f ? 0.f : (r > 255.f ? 255.f : r));
}
template <>
__device__ __forceinline__ __half store_acc<__half>(float v) {
  return __float2half_rn(v);
}
template <>
__device__ __forceinline__ __nv_bfloat16 store_acc<__nv_bfloat16>(float v) {
  return __float2bfloat16_rn(v);
}

// ------------------------------------------------------------------ class bbox
template <typename L>
__global__ void class_bbox_kernel(const L* __restrict__ labels, int64_t B, int64_t H, int64_t W, int64_t C,
                                  int64_t ignore_index, int64_t nseg, long long* stats, unsigned long long* invalid) {
  const int64_t total = B * H * nseg;
  for (int64_t t = blockIdx.x * (int64_t)blockDim.x + threadIdx.x; t < total; t += (int64_t)gridDim.x * blockDim.x) {
    const int64_t row = t / nseg, seg = t % nseg;
    const int64_t b = row / H, y = row % H;
    const int64_t xb = seg * kSegment, xe = min(W, xb + kSegment);
    const L* lrow = labels + row * W;
    unsigned long long bad = 0;
    for_each_run(lrow, xb, xe, [&](L v, int64_t x, int64_t x_last) {
      const int64_t c = static_cast<int64_t>(v);
      if (c == ignore_index) return;
      if (c < 0 || c >= C) {
        bad += static_cast<unsigned long long>(x_last - x + 1);
        return;
      }
      long long* e = stats + (b * C + c) * 5;
      atomicAdd(reinterpret_cast<unsigned long long*>(e), static_cast<unsigned long long>(x_last - x + 1));
      atomicMin(e + 1, static_cast<long long>(y));
      atomicMax(e + 2, static_cast<long long>(y));
      atomicMin(e + 3, static_cast<long long>(x));
      atomicMax(e + 4, static_cast<long long>(x_last));
    });
    if (bad) atomicAdd(invalid + b, bad);
  }
}

// ------------------------------------------------------------------ gather
template <typename I, typename L>
__global__ void gather_kernel(const I* __restrict__ images, const L* __restrict__ labels, int64_t B, int64_t CH,
                              int64_t H, int64_t W, const int64_t* __restrict__ req, int64_t R, I* pool_img,
                              bool* pool_mask, int64_t P) {
  for (int64_t r = blockIdx.y; r < R; r += gridDim.y) {
    const int64_t* q = req + r * kGatherFields;
    const int64_t b = q[kGImage], cls = q[kGClass], y0 = q[kGY0], x0 = q[kGX0];
    const int64_t h = q[kGH], w = q[kGW], off = q[kGOffset];
    if (b < 0 || b >= B || h < 1 || w < 1 || y0 < 0 || x0 < 0 || y0 + h > H || x0 + w > W || off < 0 || off + h * w > P)
      continue;
    for (int64_t i = blockIdx.x * (int64_t)blockDim.x + threadIdx.x; i < h * w; i += (int64_t)gridDim.x * blockDim.x) {
      const int64_t y = y0 + i / w, x = x0 + i % w;
      pool_mask[off + i] = static_cast<int64_t>(labels[(b * H + y) * W + x]) == cls;
      for (int64_t c = 0; c < CH; ++c) pool_img[(off + i) * CH + c] = images[((b * CH + c) * H + y) * W + x];
    }
  }
}

// ------------------------------------------------------------------ paste
// Whether request q covers destination pixel (Y, X) of its image: resized mask set there.
__device__ __forceinline__ bool covers(const int64_t* q, const bool* pool_mask, int64_t P, int64_t Y, int64_t X) {
  const int64_t rh = q[kPRH], rw = q[kPRW], src_h = q[kPSrcH], src_w = q[kPSrcW];
  const int64_t y0 = q[kPY0], x0 = q[kPX0], h = q[kPH], w = q[kPW], off = q[kPOffset];
  if (rh < 1 || rw < 1 || h < 1 || w < 1 || y0 < 0 || x0 < 0 || y0 + h > src_h || x0 + w > src_w || off < 0 ||
      off + h * w > P)
    return false;
  const int64_t dy = Y - q[kPOY], dx = X - q[kPOX];
  if (dy < 0 || dy >= rh || dx < 0 || dx >= rw) return false;
  const int64_t sy = nearest_source(dy, resize_scale(src_h, rh), src_h);
  const int64_t sx = nearest_source(dx, resize_scale(src_w, rw), src_w);
  if (sy < y0 || sy >= y0 + h || sx < x0 || sx >= x0 + w) return false;
  return pool_mask[off + (sy - y0) * w + (sx - x0)];
}

__device__ __forceinline__ int64_t clamp64(int64_t v, int64_t lo, int64_t hi) {
  return v < lo ? lo : (v > hi ? hi : v);
}

template <typename I, typename L>
__global__ void paste_kernel(I* images, L* labels, int64_t B, int64_t CH, int64_t H, int64_t W,
                             const I* __restrict__ pool_img, const bool* __restrict__ pool_mask, int64_t P,
                             const int64_t* __restrict__ req, const int64_t* __restrict__ starts) {
  using A = typename Acc<I>::type;
  const int64_t total = B * H * W;
  for (int64_t t = blockIdx.x * (int64_t)blockDim.x + threadIdx.x; t < total; t += (int64_t)gridDim.x * blockDim.x) {
    const int64_t b = t / (H * W), Y = (t / W) % H, X = t % W;
    int64_t hit = -1;
    for (int64_t r = starts[b]; r < starts[b + 1]; ++r) {
      const int64_t* q = req + r * kPasteFields;
      // a class the label type cannot hold is an invalid row too (the CPU kernel rejects it)
      if (q[kPImage] == b && static_cast<int64_t>(static_cast<L>(q[kPClass])) == q[kPClass] &&
          covers(q, pool_mask, P, Y, X))
        hit = r;
    }
    if (hit < 0) continue;
    const int64_t* q = req + hit * kPasteFields;
    const int64_t rh = q[kPRH], rw = q[kPRW], src_h = q[kPSrcH], src_w = q[kPSrcW];
    const int64_t y0 = q[kPY0], x0 = q[kPX0], h = q[kPH], w = q[kPW], off = q[kPOffset];
    const LinearTap ty = linear_source(Y - q[kPOY], resize_scale(src_h, rh), src_h);
    const LinearTap tx = linear_source(X - q[kPOX], resize_scale(src_w, rw), src_w);
    const int64_t ry0 = clamp64(ty.i0, y0, y0 + h - 1) - y0, ry1 = clamp64(ty.i1, y0, y0 + h - 1) - y0;
    const int64_t rx0 = clamp64(tx.i0, x0, x0 + w - 1) - x0, rx1 = clamp64(tx.i1, x0, x0 + w - 1) - x0;
    const I* p00 = pool_img + (off + ry0 * w + rx0) * CH;
    const I* p01 = pool_img + (off + ry0 * w + rx1) * CH;
    const I* p10 = pool_img + (off + ry1 * w + rx0) * CH;
    const I* p11 = pool_img + (off + ry1 * w + rx1) * CH;
    for (int64_t c = 0; c < CH; ++c) {
      const A v = bilinear<A>(load_acc(p00[c]), load_acc(p01[c]), load_acc(p10[c]), load_acc(p11[c]), tx.w1, ty.w1);
      images[((b * CH + c) * H + Y) * W + X] = store_acc<I>(v);
    }
    labels[(b * H + Y) * W + X] = static_cast<L>(q[kPClass]);
  }
}

}  // namespace

void launch_class_bbox(Dtype lt, const void* labels, int64_t B, int64_t H, int64_t W, int64_t C, int64_t ignore_index,
                       int64_t* stats, int64_t* invalid, cudaStream_t stream) {
  const int64_t nseg = (W + kSegment - 1) / kSegment;
  const int64_t total = B * H * nseg;
  if (total == 0) return;
  visit_integral(lt, [&](auto tag) {
    using L = typename decltype(tag)::type;
    class_bbox_kernel<L><<<grid_for(total), kThreads, 0, stream>>>(
        static_cast<const L*>(labels), B, H, W, C, ignore_index, nseg, reinterpret_cast<long long*>(stats),
        reinterpret_cast<unsigned long long*>(invalid));
  });
}

void launch_gather(Dtype it, Dtype lt, const void* images, const void* labels, int64_t B, int64_t CH, int64_t H,
                   int64_t W, const int64_t* requests, int64_t R, void* pool_img, bool* pool_mask, int64_t P,
                   cudaStream_t stream) {
  if (R == 0) return;
  const dim3 grid(static_cast<unsigned>(std::min<int64_t>(32, kMaxGrid)),
                  static_cast<unsigned>(std::min<int64_t>(R, kMaxGridY)));
  visit_image(it, [&](auto itag) {
    using I = typename decltype(itag)::type;
    visit_integral(lt, [&](auto ltag) {
      using L = typename decltype(ltag)::type;
      gather_kernel<I, L><<<grid, kThreads, 0, stream>>>(static_cast<const I*>(images), static_cast<const L*>(labels),
                                                         B, CH, H, W, requests, R, static_cast<I*>(pool_img), pool_mask,
                                                         P);
    });
  });
}

void launch_paste(Dtype it, Dtype lt, void* images, void* labels, int64_t B, int64_t CH, int64_t H, int64_t W,
                  const void* pool_img, const bool* pool_mask, int64_t P, const int64_t* requests,
                  const int64_t* starts, cudaStream_t stream) {
  const int64_t total = B * H * W;
  if (total == 0) return;
  visit_image(it, [&](auto itag) {
    using I = typename decltype(itag)::type;
    visit_integral(lt, [&](auto ltag) {
      using L = typename decltype(ltag)::type;
      paste_kernel<I, L><<<grid_for(total), kThreads, 0, stream>>>(static_cast<I*>(images), static_cast<L*>(labels), B,
                                                                   CH, H, W, static_cast<const I*>(pool_img), pool_mask,
                                                                   P, requests, starts);
    });
  });
}

}  // namespace cuda
}  // namespace torchauc::memory_bank
