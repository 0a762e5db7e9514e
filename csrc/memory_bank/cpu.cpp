// CPU kernels of the AUCSeg T-Memory Bank (python/torchauc/memory_bank.py):
//   memory_bank_class_bbox  per-(image, class) pixel count and bounding box, one pass over a label batch;
//   memory_bank_gather      copy the bounding-box crops (image + exact class mask) of many (image, class)
//                   requests into the bank's flat pool, one call per batch;
//   memory_bank_paste       resample (nearest mask, bilinear image, OpenCV conventions) and masked-write
//                   every paste request of a batch in one call, in request order.
#include <ATen/ATen.h>
#include <ATen/Dispatch.h>
#include <ATen/Parallel.h>
#include <torch/library.h>

#include <algorithm>
#include <cmath>
#include <type_traits>
#include <vector>

#include "memory_bank/args.h"
#include "memory_bank/math.h"

namespace torchauc::memory_bank {
namespace {

// ------------------------------------------------------------------------------ class bbox
constexpr int64_t kRowsPerChunk = 64;

std::tuple<at::Tensor, at::Tensor> memory_bank_class_bbox_cpu(const at::Tensor& labels_in, int64_t num_classes,
                                                              int64_t ignore_index) {
  check_labels(labels_in);
  TORCH_CHECK_VALUE(num_classes >= 1, "num_classes must be >= 1, got ", num_classes);
  const at::Tensor labels = labels_in.contiguous();
  const int64_t B = labels.size(0), H = labels.size(1), W = labels.size(2), C = num_classes;
  const int64_t chunks = std::max<int64_t>(1, (H + kRowsPerChunk - 1) / kRowsPerChunk);
  // partial[b][chunk][c] = {count, ymin, ymax, xmin, xmax}; bad[b][chunk] = invalid labels
  std::vector<int64_t> partial(static_cast<size_t>(B * chunks * C * 5));
  std::vector<int64_t> bad(static_cast<size_t>(B * chunks), 0);
  AT_DISPATCH_INTEGRAL_TYPES(labels.scalar_type(), "memory_bank_class_bbox", [&] {
    const scalar_t* L = labels.const_data_ptr<scalar_t>();
    at::parallel_for(0, B * chunks, 1, [&](int64_t t0, int64_t t1) {
      for (int64_t t = t0; t < t1; ++t) {
        const int64_t b = t / chunks, y_begin = (t % chunks) * kRowsPerChunk;
        const int64_t y_end = std::min(H, y_begin + kRowsPerChunk);
        int64_t* s = partial.data() + t * C * 5;
        for (int64_t c = 0; c < C; ++c) {
          s[c * 5 + 0] = 0;
          s[c * 5 + 1] = H;
          s[c * 5 + 2] = -1;
          s[c * 5 + 3] = W;
          s[c * 5 + 4] = -1;
        }
        int64_t n_bad = 0;
        for (int64_t y = y_begin; y < y_end; ++y) {
          const scalar_t* row = L + (b * H + y) * W;
          for_each_run(row, 0, W, [&](scalar_t v, int64_t x, int64_t x_last) {
            const int64_t c = static_cast<int64_t>(v);
            if (c == ignore_index) return;
            if (c < 0 || c >= C) {
              n_bad += x_last - x + 1;
              return;
            }
            int64_t* e = s + c * 5;
            e[0] += x_last - x + 1;
            e[1] = std::min(e[1], y);
            e[2] = std::max(e[2], y);
            e[3] = std::min(e[3], x);
            e[4] = std::max(e[4], x_last);
          });
        }
        bad[t] = n_bad;
      }
    });
  });
  at::Tensor stats = at::empty({B, C, 5}, labels.options().dtype(at::kLong));
  at::Tensor invalid = at::zeros({B}, labels.options().dtype(at::kLong));
  int64_t* S = stats.data_ptr<int64_t>();
  int64_t* I = invalid.data_ptr<int64_t>();
  at::parallel_for(0, B * C, 256, [&](int64_t i0, int64_t i1) {
    for (int64_t i = i0; i < i1; ++i) {
      const int64_t b = i / C, c = i % C;
      int64_t out[5] = {0, H, -1, W, -1};
      for (int64_t k = 0; k < chunks; ++k) {
        const int64_t* e = partial.data() + ((b * chunks + k) * C + c) * 5;
        out[0] += e[0];
        out[1] = std::min(out[1], e[1]);
        out[2] = std::max(out[2], e[2]);
        out[3] = std::min(out[3], e[3]);
        out[4] = std::max(out[4], e[4]);
      }
      std::copy(out, out + 5, S + i * 5);
    }
  });
  for (int64_t b = 0; b < B; ++b)
    for (int64_t k = 0; k < chunks; ++k) I[b] += bad[b * chunks + k];
  return {stats, invalid};
}

// ------------------------------------------------------------------------------ gather
void check_gather_rows(const int64_t* R, int64_t n, int64_t B, int64_t H, int64_t W, int64_t P) {
  for (int64_t r = 0; r < n; ++r) {
    const int64_t* q = R + r * kGatherFields;
    const int64_t b = q[kGImage], y0 = q[kGY0], x0 = q[kGX0], h = q[kGH], w = q[kGW], off = q[kGOffset];
    TORCH_CHECK_VALUE(b >= 0 && b < B, "requests[", r, "]: image index ", b, " outside [0, ", B, ")");
    TORCH_CHECK_VALUE(h >= 1 && w >= 1 && y0 >= 0 && x0 >= 0 && y0 + h <= H && x0 + w <= W, "requests[", r,
                      "]: crop (y0=", y0, ", x0=", x0, ", h=", h, ", w=", w, ") outside the ", H, "x", W, " image");
    TORCH_CHECK_VALUE(off >= 0 && off + h * w <= P, "requests[", r, "]: pool range [", off, ", ", off + h * w,
                      ") outside the pool of ", P, " pixels");
  }
}

// Rows of all requests flattened: row index -> (request, y) through a prefix table.
std::vector<int64_t> row_prefix(const int64_t* R, int64_t n, int fields, int h_field) {
  std::vector<int64_t> pre(static_cast<size_t>(n + 1), 0);
  for (int64_t r = 0; r < n; ++r) pre[r + 1] = pre[r] + R[r * fields + h_field];
  return pre;
}

void memory_bank_gather_cpu(const at::Tensor& images_in, const at::Tensor& labels_in, const at::Tensor& requests_in,
                            const at::Tensor& pool_img, const at::Tensor& pool_mask) {
  check_images(images_in, labels_in);
  check_requests(requests_in, kGatherFields, images_in);
  check_pool(pool_img, pool_mask, images_in);
  const at::Tensor images = images_in.contiguous(), labels = labels_in.contiguous();
  const at::Tensor requests = requests_in.contiguous();
  const int64_t B = images.size(0), CH = images.size(1), H = images.size(2), W = images.size(3);
  const int64_t n = requests.size(0);
  const int64_t* R = requests.const_data_ptr<int64_t>();
  check_gather_rows(R, n, B, H, W, pool_img.size(0));
  if (n == 0) return;
  const std::vector<int64_t> pre = row_prefix(R, n, kGatherFields, kGH);
  bool* M = pool_mask.data_ptr<bool>();
  AT_DISPATCH_FLOATING_TYPES_AND3(at::kHalf, at::kBFloat16, at::kByte, images.scalar_type(), "memory_bank_gather", [&] {
    using img_t = scalar_t;
    const img_t* X = images.const_data_ptr<img_t>();
    img_t* PI = pool_img.data_ptr<img_t>();
    AT_DISPATCH_INTEGRAL_TYPES(labels.scalar_type(), "memory_bank_gather_labels", [&] {
      const scalar_t* L = labels.const_data_ptr<scalar_t>();
      at::parallel_for(0, pre[n], 8, [&](int64_t i0, int64_t i1) {
        for (int64_t i = i0; i < i1; ++i) {
          const int64_t r = std::upper_bound(pre.begin(), pre.end(), i) - pre.begin() - 1;
          const int64_t* q = R + r * kGatherFields;
          const int64_t b = q[kGImage], cls = q[kGClass], w = q[kGW];
          const int64_t y = i - pre[r], sy = q[kGY0] + y, x0 = q[kGX0];
          const int64_t dst = q[kGOffset] + y * w;
          const scalar_t* lrow = L + (b * H + sy) * W + x0;
          for (int64_t x = 0; x < w; ++x) M[dst + x] = static_cast<int64_t>(lrow[x]) == cls;
          for (int64_t c = 0; c < CH; ++c) {
            const img_t* irow = X + ((b * CH + c) * H + sy) * W + x0;
            img_t* out = PI + dst * CH + c;
            for (int64_t x = 0; x < w; ++x) out[x * CH] = irow[x];
          }
        }
      });
    });
  });
}

// ------------------------------------------------------------------------------ paste
// Result of the bilinear sum in the image dtype: uint8 rounds to nearest and saturates.
template <typename T, typename A>
inline T store_pixel(A v) {
  if constexpr (std::is_same_v<T, uint8_t>) {
    const A r = std::nearbyint(v);
    return static_cast<uint8_t>(r < A(0) ? A(0) : (r > A(255) ? A(255) : r));
  } else {
    return static_cast<T>(v);
  }
}

template <typename scalar_t>
void check_paste_rows(const int64_t* R, int64_t n, int64_t B, int64_t P) {
  for (int64_t r = 0; r < n; ++r) {
    const int64_t* q = R + r * kPasteFields;
    const int64_t b = q[kPImage], cls = q[kPClass];
    TORCH_CHECK_VALUE(b >= 0 && b < B, "requests[", r, "]: image index ", b, " outside [0, ", B, ")");
    TORCH_CHECK_VALUE(r == 0 || R[(r - 1) * kPasteFields + kPImage] <= b,
                      "requests must be sorted by image index (row ", r, ")");
    TORCH_CHECK_VALUE(static_cast<int64_t>(static_cast<scalar_t>(cls)) == cls, "requests[", r, "]: class ", cls,
                      " does not fit the labels' dtype");
    TORCH_CHECK_VALUE(q[kPRH] >= 1 && q[kPRW] >= 1 && q[kPSrcH] >= 1 && q[kPSrcW] >= 1, "requests[", r,
                      "]: resized and source sizes must be >= 1");
    const int64_t y0 = q[kPY0], x0 = q[kPX0], h = q[kPH], w = q[kPW], off = q[kPOffset];
    TORCH_CHECK_VALUE(h >= 1 && w >= 1 && y0 >= 0 && x0 >= 0 && y0 + h <= q[kPSrcH] && x0 + w <= q[kPSrcW], "requests[",
                      r, "]: crop (y0=", y0, ", x0=", x0, ", h=", h, ", w=", w, ") outside its source image");
    TORCH_CHECK_VALUE(off >= 0 && off + h * w <= P, "requests[", r, "]: pool range [", off, ", ", off + h * w,
                      ") outside the pool of ", P, " pixels");
  }
}

void memory_bank_paste_cpu(const at::Tensor& images, const at::Tensor& labels, const at::Tensor& pool_img_in,
                           const at::Tensor& pool_mask_in, const at::Tensor& requests_in) {
  check_images(images, labels);
  check_requests(requests_in, kPasteFields, images);
  check_pool(pool_img_in, pool_mask_in, images);
  TORCH_CHECK_VALUE(images.is_contiguous() && labels.is_contiguous(),
                    "images and labels must be contiguous (they are written in place)");
  const at::Tensor requests = requests_in.contiguous();
  const int64_t B = images.size(0), CH = images.size(1), H = images.size(2), W = images.size(3);
  const int64_t n = requests.size(0);
  const int64_t* R = requests.const_data_ptr<int64_t>();
  if (n == 0) return;
  const bool* M = pool_mask_in.const_data_ptr<bool>();
  AT_DISPATCH_INTEGRAL_TYPES(labels.scalar_type(), "memory_bank_paste_labels", [&] {
    using lab_t = scalar_t;
    check_paste_rows<lab_t>(R, n, B, pool_img_in.size(0));
    lab_t* L = labels.data_ptr<lab_t>();
    std::vector<int64_t> start(static_cast<size_t>(B + 1), 0);  // requests of image b: [start[b], start[b+1])
    for (int64_t r = 0; r < n; ++r) ++start[R[r * kPasteFields + kPImage] + 1];
    for (int64_t b = 0; b < B; ++b) start[b + 1] += start[b];
    AT_DISPATCH_FLOATING_TYPES_AND3(
        at::kHalf, at::kBFloat16, at::kByte, images.scalar_type(), "memory_bank_paste", [&] {
          using img_t = scalar_t;
          using acc_t = std::conditional_t<std::is_same_v<img_t, double>, double, float>;
          img_t* X = images.data_ptr<img_t>();
          const img_t* PI = pool_img_in.const_data_ptr<img_t>();
          // one task per destination row: requests of that image in order, so later pastes win
          at::parallel_for(0, B * H, 16, [&](int64_t t0, int64_t t1) {
            for (int64_t t = t0; t < t1; ++t) {
              const int64_t b = t / H, Y = t % H;
              for (int64_t r = start[b]; r < start[b + 1]; ++r) {
                const int64_t* q = R + r * kPasteFields;
                const int64_t dy = Y - q[kPOY];
                if (dy < 0 || dy >= q[kPRH]) continue;
                const int64_t src_h = q[kPSrcH], src_w = q[kPSrcW];
                const int64_t y0 = q[kPY0], x0 = q[kPX0], h = q[kPH], w = q[kPW];
                const double scale_y = resize_scale(src_h, q[kPRH]);
                const int64_t sy = nearest_source(dy, scale_y, src_h);
                if (sy < y0 || sy >= y0 + h) continue;
                const LinearTap ty = linear_source(dy, scale_y, src_h);
                const int64_t ry0 = std::clamp(ty.i0, y0, y0 + h - 1) - y0,
                              ry1 = std::clamp(ty.i1, y0, y0 + h - 1) - y0;
                const double scale_x = resize_scale(src_w, q[kPRW]);
                const int64_t ox = q[kPOX], off = q[kPOffset];
                int64_t lo, hi;
                destination_range(x0, x0 + w - 1, scale_x, q[kPRW], lo, hi);
                lo = std::max(lo, -ox);
                hi = std::min(hi, W - 1 - ox);
                const bool* mrow = M + off + (sy - y0) * w;
                const lab_t cls = static_cast<lab_t>(q[kPClass]);
                for (int64_t dx = lo; dx <= hi; ++dx) {
                  const int64_t sx = nearest_source(dx, scale_x, src_w);
                  if (sx < x0 || sx >= x0 + w || !mrow[sx - x0]) continue;
                  const LinearTap tx = linear_source(dx, scale_x, src_w);
                  const int64_t rx0 = std::clamp(tx.i0, x0, x0 + w - 1) - x0;
                  const int64_t rx1 = std::clamp(tx.i1, x0, x0 + w - 1) - x0;
                  const img_t* p00 = PI + (off + ry0 * w + rx0) * CH;
                  const img_t* p01 = PI + (off + ry0 * w + rx1) * CH;
                  const img_t* p10 = PI + (off + ry1 * w + rx0) * CH;
                  const img_t* p11 = PI + (off + ry1 * w + rx1) * CH;
                  const int64_t X_ = ox + dx;
                  for (int64_t c = 0; c < CH; ++c) {
                    const acc_t v =
                        bilinear<acc_t>(static_cast<acc_t>(p00[c]), static_cast<acc_t>(p01[c]),
                                        static_cast<acc_t>(p10[c]), static_cast<acc_t>(p11[c]), tx.w1, ty.w1);
                    X[((b * CH + c) * H + Y) * W + X_] = store_pixel<img_t, acc_t>(v);
                  }
                  L[(b * H + Y) * W + X_] = cls;
                }
              }
            }
          });
        });
  });
}

}  // namespace

TORCH_LIBRARY_IMPL(torchauc, CPU, m) {
  m.impl("memory_bank_class_bbox", &memory_bank_class_bbox_cpu);
  m.impl("memory_bank_gather", &memory_bank_gather_cpu);
  m.impl("memory_bank_paste", &memory_bank_paste_cpu);
}

}  // namespace torchauc::memory_bank
