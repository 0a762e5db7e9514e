// CUDA glue of the SOD ops: checks, allocation, stream, launches (no host sync).
#include "core/cuda_glue.h"

#include <ATen/ATen.h>
#include <c10/cuda/CUDAGuard.h>
#include <c10/cuda/CUDAStream.h>
#include <torch/library.h>

#include "sod/args.h"
#include "sod/cuda.h"
#include "sod/math.h"

namespace torchauc::sod {
namespace {

cudaStream_t stream() { return c10::cuda::getCurrentCUDAStream().stream(); }

std::tuple<at::Tensor, at::Tensor> sod_frames_cuda(const at::Tensor& masks, double threshold, int64_t min_area,
                                                   int64_t connectivity) {
  check_masks(masks, threshold, min_area, connectivity);
  const c10::cuda::CUDAGuard guard(masks.device());
  const int64_t B = masks.size(0), H = masks.size(1), W = masks.size(2), HW = H * W;
  const auto i32 = masks.options().dtype(at::kInt);
  const at::Tensor fg = at::gt(masks, threshold).contiguous();
  at::Tensor parent = at::empty({B, HW}, i32), area = at::zeros({B, HW}, i32);
  at::Tensor first = at::full({B}, HW, i32), any_big = at::zeros({B}, i32), flags = at::empty({B, HW}, i32);
  at::Tensor labels = at::empty({B, H, W}, i32);
  cuda::launch_components_merge(fg.const_data_ptr<bool>(), B, H, W, connectivity == 8, parent.data_ptr<int32_t>(),
                                stream());
  check_launch("sod_frames");
  cuda::launch_components_stats(B, H, W, parent.data_ptr<int32_t>(), area.data_ptr<int32_t>(),
                                first.data_ptr<int32_t>(), stream());
  check_launch("sod_frames");
  cuda::launch_components_flags(B, H, W, parent.const_data_ptr<int32_t>(), area.const_data_ptr<int32_t>(),
                                first.const_data_ptr<int32_t>(), min_area, any_big.data_ptr<int32_t>(),
                                flags.data_ptr<int32_t>(), stream());
  check_launch("sod_frames");
  // frame ids: the kept roots numbered in raster order (an inclusive scan per image)
  const at::Tensor ids = at::cumsum(flags, 1, at::kInt);
  cuda::launch_components_relabel(B, H, W, parent.const_data_ptr<int32_t>(), flags.const_data_ptr<int32_t>(),
                                  ids.const_data_ptr<int32_t>(), labels.data_ptr<int32_t>(), stream());
  check_launch("sod_frames");
  at::Tensor counts = HW > 0 ? ids.select(1, HW - 1).to(at::kLong) : at::zeros({B}, masks.options().dtype(at::kLong));
  return {labels, counts};
}

std::tuple<at::Tensor, at::Tensor> sod_si_loss_cuda(const at::Tensor& pred_in, const at::Tensor& target_in,
                                                    const at::Tensor& boxes_in, const at::Tensor& counts_in,
                                                    int64_t base, bool compute_grad) {
  check_loss_inputs(pred_in, target_in, boxes_in, counts_in, base);
  const c10::cuda::CUDAGuard guard(pred_in.device());
  const at::Tensor pred = pred_in.contiguous();
  const at::Tensor target = target_in.to(pred.scalar_type()).contiguous();
  const at::Tensor boxes = boxes_in.contiguous(), counts = counts_in.contiguous();
  const int64_t B = pred.size(0), C = pred.size(1), H = pred.size(2), W = pred.size(3), K = boxes.size(1);
  at::Tensor sums = at::zeros({B, loss_rows(K) + 1, C, kStats}, pred.options().dtype(at::kDouble));
  at::Tensor loss = at::empty({}, pred.options());
  at::Tensor grad = compute_grad ? at::empty_like(pred) : at::empty({0}, pred.options());
  cuda::launch_si_loss(dtype_of(pred, "pred"), pred.const_data_ptr(), target.const_data_ptr(),
                       boxes.const_data_ptr<int64_t>(), counts.const_data_ptr<int64_t>(), B, C, H, W, K,
                       static_cast<int>(base), sums.data_ptr<double>(), loss.data_ptr(),
                       compute_grad ? grad.data_ptr() : nullptr, stream());
  check_launch("sod_si_loss");
  return {loss, grad};
}

std::tuple<at::Tensor, at::Tensor> sod_frame_stats_cuda(const at::Tensor& pred_in, const at::Tensor& norm_in,
                                                        const at::Tensor& target_in, const at::Tensor& boxes_in,
                                                        const at::Tensor& counts_in, const at::Tensor& thresholds_in,
                                                        bool official) {
  check_stats_inputs(pred_in, norm_in, target_in, boxes_in, counts_in, thresholds_in);
  TORCH_CHECK_VALUE(thresholds_in.numel() <= cuda::kMaxThresholds, "thresholds: at most ", cuda::kMaxThresholds,
                    " on CUDA, got ", thresholds_in.numel());
  const c10::cuda::CUDAGuard guard(pred_in.device());
  const at::Tensor pred = pred_in.contiguous();
  const at::Tensor norm = norm_in.to(pred.scalar_type()).contiguous();
  const at::Tensor target = target_in.to(pred.scalar_type()).contiguous();
  const at::Tensor thr = thresholds_in.to(at::kDouble).contiguous();
  const at::Tensor boxes = boxes_in.contiguous(), counts = counts_in.contiguous();
  const int64_t B = pred.size(0), H = pred.size(1), W = pred.size(2), K = boxes.size(1), T = thr.numel();
  at::Tensor hist = at::empty({B, K + 2, 2, T + 1, 2}, pred.options().dtype(at::kLong));
  at::Tensor sums = at::empty({B, K + 2, 3}, pred.options().dtype(at::kDouble));
  cuda::launch_frame_stats(dtype_of(pred, "pred"), pred.const_data_ptr(), norm.const_data_ptr(),
                           target.const_data_ptr(), boxes.const_data_ptr<int64_t>(), counts.const_data_ptr<int64_t>(),
                           thr.const_data_ptr<double>(), B, H, W, K, T, official, hist.data_ptr<int64_t>(),
                           sums.data_ptr<double>(), stream());
  check_launch("sod_frame_stats");
  return {hist, sums};
}

}  // namespace

TORCH_LIBRARY_IMPL(torchauc, CUDA, m) {
  m.impl("sod_frames", &sod_frames_cuda);
  m.impl("sod_si_loss", &sod_si_loss_cuda);
  m.impl("sod_frame_stats", &sod_frame_stats_cuda);
}

}  // namespace torchauc::sod
