// Launchers of the CUDA SOD kernels (raw pointers only: shared by the nvcc-compiled .cu and the
// torch-facing glue). Layouts: math.h.
#pragma once
#include <cuda_runtime.h>

#include <cstdint>

#include "core/dtype.h"

namespace torchauc::sod {
namespace cuda {

// Most thresholds of sod_frame_stats: a block keeps its region's histograms in shared memory.
constexpr int64_t kMaxThresholds = 511;

// Connected components, union-find with min-index roots (Playne & Hawick), in three launches:
// components_merge: parent (B * H * W) int32 local pixel indices of the roots (-1: background);
// components_stats: area (B * H * W, zeros on entry) per root and first (B, H * W on entry) = first
//   foreground pixel; components_flags: flags (B * H * W) = 1 at the roots of the kept components.
void launch_components_merge(const bool* fg, int64_t B, int64_t H, int64_t W, bool eight, int32_t* parent,
                             cudaStream_t stream);
void launch_components_stats(int64_t B, int64_t H, int64_t W, int32_t* parent, int32_t* area, int32_t* first,
                             cudaStream_t stream);
void launch_components_flags(int64_t B, int64_t H, int64_t W, const int32_t* parent, const int32_t* area,
                             const int32_t* first, int64_t min_area, int32_t* any_big, int32_t* flags,
                             cudaStream_t stream);
// labels = ids[root] (the inclusive scan of flags per image) where the root is kept, else 0.
void launch_components_relabel(int64_t B, int64_t H, int64_t W, const int32_t* parent, const int32_t* flags,
                               const int32_t* ids, int32_t* labels, cudaStream_t stream);

// SI loss: sums (B, loss_rows(K) + 1, C, 4) double (zeros on entry), loss (0-dim, pred's dtype), and, when
// grad != nullptr, the gradient (B, C, H, W). pred and target have dtype t.
void launch_si_loss(Dtype t, const void* pred, const void* target, const int64_t* boxes, const int64_t* counts,
                    int64_t B, int64_t C, int64_t H, int64_t W, int64_t K, int base, double* sums, void* loss,
                    void* grad, cudaStream_t stream);

// SI metric statistics: hist (B, K + 2, 2, T + 1, 2) int64 and sums (B, K + 2, 3) double, every
// entry written. pred, pred_norm and target have dtype t; thresholds (T,) double, T <= kMaxThresholds.
void launch_frame_stats(Dtype t, const void* pred, const void* pred_norm, const void* target, const int64_t* boxes,
                        const int64_t* counts, const double* thresholds, int64_t B, int64_t H, int64_t W, int64_t K,
                        int64_t T, bool official, int64_t* hist, double* sums, cudaStream_t stream);

}  // namespace cuda
}  // namespace torchauc::sod
