// CUDA kernels of the exact AUROC metrics. Per batch of columns: load the scores as sort keys
// (-0.0 folded into +0.0), CUB radix sort (segmented when several columns share a batch), mark the
// tie groups (head/tail flags, a scan gives group ids), an inclusive scan of the positive weights,
// then every sample reads its group's positive weight above and inside the group and adds
// w (above + tie / 2) to U[column][its group]. No pair matrix; int64 sizes throughout.
#include <cuda_bf16.h>
#include <cuda_fp16.h>

#include <algorithm>
#include <cub/device/device_radix_sort.cuh>
#include <cub/device/device_reduce.cuh>
#include <cub/device/device_scan.cuh>
#include <cub/device/device_segmented_radix_sort.cuh>

#include "auroc/cuda.h"
#include "auroc/math.h"
#include "core/launch.cuh"

namespace torchauc::auroc {
namespace cuda {
namespace {

// Columns are sorted in batches of at most 2^26 items (one column may be larger): bounds the scratch
// memory (about 90 bytes per item) and keeps the segmented sort's int item count far from overflow.
#ifndef TORCHAUC_AUROC_BATCH_ITEMS
#define TORCHAUC_AUROC_BATCH_ITEMS (int64_t(1) << 26)
#endif
constexpr int64_t kMaxBatchItems = TORCHAUC_AUROC_BATCH_ITEMS;

#define TAUC_CUDA_TRY(expr)               \
  do {                                    \
    cudaError_t err_ = (expr);            \
    if (err_ != cudaSuccess) return err_; \
  } while (0)

__device__ __forceinline__ double load_score(const void* p, Dtype t, int64_t off) {
  switch (t) {
    case Dtype::F16: return static_cast<double>(load(static_cast<const __half*>(p), off));
    case Dtype::BF16: return static_cast<double>(load(static_cast<const __nv_bfloat16*>(p), off));
    case Dtype::F32: return static_cast<double>(load(static_cast<const float*>(p), off));
    default: return load(static_cast<const double*>(p), off);
  }
}

// keys[t], vals[t] for t = kl * n + i (column k0 + kl).
template <typename KeyT>
__global__ void load_keys_kernel(const void* scores, Dtype type, int64_t n, int64_t K, int64_t M, int64_t k0,
                                 int64_t nb, KeyT* keys, int64_t* vals) {
  for (int64_t t = blockIdx.x * int64_t(blockDim.x) + threadIdx.x; t < nb; t += int64_t(gridDim.x) * blockDim.x) {
    const int64_t k = k0 + t / n, i = t % n;
    const int64_t b = i / M;
    const int64_t off = (b * K + k) * M + (i - b * M);
    keys[t] = static_cast<KeyT>(load_score(scores, type, off)) + KeyT(0);  // -0.0 -> +0.0
    vals[t] = i;
  }
}

__global__ void segment_offsets_kernel(int64_t n, int64_t kb, int* offsets) {
  for (int64_t t = blockIdx.x * int64_t(blockDim.x) + threadIdx.x; t <= kb; t += int64_t(gridDim.x) * blockDim.x)
    offsets[t] = static_cast<int>(t * n);
}

template <typename KeyT>
__global__ void head_flags_kernel(const KeyT* keys, int64_t n, int64_t nb, int64_t* head) {
  for (int64_t t = blockIdx.x * int64_t(blockDim.x) + threadIdx.x; t < nb; t += int64_t(gridDim.x) * blockDim.x)
    head[t] = (t % n == 0 || keys[t] != keys[t - 1]) ? 1 : 0;
}

// gid holds inclusive counts of heads: group of t is gid[t] - 1.
template <typename KeyT>
__global__ void group_bounds_kernel(const KeyT* keys, int64_t n, int64_t nb, const int64_t* gid, int64_t* ghead,
                                    int64_t* gtail) {
  for (int64_t t = blockIdx.x * int64_t(blockDim.x) + threadIdx.x; t < nb; t += int64_t(gridDim.x) * blockDim.x) {
    const int64_t g = gid[t] - 1;
    if (t % n == 0 || keys[t] != keys[t - 1]) ghead[g] = t;
    if (t % n == n - 1 || keys[t + 1] != keys[t]) gtail[g] = t;
  }
}

struct Groups {
  const int8_t* y01;
  const int32_t* cls;
  const double* w;
  int64_t K;
  __device__ __forceinline__ int64_t group(int64_t k, int64_t i) const {
    return y01 ? static_cast<int64_t>(y01[i * K + k]) : static_cast<int64_t>(cls[i]);
  }
  __device__ __forceinline__ int64_t positive(int64_t k) const { return y01 ? 1 : k; }
  __device__ __forceinline__ double weight(int64_t i) const { return w ? w[i] : 1.0; }
};

// pw[t] = weight of t if it belongs to its column's positive group, else 0 (nw: the negatives,
// binary only, used by the ROC area).
__global__ void side_weights_kernel(Groups G, const int64_t* vals, int64_t n, int64_t k0, int64_t nb, double* pw,
                                    double* nw) {
  for (int64_t t = blockIdx.x * int64_t(blockDim.x) + threadIdx.x; t < nb; t += int64_t(gridDim.x) * blockDim.x) {
    const int64_t k = k0 + t / n, i = vals[t];
    const int64_t g = G.group(k, i);
    const double w = G.weight(i);
    pw[t] = (g == G.positive(k)) ? w : 0.0;
    if (nw) nw[t] = (g >= 0 && g != G.positive(k)) ? w : 0.0;
  }
}

struct GroupView {
  const int64_t *gid, *ghead, *gtail;
  const double* pincl;
  // positive weight inside t's group (tie) and above it within column kl
  __device__ __forceinline__ void at(int64_t t, int64_t kl, int64_t n, double* above, double* tie) const {
    const int64_t g = gid[t] - 1;
    const int64_t h = ghead[g], e = gtail[g];
    const double before = h > 0 ? pincl[h - 1] : 0.0;
    const double through = pincl[e];
    const double base = kl > 0 ? pincl[kl * n - 1] : 0.0;
    const double total = pincl[kl * n + n - 1] - base;
    *tie = through - before;
    *above = total - (through - base);
  }
};

// Non-deterministic path: block-local shared accumulation (G <= kSharedGroups), then float atomics.
#ifndef TORCHAUC_AUROC_SHARED_GROUPS
#define TORCHAUC_AUROC_SHARED_GROUPS 512
#endif
constexpr int kSharedGroups = TORCHAUC_AUROC_SHARED_GROUPS;
__global__ void contributions_atomic_kernel(Groups G, GroupView V, const int64_t* vals, int64_t n, int64_t k0,
                                            int64_t ngroups, double* U, double* W) {
  __shared__ double su[kSharedGroups], sw[kSharedGroups];
  const int64_t kl = blockIdx.y, k = k0 + kl;
  const bool shared = ngroups <= kSharedGroups;
  if (shared) {
    for (int j = threadIdx.x; j < ngroups; j += blockDim.x) su[j] = sw[j] = 0.0;
    __syncthreads();
  }
  double* Uk = U + k * ngroups;
  double* Wk = W + k * ngroups;
  for (int64_t i = blockIdx.x * int64_t(blockDim.x) + threadIdx.x; i < n; i += int64_t(gridDim.x) * blockDim.x) {
    const int64_t t = kl * n + i;
    const int64_t s = vals[t];
    const int64_t g = G.group(k, s);
    if (g < 0) continue;
    const double w = G.weight(s);
    double c = 0.0;
    if (g != G.positive(k)) {
      double above, tie;
      V.at(t, kl, n, &above, &tie);
      c = tie_group_pairs(w, above, tie);
    }
    if (shared) {
      if (c != 0.0) atomicAdd(su + g, c);
      atomicAdd(sw + g, w);
    } else {
      if (c != 0.0) atomicAdd(Uk + g, c);
      atomicAdd(Wk + g, w);
    }
  }
  if (shared) {
    __syncthreads();
    for (int j = threadIdx.x; j < ngroups; j += blockDim.x) {
      if (su[j] != 0.0) atomicAdd(Uk + j, su[j]);
      if (sw[j] != 0.0) atomicAdd(Wk + j, sw[j]);
    }
  }
}

// Deterministic path, step 1: per-sample contribution, weight and group.
__global__ void contributions_store_kernel(Groups G, GroupView V, const int64_t* vals, int64_t n, int64_t k0,
                                           int64_t nb, double* contrib, double* cw, int32_t* grp) {
  for (int64_t t = blockIdx.x * int64_t(blockDim.x) + threadIdx.x; t < nb; t += int64_t(gridDim.x) * blockDim.x) {
    const int64_t kl = t / n, k = k0 + kl, s = vals[t];
    const int64_t g = G.group(k, s);
    double c = 0.0, w = 0.0;
    if (g >= 0) {
      w = G.weight(s);
      if (g != G.positive(k)) {
        double above, tie;
        V.at(t, kl, n, &above, &tie);
        c = tie_group_pairs(w, above, tie);
      }
    }
    contrib[t] = c;
    cw[t] = w;
    grp[t] = static_cast<int32_t>(g);
  }
}

// Deterministic path, step 2: block (j, kl) sums column kl's entries of group j in a fixed order.
__global__ void group_reduce_kernel(const double* contrib, const double* cw, const int32_t* grp, int64_t n, int64_t k0,
                                    int64_t ngroups, double* U, double* W) {
  __shared__ Doubles<2> sh[kThreads];
  const int64_t j = blockIdx.x, kl = blockIdx.y;
  Doubles<2> acc = {{0.0, 0.0}};
  for (int64_t i = threadIdx.x; i < n; i += blockDim.x) {
    const int64_t t = kl * n + i;
    if (grp[t] == j) {
      acc.v[0] += contrib[t];
      acc.v[1] += cw[t];
    }
  }
  acc = block_reduce(acc, SumOp{}, sh);
  if (threadIdx.x == 0) {
    U[(k0 + kl) * ngroups + j] = acc.v[0];
    W[(k0 + kl) * ngroups + j] = acc.v[1];
  }
}

// Sorted keys and sample indices of columns [k0, k0 + kb), plus their tie groups.
template <typename KeyT>
struct SortedBatch {
  KeyT* keys;
  int64_t* vals;
  int64_t *gid, *ghead, *gtail;
};

template <typename T>
T* take(ScratchAllocator& alloc, int64_t count) {
  return static_cast<T*>(alloc.allocate(sizeof(T) * static_cast<size_t>(std::max<int64_t>(count, 1))));
}

template <typename KeyT>
cudaError_t sort_batch(const void* scores, Dtype type, int64_t n, int64_t K, int64_t M, int64_t k0, int64_t kb,
                       ScratchAllocator& alloc, cudaStream_t stream, SortedBatch<KeyT>* out) {
  const int64_t nb = kb * n;
  KeyT* keys_in = take<KeyT>(alloc, nb);
  int64_t* vals_in = take<int64_t>(alloc, nb);
  out->keys = take<KeyT>(alloc, nb);
  out->vals = take<int64_t>(alloc, nb);
  load_keys_kernel<KeyT><<<grid_for(nb), kThreads, 0, stream>>>(scores, type, n, K, M, k0, nb, keys_in, vals_in);
  TAUC_CUDA_TRY(cudaGetLastError());
  size_t bytes = 0;
  if (kb == 1) {
    TAUC_CUDA_TRY(cub::DeviceRadixSort::SortPairs(nullptr, bytes, keys_in, out->keys, vals_in, out->vals, nb, 0,
                                                  int(sizeof(KeyT) * 8), stream));
    void* tmp = alloc.allocate(bytes);
    TAUC_CUDA_TRY(cub::DeviceRadixSort::SortPairs(tmp, bytes, keys_in, out->keys, vals_in, out->vals, nb, 0,
                                                  int(sizeof(KeyT) * 8), stream));
  } else {
    int* offsets = take<int>(alloc, kb + 1);
    segment_offsets_kernel<<<grid_for(kb + 1), kThreads, 0, stream>>>(n, kb, offsets);
    TAUC_CUDA_TRY(cudaGetLastError());
    TAUC_CUDA_TRY(cub::DeviceSegmentedRadixSort::SortPairs(nullptr, bytes, keys_in, out->keys, vals_in, out->vals,
                                                           static_cast<int>(nb), static_cast<int>(kb), offsets,
                                                           offsets + 1, 0, int(sizeof(KeyT) * 8), stream));
    void* tmp = alloc.allocate(bytes);
    TAUC_CUDA_TRY(cub::DeviceSegmentedRadixSort::SortPairs(tmp, bytes, keys_in, out->keys, vals_in, out->vals,
                                                           static_cast<int>(nb), static_cast<int>(kb), offsets,
                                                           offsets + 1, 0, int(sizeof(KeyT) * 8), stream));
  }
  int64_t* head = take<int64_t>(alloc, nb);
  out->gid = take<int64_t>(alloc, nb);
  out->ghead = take<int64_t>(alloc, nb);
  out->gtail = take<int64_t>(alloc, nb);
  head_flags_kernel<KeyT><<<grid_for(nb), kThreads, 0, stream>>>(out->keys, n, nb, head);
  TAUC_CUDA_TRY(cudaGetLastError());
  bytes = 0;
  TAUC_CUDA_TRY(cub::DeviceScan::InclusiveSum(nullptr, bytes, head, out->gid, nb, stream));
  void* tmp = alloc.allocate(bytes);
  TAUC_CUDA_TRY(cub::DeviceScan::InclusiveSum(tmp, bytes, head, out->gid, nb, stream));
  group_bounds_kernel<KeyT><<<grid_for(nb), kThreads, 0, stream>>>(out->keys, n, nb, out->gid, out->ghead, out->gtail);
  return cudaGetLastError();
}

cudaError_t inclusive_sum(const double* in, double* out, int64_t nb, ScratchAllocator& alloc, cudaStream_t stream) {
  size_t bytes = 0;
  TAUC_CUDA_TRY(cub::DeviceScan::InclusiveSum(nullptr, bytes, in, out, nb, stream));
  void* tmp = alloc.allocate(bytes);
  return cub::DeviceScan::InclusiveSum(tmp, bytes, in, out, nb, stream);
}

template <typename KeyT>
cudaError_t rank_table_impl(const RankTableArgs& a, ScratchAllocator& alloc, cudaStream_t stream) {
  const int64_t n = a.n;
  if (n == 0 || a.K == 0) return cudaSuccess;
  // grid.y carries the column of a batch: at most 65535 columns per batch
  const int64_t per_batch = std::max<int64_t>(1, std::min<int64_t>({a.K, kMaxBatchItems / n, kMaxGridY}));
  const Groups G{a.y01, a.cls, a.weights, a.K};
  for (int64_t k0 = 0; k0 < a.K; k0 += per_batch) {
    const int64_t kb = std::min(per_batch, a.K - k0), nb = kb * n;
    SortedBatch<KeyT> sb;
    TAUC_CUDA_TRY(sort_batch<KeyT>(a.scores, a.type, n, a.K, a.M, k0, kb, alloc, stream, &sb));
    double* pw = take<double>(alloc, nb);
    double* pincl = take<double>(alloc, nb);
    side_weights_kernel<<<grid_for(nb), kThreads, 0, stream>>>(G, sb.vals, n, k0, nb, pw, nullptr);
    TAUC_CUDA_TRY(cudaGetLastError());
    TAUC_CUDA_TRY(inclusive_sum(pw, pincl, nb, alloc, stream));
    const GroupView V{sb.gid, sb.ghead, sb.gtail, pincl};
    if (!a.deterministic) {
      const dim3 grid(
          static_cast<unsigned>(std::min<int64_t>((n + kThreads - 1) / kThreads, std::min<int64_t>(4096, kMaxGrid))),
          static_cast<unsigned>(kb));
      contributions_atomic_kernel<<<grid, kThreads, 0, stream>>>(G, V, sb.vals, n, k0, a.G, a.U, a.W);
    } else {
      double* contrib = take<double>(alloc, nb);
      double* cw = take<double>(alloc, nb);
      int32_t* grp = take<int32_t>(alloc, nb);
      contributions_store_kernel<<<grid_for(nb), kThreads, 0, stream>>>(G, V, sb.vals, n, k0, nb, contrib, cw, grp);
      TAUC_CUDA_TRY(cudaGetLastError());
      group_reduce_kernel<<<dim3(static_cast<unsigned>(a.G), static_cast<unsigned>(kb)), kThreads, 0, stream>>>(
          contrib, cw, grp, n, k0, a.G, a.U, a.W);
    }
    TAUC_CUDA_TRY(cudaGetLastError());
    alloc.release_all();  // the next batch reuses this scratch (same stream)
  }
  return cudaSuccess;
}

// ROC area: the tail element of every tie group adds its clipped trapezoid (ascending sort, so the
// group's segment starts at the weight strictly above it).
__global__ void roc_segments_kernel(GroupView P, const double* nincl, int64_t n, double max_fpr, double* contrib) {
  for (int64_t t = blockIdx.x * int64_t(blockDim.x) + threadIdx.x; t < n; t += int64_t(gridDim.x) * blockDim.x) {
    const int64_t g = P.gid[t] - 1;
    double c = 0.0;
    if (P.gtail[g] == t) {
      const int64_t h = P.ghead[g];
      const double ptot = P.pincl[n - 1], ntot = nincl[n - 1];
      if (ptot > 0.0 && ntot > 0.0) {
        const double p_before = h > 0 ? P.pincl[h - 1] : 0.0, n_before = h > 0 ? nincl[h - 1] : 0.0;
        const double tp0 = ptot - P.pincl[t], fp0 = ntot - nincl[t];
        const double tp1 = ptot - p_before, fp1 = ntot - n_before;
        c = clipped_trapezoid(fp0 / ntot, tp0 / ptot, fp1 / ntot, tp1 / ptot, max_fpr);
      }
    }
    contrib[t] = c;
  }
}

__global__ void totals_kernel(const double* pincl, const double* nincl, int64_t n, double* totals) {
  if (blockIdx.x == 0 && threadIdx.x == 0) {
    totals[0] = pincl[n - 1];
    totals[1] = nincl[n - 1];
  }
}

template <typename KeyT>
cudaError_t roc_area_impl(const void* scores, Dtype type, int64_t n, const int8_t* y01, const double* weights,
                          double max_fpr, double* area, double* totals, ScratchAllocator& alloc, cudaStream_t stream) {
  if (n == 0) return cudaSuccess;
  SortedBatch<KeyT> sb;
  TAUC_CUDA_TRY(sort_batch<KeyT>(scores, type, n, 1, 1, 0, 1, alloc, stream, &sb));
  const Groups G{y01, nullptr, weights, 1};
  double* pw = take<double>(alloc, n);
  double* nw = take<double>(alloc, n);
  double* pincl = take<double>(alloc, n);
  double* nincl = take<double>(alloc, n);
  side_weights_kernel<<<grid_for(n), kThreads, 0, stream>>>(G, sb.vals, n, 0, n, pw, nw);
  TAUC_CUDA_TRY(cudaGetLastError());
  TAUC_CUDA_TRY(inclusive_sum(pw, pincl, n, alloc, stream));
  TAUC_CUDA_TRY(inclusive_sum(nw, nincl, n, alloc, stream));
  double* contrib = pw;  // pw is no longer needed
  roc_segments_kernel<<<grid_for(n), kThreads, 0, stream>>>(GroupView{sb.gid, sb.ghead, sb.gtail, pincl}, nincl, n,
                                                            max_fpr, contrib);
  TAUC_CUDA_TRY(cudaGetLastError());
  size_t bytes = 0;
  TAUC_CUDA_TRY(cub::DeviceReduce::Sum(nullptr, bytes, contrib, area, n, stream));
  void* tmp = alloc.allocate(bytes);
  TAUC_CUDA_TRY(cub::DeviceReduce::Sum(tmp, bytes, contrib, area, n, stream));
  totals_kernel<<<1, 32, 0, stream>>>(pincl, nincl, n, totals);
  return cudaGetLastError();
}

// Average precision: the tail element of every tie group (ascending sort) adds d_tp * precision, with
// tp, fp the weights at scores >= the group's, within its column of the batch.
__global__ void ap_segments_kernel(GroupView P, const double* nincl, int64_t n, int64_t nb, double* contrib) {
  for (int64_t t = blockIdx.x * int64_t(blockDim.x) + threadIdx.x; t < nb; t += int64_t(gridDim.x) * blockDim.x) {
    const int64_t g = P.gid[t] - 1;
    double c = 0.0;
    if (P.gtail[g] == t) {
      const int64_t h = P.ghead[g], last = (t / n) * n + n - 1;
      const double p_before = h > 0 ? P.pincl[h - 1] : 0.0, n_before = h > 0 ? nincl[h - 1] : 0.0;
      c = ap_step(P.pincl[t] - p_before, P.pincl[last] - p_before, nincl[last] - n_before);
    }
    contrib[t] = c;
  }
}

// Block kl sums column kl's contributions in a fixed order and writes [sum, W_pos, W_neg].
__global__ void ap_columns_kernel(const double* contrib, const double* pincl, const double* nincl, int64_t n,
                                  int64_t k0, double* out) {
  __shared__ double sh[kThreads];
  const int64_t kl = blockIdx.x;
  double acc = 0.0;
  for (int64_t i = threadIdx.x; i < n; i += blockDim.x) acc += contrib[kl * n + i];
  acc = block_reduce(acc, SumOp{}, sh);
  if (threadIdx.x == 0) {
    const int64_t first = kl * n, last = first + n - 1;
    out[(k0 + kl) * 3 + 0] = acc;
    out[(k0 + kl) * 3 + 1] = pincl[last] - (first > 0 ? pincl[first - 1] : 0.0);
    out[(k0 + kl) * 3 + 2] = nincl[last] - (first > 0 ? nincl[first - 1] : 0.0);
  }
}

template <typename KeyT>
cudaError_t average_precision_impl(const void* scores, Dtype type, int64_t n, int64_t K, const int8_t* y01,
                                   const double* weights, double* out, ScratchAllocator& alloc, cudaStream_t stream) {
  if (n == 0 || K == 0) return cudaSuccess;
  const int64_t per_batch = std::max<int64_t>(1, std::min<int64_t>({K, kMaxBatchItems / n, kMaxGrid}));
  const Groups G{y01, nullptr, weights, K};
  for (int64_t k0 = 0; k0 < K; k0 += per_batch) {
    const int64_t kb = std::min(per_batch, K - k0), nb = kb * n;
    SortedBatch<KeyT> sb;
    TAUC_CUDA_TRY(sort_batch<KeyT>(scores, type, n, K, 1, k0, kb, alloc, stream, &sb));
    double* pw = take<double>(alloc, nb);
    double* nw = take<double>(alloc, nb);
    double* pincl = take<double>(alloc, nb);
    double* nincl = take<double>(alloc, nb);
    side_weights_kernel<<<grid_for(nb), kThreads, 0, stream>>>(G, sb.vals, n, k0, nb, pw, nw);
    TAUC_CUDA_TRY(cudaGetLastError());
    TAUC_CUDA_TRY(inclusive_sum(pw, pincl, nb, alloc, stream));
    TAUC_CUDA_TRY(inclusive_sum(nw, nincl, nb, alloc, stream));
    double* contrib = pw;  // pw is no longer needed
    ap_segments_kernel<<<grid_for(nb), kThreads, 0, stream>>>(GroupView{sb.gid, sb.ghead, sb.gtail, pincl}, nincl, n,
                                                              nb, contrib);
    TAUC_CUDA_TRY(cudaGetLastError());
    ap_columns_kernel<<<static_cast<unsigned>(kb), kThreads, 0, stream>>>(contrib, pincl, nincl, n, k0, out);
    TAUC_CUDA_TRY(cudaGetLastError());
    alloc.release_all();
  }
  return cudaSuccess;
}

}  // namespace

cudaError_t auroc_average_precision(const void* scores, Dtype type, int64_t n, int64_t K, const int8_t* y01,
                                    const double* weights, double* out, ScratchAllocator& alloc, cudaStream_t stream) {
  return type == Dtype::F64 ? average_precision_impl<double>(scores, type, n, K, y01, weights, out, alloc, stream)
                            : average_precision_impl<float>(scores, type, n, K, y01, weights, out, alloc, stream);
}

cudaError_t auroc_rank_table(const RankTableArgs& a, ScratchAllocator& alloc, cudaStream_t stream) {
  return a.type == Dtype::F64 ? rank_table_impl<double>(a, alloc, stream) : rank_table_impl<float>(a, alloc, stream);
}

cudaError_t auroc_partial_area(const void* scores, Dtype type, int64_t n, const int8_t* y01, const double* weights,
                               double max_fpr, double* area, double* totals, ScratchAllocator& alloc,
                               cudaStream_t stream) {
  return type == Dtype::F64 ? roc_area_impl<double>(scores, type, n, y01, weights, max_fpr, area, totals, alloc, stream)
                            : roc_area_impl<float>(scores, type, n, y01, weights, max_fpr, area, totals, alloc, stream);
}

}  // namespace cuda
}  // namespace torchauc::auroc
