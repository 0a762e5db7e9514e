// CUDA glue of the T-Memory Bank ops: checks, allocation, stream, dispatch to the launchers.
#include "core/cuda_glue.h"

#include <ATen/ATen.h>
#include <c10/cuda/CUDAGuard.h>
#include <c10/cuda/CUDAStream.h>
#include <torch/library.h>

#include "memory_bank/args.h"
#include "memory_bank/cuda.h"

namespace torchauc::memory_bank {
namespace {

cudaStream_t stream() { return c10::cuda::getCurrentCUDAStream().stream(); }

std::tuple<at::Tensor, at::Tensor> memory_bank_class_bbox_cuda(const at::Tensor& labels_in, int64_t num_classes,
                                                               int64_t ignore_index) {
  check_labels(labels_in);
  TORCH_CHECK_VALUE(num_classes >= 1, "num_classes must be >= 1, got ", num_classes);
  const c10::cuda::CUDAGuard guard(labels_in.device());
  const at::Tensor labels = labels_in.contiguous();
  const int64_t B = labels.size(0), H = labels.size(1), W = labels.size(2);
  at::Tensor stats = at::empty({B, num_classes, 5}, labels.options().dtype(at::kLong));
  stats.select(2, 0).fill_(0);
  stats.select(2, 1).fill_(H);
  stats.select(2, 2).fill_(-1);
  stats.select(2, 3).fill_(W);
  stats.select(2, 4).fill_(-1);
  at::Tensor invalid = at::zeros({B}, labels.options().dtype(at::kLong));
  cuda::launch_class_bbox(dtype_of(labels, "labels"), labels.const_data_ptr(), B, H, W, num_classes, ignore_index,
                          stats.data_ptr<int64_t>(), invalid.data_ptr<int64_t>(), stream());
  check_launch("memory_bank_class_bbox");
  return {stats, invalid};
}

void memory_bank_gather_cuda(const at::Tensor& images_in, const at::Tensor& labels_in, const at::Tensor& requests_in,
                             const at::Tensor& pool_img, const at::Tensor& pool_mask) {
  check_images(images_in, labels_in);
  check_requests(requests_in, kGatherFields, images_in);
  check_pool(pool_img, pool_mask, images_in);
  const c10::cuda::CUDAGuard guard(images_in.device());
  const at::Tensor images = images_in.contiguous(), labels = labels_in.contiguous();
  const at::Tensor requests = requests_in.contiguous();
  cuda::launch_gather(dtype_of(images, "images"), dtype_of(labels, "labels"), images.const_data_ptr(),
                      labels.const_data_ptr(), images.size(0), images.size(1), images.size(2), images.size(3),
                      requests.const_data_ptr<int64_t>(), requests.size(0), pool_img.data_ptr(),
                      pool_mask.data_ptr<bool>(), pool_img.size(0), stream());
  check_launch("memory_bank_gather");
}

void memory_bank_paste_cuda(const at::Tensor& images, const at::Tensor& labels, const at::Tensor& pool_img,
                            const at::Tensor& pool_mask, const at::Tensor& requests_in) {
  check_images(images, labels);
  check_requests(requests_in, kPasteFields, images);
  check_pool(pool_img, pool_mask, images);
  TORCH_CHECK_VALUE(images.is_contiguous() && labels.is_contiguous(),
                    "images and labels must be contiguous (they are written in place)");
  if (requests_in.size(0) == 0) return;
  const c10::cuda::CUDAGuard guard(images.device());
  const at::Tensor requests = requests_in.contiguous();
  const int64_t B = images.size(0);
  // rows are sorted by image: starts[b] = first row of image >= b (the kernel re-checks the image)
  const at::Tensor starts =
      at::searchsorted(requests.select(1, kPImage).contiguous(), at::arange(B + 1, requests.options()));
  cuda::launch_paste(dtype_of(images, "images"), dtype_of(labels, "labels"), images.data_ptr(), labels.data_ptr(), B,
                     images.size(1), images.size(2), images.size(3), pool_img.const_data_ptr(),
                     pool_mask.const_data_ptr<bool>(), pool_img.size(0), requests.const_data_ptr<int64_t>(),
                     starts.const_data_ptr<int64_t>(), stream());
  check_launch("memory_bank_paste");
}

}  // namespace

TORCH_LIBRARY_IMPL(torchauc, CUDA, m) {
  m.impl("memory_bank_class_bbox", &memory_bank_class_bbox_cuda);
  m.impl("memory_bank_gather", &memory_bank_gather_cuda);
  m.impl("memory_bank_paste", &memory_bank_paste_cuda);
}

}  // namespace torchauc::memory_bank
