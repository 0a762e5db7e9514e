// Launchers of the CUDA CML kernels (raw pointers only: shared by the nvcc-compiled .cu and the
// torch-facing glue). T is float or double (the compute type); row layouts: math.h.
#pragma once
#include <cuda_runtime.h>

#include <cstdint>

#include "cml/math.h"

namespace torchauc::cml {
namespace cuda {

// Triplet forward: dist (B, K, 1 + J) doubles of scratch, hinge (B,) doubles of scratch, argmin
// (B, 3) int64, loss (1 element of T) = sum of the hinges (divided by B when mean). Indexed rows out
// of their table (table sizes M, N, N2) give a NaN row.
template <typename T>
void launch_triplet_forward(const TripletRows<T>& rows, int64_t M, int64_t N, int64_t N2, double margin, bool mean,
                            double* dist, double* hinge, int64_t* argmin, T* loss, cudaStream_t stream);

// Compact gradient rows of the active rows: ga = 2 s (u_cp - p), gb = 2 s (u_cn - n_j) (B, d), with
// s = grad[0] (divided by B when mean); zero rows where argmin[b, 0] < 0.
template <typename T>
void launch_triplet_grad_rows(const TripletRows<T>& rows, const T* grad, bool mean, const int64_t* argmin, T* ga, T* gb,
                              cudaStream_t stream);

// SFCML's gathered dots out (nnz,) = users[b] . items[indices[k]] for the CSR entries k of row b;
// NaN for an entry in no row of indptr or with an item id outside [0, N) (unchecked: no host sync).
template <typename T>
void launch_gather_dots(const T* users, const T* items, const int64_t* indptr, const int64_t* indices, int64_t B,
                        int64_t N, int64_t d, int64_t nnz, T* out, cudaStream_t stream);

// rows (nnz,): the CSR row of each entry, -1 for an entry in no row.
void launch_entry_rows(const int64_t* indptr, int64_t B, int64_t nnz, int64_t* rows, cudaStream_t stream);

// Gradients of the gathered dots for grad (nnz,): gu (B, d) over each user's entries, gi (N, d) over
// each item's entries (order / item_ptr: the entries sorted by item; entry_user: launch_entry_rows).
template <typename T>
void launch_gather_dots_grads(const T* grad, const T* users, const T* items, const int64_t* indptr,
                              const int64_t* indices, const int64_t* order, const int64_t* item_ptr,
                              const int64_t* entry_user, int64_t B, int64_t N, int64_t d, int64_t nnz, T* gu, T* gi,
                              cudaStream_t stream);

// out (R, J): draw (seed, r J + j) for rows of users with CSR start/len (checked by the glue).
void launch_sample_negatives(const int64_t* indices, const int64_t* start, const int64_t* len, int64_t R, int64_t J,
                             int64_t num_items, uint64_t seed, int64_t* out, cudaStream_t stream);

// Evaluation tile: hist (B, W + 1) and out (B, W) int64 zeroed by the caller; one thread per (user,
// item) adds the candidate to hist[slot] (slots >= 1 only: slot 0 ranks above no test item) and its
// ties to out; a second pass adds the suffix sums of hist to out.
template <typename T>
void launch_rank_counts(const T* scores, int64_t B, int64_t n, int64_t offset, const T* q, const int64_t* qi, int64_t W,
                        const int64_t* test_ptr, const int64_t* test_idx, const int64_t* train_ptr,
                        const int64_t* train_idx, int64_t* hist, int64_t* out, cudaStream_t stream);

}  // namespace cuda
}  // namespace torchauc::cml
