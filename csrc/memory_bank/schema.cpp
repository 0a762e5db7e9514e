// Schemas of the AUCSeg T-Memory Bank ops (python/torchauc/memory_bank.py). Not differentiable.
// Request-table columns: math.h.
#include <torch/library.h>

TORCH_LIBRARY_FRAGMENT(torchauc, m) {
  // Per-(image, class) pixel count and bounding box of labels (B, H, W): stats (B, num_classes, 5)
  // int64 rows [count, ymin, ymax, xmin, xmax] ([0, H, -1, W, -1] when absent) and invalid (B,) =
  // number of labels outside [0, num_classes) that are not ignore_index.
  m.def("memory_bank_class_bbox(Tensor labels, int num_classes, int ignore_index) -> (Tensor, Tensor)");
  // Copy the crops of (R, 7) requests [image, class, y0, x0, h, w, offset] of images (B, ch, H, W)
  // and their masks (labels == class) into pool_img (P, ch) / pool_mask (P,) at `offset`.
  m.def(
      "memory_bank_gather(Tensor images, Tensor labels, Tensor requests, Tensor(a!) pool_img, "
      "Tensor(b!) pool_mask) -> ()");
  // Paste (R, 13) requests [image, class, oy, ox, rh, rw, src_h, src_w, y0, x0, h, w, offset]
  // (sorted by image; later rows overwrite earlier ones) into images / labels in place.
  m.def(
      "memory_bank_paste(Tensor(a!) images, Tensor(b!) labels, Tensor pool_img, Tensor pool_mask, "
      "Tensor requests) -> ()");
}
