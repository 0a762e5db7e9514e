// Argument checks of the T-Memory Bank ops, shared by the CPU kernels and the CUDA glue.
// Shapes, dtypes and devices only; the CPU kernels also check every request row, the CUDA kernels
// skip rows that would read or write out of bounds (checking them would cost a host sync).
#pragma once
#include <ATen/ATen.h>

#include "memory_bank/math.h"

namespace torchauc::memory_bank {

// labels: (B, H, W) integer class map (uint8/int8/int16/int32/int64).
inline void check_labels(const at::Tensor& labels, const char* name = "labels") {
  TORCH_CHECK_VALUE(at::isIntegralType(labels.scalar_type(), /*includeBool=*/false), name,
                    " must be an integer tensor of class indices, got ", labels.scalar_type());
  TORCH_CHECK_VALUE(labels.dim() == 3, name, " must have shape (B, H, W), got ", labels.sizes());
}

// images: (B, channels, H, W) uint8 or floating point, matching labels (B, H, W) on one device.
inline void check_images(const at::Tensor& images, const at::Tensor& labels) {
  check_labels(labels);
  const auto t = images.scalar_type();
  TORCH_CHECK_VALUE(at::isFloatingType(t) || t == at::kByte,
                    "images must be uint8 or floating point (float16/bfloat16/float32/float64), got ", t);
  TORCH_CHECK_VALUE(images.dim() == 4 && images.size(0) == labels.size(0) && images.size(2) == labels.size(1) &&
                        images.size(3) == labels.size(2),
                    "images must have shape (B, channels, H, W) matching labels ", labels.sizes(), ", got ",
                    images.sizes());
  TORCH_CHECK_VALUE(images.size(1) >= 1, "images must have at least one channel, got ", images.sizes());
  TORCH_CHECK_VALUE(images.device() == labels.device(), "images and labels must be on one device, got ",
                    images.device(), " and ", labels.device());
}

// requests: (R, fields) int64 on the device of `like`.
inline void check_requests(const at::Tensor& requests, int64_t fields, const at::Tensor& like) {
  TORCH_CHECK_VALUE(requests.scalar_type() == at::kLong && requests.dim() == 2 && requests.size(1) == fields,
                    "requests must be an int64 tensor of shape (R, ", fields, "), got ", requests.scalar_type(), " ",
                    requests.sizes());
  TORCH_CHECK_VALUE(requests.device() == like.device(), "requests must be on the images' device ", like.device(),
                    ", got ", requests.device());
}

// pool_img: (P, channels) contiguous, images' dtype; pool_mask: (P,) contiguous bool.
inline void check_pool(const at::Tensor& pool_img, const at::Tensor& pool_mask, const at::Tensor& images) {
  TORCH_CHECK_VALUE(pool_img.dim() == 2 && pool_img.size(1) == images.size(1),
                    "pool_img must have shape (P, channels) with channels = ", images.size(1), ", got ",
                    pool_img.sizes());
  TORCH_CHECK_VALUE(pool_img.scalar_type() == images.scalar_type(), "pool_img must have the images' dtype ",
                    images.scalar_type(), ", got ", pool_img.scalar_type());
  TORCH_CHECK_VALUE(
      pool_mask.scalar_type() == at::kBool && pool_mask.dim() == 1 && pool_mask.size(0) == pool_img.size(0),
      "pool_mask must be a bool tensor of shape (", pool_img.size(0), ",), got ", pool_mask.scalar_type(), " ",
      pool_mask.sizes());
  TORCH_CHECK_VALUE(pool_img.device() == images.device() && pool_mask.device() == images.device(),
                    "pool_img and pool_mask must be on the images' device ", images.device());
  TORCH_CHECK_VALUE(pool_img.is_contiguous() && pool_mask.is_contiguous(), "pool_img and pool_mask must be contiguous");
}

}  // namespace torchauc::memory_bank
