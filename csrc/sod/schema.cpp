// Schemas of the size-invariant SOD ops (python/torchauc/sod/). Layouts: math.h.
#include <torch/library.h>

TORCH_LIBRARY_FRAGMENT(torchauc, m) {
  // Connected components (4- or 8-connected) of masks (B, H, W) > threshold, components smaller
  // than min_area dropped (the first kept when none remains), numbered 1.. in raster order of their
  // first pixel: labels (B, H, W) int32 (0: none) and counts (B,) int64. Not differentiable.
  m.def("sod_frames(Tensor masks, float threshold, int min_area, int connectivity) -> (Tensor, Tensor)");
  // Size-invariant loss of probabilities pred (B, C, H, W) against target (B, H, W) over boxes
  // (B, K, 4) int64 with counts (B,) int64; base: 1 = BCE, 2 = Dice, 3 = both. Returns the loss and,
  // when compute_grad, its gradient in pred (else an empty tensor).
  m.def(
      "sod_si_loss(Tensor pred, Tensor target, Tensor boxes, Tensor counts, int base, bool compute_grad) "
      "-> (Tensor, Tensor)");
  // Per-(image, region) statistics of the SI metrics: hist (B, K + 2, 2, T + 1, 2) int64 (score pred
  // or pred_norm, threshold bin, [pixels, target sum * 2^24]) and sums (B, K + 2, 3) double
  // ([pixels, target sum, sum |pred - target|]); regions and bins: math.h.
  m.def(
      "sod_frame_stats(Tensor pred, Tensor pred_norm, Tensor target, Tensor boxes, Tensor counts, "
      "Tensor thresholds, bool official_frame_match) -> (Tensor, Tensor)");
}
