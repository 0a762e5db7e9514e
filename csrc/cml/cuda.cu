// CUDA kernels of the CML ops. The math is math.h, shared with the CPU kernels: one thread per
// distance, one per row for the argmins and hinge, one block for the deterministic loss sum, one
// thread per gradient element, one per sampled item, one per gathered dot.
#include <cuda_runtime.h>

#include <cmath>

#include "cml/cuda.h"
#include "cml/math.h"
#include "core/launch.cuh"

namespace torchauc::cml {
namespace cuda {
namespace {

template <typename T>
__device__ bool row_in_tables(const TripletRows<T>& r, int64_t b, int64_t M, int64_t N, int64_t N2) {
  if (!r.users_idx) return true;
  if (r.users_idx[b] < 0 || r.users_idx[b] >= M || r.pos_idx[b] < 0 || r.pos_idx[b] >= N) return false;
  for (int64_t j = 0; j < r.J; ++j)
    if (r.neg_idx[b * r.J + j] < 0 || r.neg_idx[b * r.J + j] >= N2) return false;
  return true;
}

template <typename T>
__global__ void distance_kernel(TripletRows<T> r, int64_t M, int64_t N, int64_t N2, double* dist) {
  const int64_t per_row = r.K * (1 + r.J), total = r.B * per_row;
  for (int64_t t = blockIdx.x * (int64_t)blockDim.x + threadIdx.x; t < total; t += (int64_t)gridDim.x * blockDim.x) {
    const int64_t b = t / per_row, c = (t % per_row) / (1 + r.J), k = t % (1 + r.J);
    dist[t] = row_in_tables(r, b, M, N, N2) ? row_distance(r, b, c, k) : NAN;
  }
}

__global__ void select_kernel(const double* dist, int64_t B, int64_t K, int64_t J, double margin, double* hinge,
                              int64_t* argmin) {
  for (int64_t b = blockIdx.x * (int64_t)blockDim.x + threadIdx.x; b < B; b += (int64_t)gridDim.x * blockDim.x) {
    const TripletSelect s = triplet_select(dist + b * K * (1 + J), K, J, margin);
    hinge[b] = s.hinge;
    argmin[b * 3] = s.c_pos, argmin[b * 3 + 1] = s.c_neg, argmin[b * 3 + 2] = s.j_neg;
  }
}

// One block: thread t sums rows t, t + kThreads, ... in order, then a fixed-shape tree.
template <typename T>
__global__ void loss_kernel(const double* hinge, int64_t B, bool mean, T* loss) {
  __shared__ double sh[kThreads];
  double acc = 0.0;
  for (int64_t b = threadIdx.x; b < B; b += kThreads) acc += hinge[b];
  const double total = block_reduce(acc, SumOp{}, sh);
  if (threadIdx.x == 0) loss[0] = static_cast<T>(mean ? (B > 0 ? total / static_cast<double>(B) : 0.0) : total);
}

template <typename T>
__global__ void grad_rows_kernel(TripletRows<T> r, const T* grad, bool mean, const int64_t* argmin, T* ga, T* gb) {
  const int64_t total = r.B * r.d;
  const double scale = 2.0 * static_cast<double>(grad[0]) / (mean && r.B > 0 ? static_cast<double>(r.B) : 1.0);
  for (int64_t t = blockIdx.x * (int64_t)blockDim.x + threadIdx.x; t < total; t += (int64_t)gridDim.x * blockDim.x) {
    const int64_t b = t / r.d, i = t % r.d;
    const int64_t cp = argmin[b * 3], cn = argmin[b * 3 + 1], jn = argmin[b * 3 + 2];
    if (cp < 0) {
      ga[t] = gb[t] = T(0);
      continue;
    }
    ga[t] = static_cast<T>(scale * (static_cast<double>(r.user(b, cp)[i]) - static_cast<double>(r.positive(b)[i])));
    gb[t] = static_cast<T>(scale * (static_cast<double>(r.user(b, cn)[i]) - static_cast<double>(r.negative(b, jn)[i])));
  }
}

__global__ void sample_kernel(const int64_t* indices, const int64_t* start, const int64_t* len, int64_t R, int64_t J,
                              int64_t num_items, uint64_t seed, int64_t* out) {
  const int64_t total = R * J;
  for (int64_t t = blockIdx.x * (int64_t)blockDim.x + threadIdx.x; t < total; t += (int64_t)gridDim.x * blockDim.x) {
    const int64_t r = t / J;
    out[t] = draw_negative(seed, static_cast<uint64_t>(t), indices + start[r], len[r], num_items);
  }
}

template <typename T>
__global__ void rank_slots_kernel(const T* scores, int64_t B, int64_t n, int64_t offset, const T* q, const int64_t* qi,
                                  int64_t W, const int64_t* tp, const int64_t* ti, const int64_t* rp, const int64_t* ri,
                                  unsigned long long* hist, unsigned long long* out) {
  const int64_t total = B * n;
  for (int64_t t = blockIdx.x * (int64_t)blockDim.x + threadIdx.x; t < total; t += (int64_t)gridDim.x * blockDim.x) {
    const int64_t b = t / n, v = offset + t % n;
    if (row_contains(ti + tp[b], tp[b + 1] - tp[b], v)) continue;
    if (rp && row_contains(ri + rp[b], rp[b + 1] - rp[b], v)) continue;
    const T x = scores[t];
    const T* qb = q + b * W;
    const int64_t a = count_below(qb, W, x);
    if (a > 0) atomicAdd(hist + b * (W + 1) + a, 1ull);
    for (int64_t j = a; j < W && qb[j] == x; ++j)
      if (qi[b * W + j] > v) atomicAdd(out + b * W + j, 1ull);
  }
}

__global__ void rank_suffix_kernel(const int64_t* hist, int64_t B, int64_t W, int64_t* out) {
  for (int64_t b = blockIdx.x * (int64_t)blockDim.x + threadIdx.x; b < B; b += (int64_t)gridDim.x * blockDim.x) {
    int64_t above = 0;
    for (int64_t j = W - 1; j >= 0; --j) out[b * W + j] += (above += hist[b * (W + 1) + j + 1]);
  }
}

template <typename T>
__global__ void gather_dots_kernel(const T* users, const T* items, const int64_t* indptr, const int64_t* indices,
                                   int64_t B, int64_t N, int64_t d, int64_t nnz, T* out) {
  for (int64_t k = blockIdx.x * (int64_t)blockDim.x + threadIdx.x; k < nnz; k += (int64_t)gridDim.x * blockDim.x) {
    const int64_t b = entry_row(indptr, B, k), v = indices[k];
    out[k] = b < 0 || v < 0 || v >= N ? static_cast<T>(NAN) : dot(users + b * d, items + v * d, d);
  }
}

__global__ void entry_rows_kernel(const int64_t* indptr, int64_t B, int64_t nnz, int64_t* rows) {
  for (int64_t k = blockIdx.x * (int64_t)blockDim.x + threadIdx.x; k < nnz; k += (int64_t)gridDim.x * blockDim.x)
    rows[k] = entry_row(indptr, B, k);
}

// One thread per gradient element (r, i) of the n output rows; row r's entries are [ptr[r], ptr[r + 1])
// clamped into [0, nnz] (unchecked input stays in bounds).
template <typename T, typename Entry, typename Row>
__device__ void gathered_grad_rows(const T* g, const T* table, int64_t rows, int64_t d, const int64_t* ptr, int64_t n,
                                   int64_t nnz, Entry e, Row r, T* out) {
  for (int64_t t = blockIdx.x * (int64_t)blockDim.x + threadIdx.x; t < n * d; t += (int64_t)gridDim.x * blockDim.x) {
    const int64_t row = t / d, i = t % d;
    const int64_t t0 = ptr[row] < 0 ? 0 : ptr[row] > nnz ? nnz : ptr[row];
    const int64_t t1 = ptr[row + 1] < t0 ? t0 : ptr[row + 1] > nnz ? nnz : ptr[row + 1];
    T acc = 0;
    gathered_grad(g, table, rows, d, i, i + 1, t0, t1, e, r, &acc);
    out[t] = acc;
  }
}

template <typename T>
__global__ void user_grad_kernel(const T* g, const T* items, const int64_t* indptr, const int64_t* indices, int64_t B,
                                 int64_t N, int64_t d, int64_t nnz, T* gu) {
  gathered_grad_rows(
      g, items, N, d, indptr, B, nnz, [](int64_t t) { return t; }, [=](int64_t k) { return indices[k]; }, gu);
}

template <typename T>
__global__ void item_grad_kernel(const T* g, const T* users, const int64_t* order, const int64_t* item_ptr,
                                 const int64_t* entry_user, int64_t B, int64_t N, int64_t d, int64_t nnz, T* gi) {
  gathered_grad_rows(
      g, users, B, d, item_ptr, N, nnz, [=](int64_t t) { return order[t]; }, [=](int64_t k) { return entry_user[k]; },
      gi);
}

}  // namespace

template <typename T>
void launch_rank_counts(const T* scores, int64_t B, int64_t n, int64_t offset, const T* q, const int64_t* qi, int64_t W,
                        const int64_t* test_ptr, const int64_t* test_idx, const int64_t* train_ptr,
                        const int64_t* train_idx, int64_t* hist, int64_t* out, cudaStream_t stream) {
  if (B * n > 0 && W > 0)
    rank_slots_kernel<T><<<grid_for(B * n), kThreads, 0, stream>>>(
        scores, B, n, offset, q, qi, W, test_ptr, test_idx, train_ptr, train_idx,
        reinterpret_cast<unsigned long long*>(hist), reinterpret_cast<unsigned long long*>(out));
  if (B * W > 0) rank_suffix_kernel<<<grid_for(B), kThreads, 0, stream>>>(hist, B, W, out);
}

template void launch_rank_counts<float>(const float*, int64_t, int64_t, int64_t, const float*, const int64_t*, int64_t,
                                        const int64_t*, const int64_t*, const int64_t*, const int64_t*, int64_t*,
                                        int64_t*, cudaStream_t);
template void launch_rank_counts<double>(const double*, int64_t, int64_t, int64_t, const double*, const int64_t*,
                                         int64_t, const int64_t*, const int64_t*, const int64_t*, const int64_t*,
                                         int64_t*, int64_t*, cudaStream_t);

template <typename T>
void launch_triplet_forward(const TripletRows<T>& rows, int64_t M, int64_t N, int64_t N2, double margin, bool mean,
                            double* dist, double* hinge, int64_t* argmin, T* loss, cudaStream_t stream) {
  const int64_t nd = rows.B * rows.K * (1 + rows.J);
  if (nd > 0) {
    distance_kernel<T><<<grid_for(nd), kThreads, 0, stream>>>(rows, M, N, N2, dist);
    select_kernel<<<grid_for(rows.B), kThreads, 0, stream>>>(dist, rows.B, rows.K, rows.J, margin, hinge, argmin);
  }
  loss_kernel<T><<<1, kThreads, 0, stream>>>(hinge, rows.B, mean, loss);
}

template <typename T>
void launch_triplet_grad_rows(const TripletRows<T>& rows, const T* grad, bool mean, const int64_t* argmin, T* ga, T* gb,
                              cudaStream_t stream) {
  const int64_t total = rows.B * rows.d;
  if (total == 0) return;
  grad_rows_kernel<T><<<grid_for(total), kThreads, 0, stream>>>(rows, grad, mean, argmin, ga, gb);
}

template void launch_triplet_forward<float>(const TripletRows<float>&, int64_t, int64_t, int64_t, double, bool, double*,
                                            double*, int64_t*, float*, cudaStream_t);
template void launch_triplet_forward<double>(const TripletRows<double>&, int64_t, int64_t, int64_t, double, bool,
                                             double*, double*, int64_t*, double*, cudaStream_t);
template void launch_triplet_grad_rows<float>(const TripletRows<float>&, const float*, bool, const int64_t*, float*,
                                              float*, cudaStream_t);
template void launch_triplet_grad_rows<double>(const TripletRows<double>&, const double*, bool, const int64_t*, double*,
                                               double*, cudaStream_t);

template <typename T>
void launch_gather_dots(const T* users, const T* items, const int64_t* indptr, const int64_t* indices, int64_t B,
                        int64_t N, int64_t d, int64_t nnz, T* out, cudaStream_t stream) {
  if (nnz == 0) return;
  gather_dots_kernel<T><<<grid_for(nnz), kThreads, 0, stream>>>(users, items, indptr, indices, B, N, d, nnz, out);
}

void launch_entry_rows(const int64_t* indptr, int64_t B, int64_t nnz, int64_t* rows, cudaStream_t stream) {
  if (nnz == 0) return;
  entry_rows_kernel<<<grid_for(nnz), kThreads, 0, stream>>>(indptr, B, nnz, rows);
}

template <typename T>
void launch_gather_dots_grads(const T* grad, const T* users, const T* items, const int64_t* indptr,
                              const int64_t* indices, const int64_t* order, const int64_t* item_ptr,
                              const int64_t* entry_user, int64_t B, int64_t N, int64_t d, int64_t nnz, T* gu, T* gi,
                              cudaStream_t stream) {
  if (B * d > 0)
    user_grad_kernel<T><<<grid_for(B * d), kThreads, 0, stream>>>(grad, items, indptr, indices, B, N, d, nnz, gu);
  if (N * d > 0)
    item_grad_kernel<T>
        <<<grid_for(N * d), kThreads, 0, stream>>>(grad, users, order, item_ptr, entry_user, B, N, d, nnz, gi);
}

#define TAUC_CML_DOTS(T)                                                                                               \
  template void launch_gather_dots<T>(const T*, const T*, const int64_t*, const int64_t*, int64_t, int64_t, int64_t,   \
                                      int64_t, T*, cudaStream_t);                                                      \
  template void launch_gather_dots_grads<T>(const T*, const T*, const T*, const int64_t*, const int64_t*,              \
                                            const int64_t*, const int64_t*, const int64_t*, int64_t, int64_t, int64_t, \
                                            int64_t, T*, T*, cudaStream_t);
TAUC_CML_DOTS(float)
TAUC_CML_DOTS(double)
#undef TAUC_CML_DOTS

void launch_sample_negatives(const int64_t* indices, const int64_t* start, const int64_t* len, int64_t R, int64_t J,
                             int64_t num_items, uint64_t seed, int64_t* out, cudaStream_t stream) {
  if (R * J == 0) return;
  sample_kernel<<<grid_for(R * J), kThreads, 0, stream>>>(indices, start, len, R, J, num_items, seed, out);
}

}  // namespace cuda
}  // namespace torchauc::cml
