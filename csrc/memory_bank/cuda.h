// Launchers of the CUDA T-Memory Bank kernels (raw pointers only: shared by the nvcc-compiled .cu
// and the torch-facing glue). Request-table columns: math.h.
#pragma once
#include <cuda_runtime.h>

#include <cstdint>

#include "core/dtype.h"

namespace torchauc::memory_bank {
namespace cuda {

// labels (B, H, W) contiguous. stats (B, C, 5) int64 must hold [0, H, -1, W, -1] in every row and
// invalid (B,) zeros on entry; atomics accumulate one update per run of equal labels.
void launch_class_bbox(Dtype lt, const void* labels, int64_t B, int64_t H, int64_t W, int64_t C, int64_t ignore_index,
                       int64_t* stats, int64_t* invalid, cudaStream_t stream);

// images (B, CH, H, W), labels (B, H, W) contiguous; requests (R, 7) int64 on the device; pool_img
// (P, CH), pool_mask (P,). Rows that would read or write out of bounds are skipped.
void launch_gather(Dtype it, Dtype lt, const void* images, const void* labels, int64_t B, int64_t CH, int64_t H,
                   int64_t W, const int64_t* requests, int64_t R, void* pool_img, bool* pool_mask, int64_t P,
                   cudaStream_t stream);

// Pastes (R, 13) requests into images / labels in place. starts (B + 1): the requests of image b are
// rows [starts[b], starts[b+1]) (rows sorted by image). One thread per destination pixel keeps the
// last request whose resized mask covers it, so the result equals applying the rows in order.
void launch_paste(Dtype it, Dtype lt, void* images, void* labels, int64_t B, int64_t CH, int64_t H, int64_t W,
                  const void* pool_img, const bool* pool_mask, int64_t P, const int64_t* requests,
                  const int64_t* starts, cudaStream_t stream);

}  // namespace cuda
}  // namespace torchauc::memory_bank
