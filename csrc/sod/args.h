// Argument checks of the SOD ops, shared by the CPU kernels and the CUDA glue (shapes, dtypes,
// devices). The CPU kernels also check every box and count; the CUDA kernels clip them instead
// (checking would cost a host sync).
#pragma once
#include <ATen/ATen.h>

#include <cmath>

namespace torchauc::sod {

constexpr int64_t kMaxFrames = 63;  // frames of one image: the bits of the per-pixel bitmask

inline void check_masks(const at::Tensor& masks, double threshold, int64_t min_area, int64_t connectivity) {
  TORCH_CHECK_VALUE(!at::isComplexType(masks.scalar_type()), "masks must be real or bool, got ", masks.scalar_type());
  TORCH_CHECK_VALUE(masks.dim() == 3, "masks must have shape (B, H, W), got ", masks.sizes());
  TORCH_CHECK_VALUE(masks.size(1) * masks.size(2) < (int64_t(1) << 31), "masks: H * W must be below 2^31, got ",
                    masks.sizes());
  TORCH_CHECK_VALUE(std::isfinite(threshold), "threshold must be finite, got ", threshold);
  TORCH_CHECK_VALUE(min_area >= 0, "min_area must be >= 0, got ", min_area);
  TORCH_CHECK_VALUE(connectivity == 4 || connectivity == 8, "connectivity must be 4 or 8, got ", connectivity);
}

// boxes (B, K, 4) int64 and counts (B,) int64 on the device of `like` (B images).
inline void check_frames(const at::Tensor& boxes, const at::Tensor& counts, const at::Tensor& like) {
  const int64_t B = like.size(0);
  TORCH_CHECK_VALUE(boxes.scalar_type() == at::kLong && boxes.dim() == 3 && boxes.size(0) == B && boxes.size(2) == 4,
                    "boxes must be an int64 tensor of shape (B, K, 4) with B = ", B, ", got ", boxes.scalar_type(), " ",
                    boxes.sizes());
  TORCH_CHECK_VALUE(boxes.size(1) <= kMaxFrames, "boxes: at most ", kMaxFrames, " frames per image, got ",
                    boxes.size(1));
  TORCH_CHECK_VALUE(counts.scalar_type() == at::kLong && counts.dim() == 1 && counts.size(0) == B,
                    "counts must be an int64 tensor of shape (", B, ",), got ", counts.scalar_type(), " ",
                    counts.sizes());
  TORCH_CHECK_VALUE(boxes.device() == like.device() && counts.device() == like.device(),
                    "boxes and counts must be on the device ", like.device(), " of the predictions");
}

// Host check of the box values (CPU kernels): 0 <= x0 <= x1 <= W, 0 <= y0 <= y1 <= H for the frames
// k < counts[b], and 0 <= counts[b] <= K.
inline void check_box_values(const at::Tensor& boxes, const at::Tensor& counts, int64_t H, int64_t W) {
  const int64_t B = boxes.size(0), K = boxes.size(1);
  const int64_t* bx = boxes.const_data_ptr<int64_t>();
  const int64_t* n = counts.const_data_ptr<int64_t>();
  for (int64_t b = 0; b < B; ++b) {
    TORCH_CHECK_VALUE(n[b] >= 0 && n[b] <= K, "counts[", b, "] must be in [0, ", K, "], got ", n[b]);
    for (int64_t k = 0; k < n[b]; ++k) {
      const int64_t* r = bx + (b * K + k) * 4;
      TORCH_CHECK_VALUE(0 <= r[0] && r[0] <= r[2] && r[2] <= W && 0 <= r[1] && r[1] <= r[3] && r[3] <= H, "boxes[", b,
                        ", ", k, "] = [", r[0], ", ", r[1], ", ", r[2], ", ", r[3],
                        "] is not a box [x0, y0, x1, y1) of the ", H, "x", W, " image");
    }
  }
}

// pred (B, C, H, W) floating, target (B, H, W) real, one device, B >= 1.
inline void check_loss_inputs(const at::Tensor& pred, const at::Tensor& target, const at::Tensor& boxes,
                              const at::Tensor& counts, int64_t base) {
  TORCH_CHECK_VALUE(at::isFloatingType(pred.scalar_type()), "pred must be floating point, got ", pred.scalar_type());
  TORCH_CHECK_VALUE(pred.dim() == 4 && pred.size(0) >= 1 && pred.size(1) >= 1,
                    "pred must have shape (B, C, H, W) with B, C >= 1, got ", pred.sizes());
  TORCH_CHECK_VALUE(!at::isComplexType(target.scalar_type()) && target.scalar_type() != at::kBool,
                    "target must be a real tensor, got ", target.scalar_type());
  TORCH_CHECK_VALUE(target.dim() == 3 && target.size(0) == pred.size(0) && target.size(1) == pred.size(2) &&
                        target.size(2) == pred.size(3),
                    "target must have shape (B, H, W) matching pred ", pred.sizes(), ", got ", target.sizes());
  TORCH_CHECK_VALUE(target.device() == pred.device(), "target must be on pred's device ", pred.device());
  TORCH_CHECK_VALUE(base >= 1 && base <= 3, "base must be 1 (bce), 2 (dice) or 3 (bce+dice), got ", base);
  check_frames(boxes, counts, pred);
}

// pred, pred_norm, target (B, H, W); thresholds (T,) floating, T >= 1; one device.
inline void check_stats_inputs(const at::Tensor& pred, const at::Tensor& pred_norm, const at::Tensor& target,
                               const at::Tensor& boxes, const at::Tensor& counts, const at::Tensor& thresholds) {
  TORCH_CHECK_VALUE(at::isFloatingType(pred.scalar_type()) && pred.dim() == 3,
                    "pred must be a floating point tensor of shape (B, H, W), got ", pred.scalar_type(), " ",
                    pred.sizes());
  TORCH_CHECK_VALUE(at::isFloatingType(pred_norm.scalar_type()) && pred_norm.sizes() == pred.sizes(),
                    "pred_norm must be a floating point tensor of pred's shape ", pred.sizes(), ", got ",
                    pred_norm.scalar_type(), " ", pred_norm.sizes());
  TORCH_CHECK_VALUE(
      !at::isComplexType(target.scalar_type()) && target.scalar_type() != at::kBool && target.sizes() == pred.sizes(),
      "target must be a real tensor of pred's shape ", pred.sizes(), ", got ", target.scalar_type(), " ",
      target.sizes());
  TORCH_CHECK_VALUE(at::isFloatingType(thresholds.scalar_type()) && thresholds.dim() == 1 && thresholds.numel() >= 1,
                    "thresholds must be a non-empty 1-D floating point tensor, got ", thresholds.scalar_type(), " ",
                    thresholds.sizes());
  TORCH_CHECK_VALUE(
      pred_norm.device() == pred.device() && target.device() == pred.device() && thresholds.device() == pred.device(),
      "pred_norm, target and thresholds must be on pred's device ", pred.device());
  check_frames(boxes, counts, pred);
}

}  // namespace torchauc::sod
