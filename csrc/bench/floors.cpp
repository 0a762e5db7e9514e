// Floors for the benchmark suite (namespace torchauc_bench, CPU only; not part of the library API):
// the least work an op of each kind must do on this machine, timed in the same run as the op, so a
// benchmark row can print op / floor. See python/torchauc/bench/floors.py for how cases use them.
//   floor_elementwise: one pass reading every input once and writing `writes` outputs shaped like
//     reads[0] (the floor of O(n) and pixel losses: read the inputs, write the gradients); with
//     writes = 0 the pass only reads, and returns the float64 sum of what it read (the floor of the
//     multiclass AUROC search: every score seen once).
//   floor_radix_sort: the project's own radix sort (core/radix_sort.h) of the same keys, optionally
//     carrying an int64 index as sort-based ops do (the floor of AUROC and hinge losses).
//   floor_fma: rows x cols fused multiply-adds in the order of a tiled pairwise kernel (one per pair).
#include <ATen/ATen.h>
#include <ATen/Dispatch.h>
#include <ATen/Parallel.h>
#include <torch/library.h>

#include <algorithm>
#include <vector>

#include "core/radix_sort.h"
#include "core/sort_keys.h"

namespace torchauc::bench {
namespace {

constexpr int64_t kBlock = 2048;  // elements converted per input before the outputs are written

// acc[0, len) += src[off, off + len) converted to double.
void add_block(const at::Tensor& t, int64_t off, int64_t len, double* acc) {
  AT_DISPATCH_ALL_TYPES_AND3(at::kBool, at::kHalf, at::kBFloat16, t.scalar_type(), "floor_elementwise", [&] {
    const scalar_t* src = t.const_data_ptr<scalar_t>() + off;
    for (int64_t i = 0; i < len; ++i) acc[i] += static_cast<double>(src[i]);
  });
}

// The read-only pass: every block converted and summed, the block sums added in order.
double read_only_sum(const std::vector<at::Tensor>& full, int64_t n, int64_t blocks) {
  std::vector<double> block_sum(blocks, 0.0);
  at::parallel_for(0, blocks, 1, [&](int64_t bb, int64_t be) {
    double acc[kBlock];
    for (int64_t b = bb; b < be; ++b) {
      const int64_t off = b * kBlock, len = std::min(kBlock, n - off);
      std::fill(acc, acc + len, 0.0);
      for (const at::Tensor& t : full) add_block(t, off, len, acc);
      double sum = 0.0;
      for (int64_t i = 0; i < len; ++i) sum += acc[i];
      block_sum[b] = sum;
    }
  });
  double total = 0.0;
  for (double v : block_sum) total += v;
  return total;
}

std::vector<at::Tensor> floor_elementwise(at::TensorList reads_in, int64_t writes) {
  TORCH_CHECK_VALUE(!reads_in.empty(), "floor_elementwise: reads must hold at least one tensor");
  TORCH_CHECK_VALUE(writes >= 0, "floor_elementwise: writes must be >= 0, got ", writes);
  TORCH_CHECK(at::isFloatingType(reads_in[0].scalar_type()), "floor_elementwise: reads[0] must be floating, got ",
              reads_in[0].scalar_type());
  const int64_t n = reads_in[0].numel();
  std::vector<at::Tensor> full, side;  // inputs of n elements (fused), others (read in their own pass)
  for (const at::Tensor& t : reads_in) {
    TORCH_CHECK(t.device().is_cpu(), "floor_elementwise: CPU tensors only");
    (t.numel() == n ? full : side).push_back(t.contiguous());
  }
  double side_sum = 0.0;  // inputs of another size (labels of a pixel loss): one reduction each
  for (const at::Tensor& t : side) side_sum += t.sum(at::kDouble).item<double>();
  const int64_t blocks = (n + kBlock - 1) / kBlock;
  if (writes == 0) return {at::scalar_tensor(read_only_sum(full, n, blocks) + side_sum, at::kDouble)};
  std::vector<at::Tensor> outs;
  for (int64_t w = 0; w < writes; ++w) outs.push_back(at::empty_like(full[0]));
  AT_DISPATCH_FLOATING_TYPES_AND2(at::kHalf, at::kBFloat16, full[0].scalar_type(), "floor_elementwise_out", [&] {
    std::vector<scalar_t*> dst;
    for (at::Tensor& o : outs) dst.push_back(o.data_ptr<scalar_t>());
    at::parallel_for(0, blocks, 1, [&](int64_t bb, int64_t be) {
      double acc[kBlock];
      for (int64_t b = bb; b < be; ++b) {
        const int64_t off = b * kBlock, len = std::min(kBlock, n - off);
        std::fill(acc, acc + len, side_sum);
        for (const at::Tensor& t : full) add_block(t, off, len, acc);
        for (size_t w = 0; w < dst.size(); ++w) {
          const double scale = static_cast<double>(w + 1);
          for (int64_t i = 0; i < len; ++i) dst[w][off + i] = static_cast<scalar_t>(acc[i] * scale);
        }
      }
    });
  });
  return outs;
}

template <typename K>
std::tuple<at::Tensor, at::Tensor> sort_keys_of(const at::Tensor& keys, bool with_index) {
  using U = sort_key_t<K>;
  const int64_t n = keys.numel();
  const K* src = keys.const_data_ptr<K>();
  std::vector<U> enc(n), enc_tmp(n);
  at::parallel_for(0, n, 1 << 16, [&](int64_t b, int64_t e) {
    for (int64_t i = b; i < e; ++i) enc[i] = sort_key(src[i]);
  });
  at::Tensor sorted = at::empty({n}, keys.options());
  at::Tensor idx = at::empty({with_index ? n : 0}, keys.options().dtype(at::kLong));
  constexpr int kBits = 8 * static_cast<int>(sizeof(U));
  if (with_index) {
    int64_t* ix = idx.data_ptr<int64_t>();
    std::vector<int64_t> ix_tmp(n);
    at::parallel_for(0, n, 1 << 16, [&](int64_t b, int64_t e) {
      for (int64_t i = b; i < e; ++i) ix[i] = i;
    });
    radix_sort(enc.data(), ix, enc_tmp.data(), ix_tmp.data(), n, 0, kBits);
  } else {
    NoPayload none;
    radix_sort(enc.data(), &none, enc_tmp.data(), &none, n, 0, kBits);
  }
  K* out = sorted.data_ptr<K>();
  at::parallel_for(0, n, 1 << 16, [&](int64_t b, int64_t e) {
    for (int64_t i = b; i < e; ++i) out[i] = from_sort_key<K>(enc[i]);
  });
  return {sorted, idx};
}

std::tuple<at::Tensor, at::Tensor> floor_radix_sort(const at::Tensor& keys_in, bool with_index) {
  TORCH_CHECK(keys_in.device().is_cpu(), "floor_radix_sort: CPU tensors only");
  const at::ScalarType t = keys_in.scalar_type();
  TORCH_CHECK(t == at::kFloat || t == at::kDouble, "floor_radix_sort: keys must be float32 or float64, got ", t);
  const at::Tensor keys = keys_in.reshape({-1}).contiguous();
  return t == at::kFloat ? sort_keys_of<float>(keys, with_index) : sort_keys_of<double>(keys, with_index);
}

// acc[j] += a * b[j] over one tile row: the one FMA per pair a tiled kernel cannot avoid.
__attribute__((target_clones("avx2", "default"))) void fma_row(float a, const float* b, float* acc, int64_t len) {
#pragma omp simd
  for (int64_t j = 0; j < len; ++j) acc[j] = a * b[j] + acc[j];
}

at::Tensor floor_fma(int64_t rows, int64_t cols) {
  TORCH_CHECK_VALUE(rows >= 0 && cols >= 0, "floor_fma: rows and cols must be >= 0, got ", rows, ", ", cols);
  constexpr int64_t kTile = 2048;  // columns per tile, as the tiled pairwise kernel
  const at::Tensor a = at::linspace(0.0, 1.0, rows, at::kFloat), b = at::linspace(0.0, 1.0, cols, at::kFloat);
  const int nthreads = at::get_num_threads();
  std::vector<float> col(static_cast<size_t>(nthreads) * cols, 0.0f);
  const float* pa = a.const_data_ptr<float>();
  const float* pb = b.const_data_ptr<float>();
  at::parallel_for(0, rows, 1, [&](int64_t ib, int64_t ie) {
    float* acc = col.data() + static_cast<size_t>(at::get_thread_num()) * cols;
    for (int64_t i = ib; i < ie; ++i)
      for (int64_t j0 = 0; j0 < cols; j0 += kTile) fma_row(pa[i], pb + j0, acc + j0, std::min(kTile, cols - j0));
  });
  double total = 0.0;
  for (float v : col) total += v;
  return at::scalar_tensor(total, at::kDouble);
}

}  // namespace

TORCH_LIBRARY(torchauc_bench, m) {
  m.def("floor_elementwise(Tensor[] reads, int writes) -> Tensor[]");
  m.def("floor_radix_sort(Tensor keys, bool with_index) -> (Tensor, Tensor)");
  m.def("floor_fma(int rows, int cols) -> Tensor");
}

TORCH_LIBRARY_IMPL(torchauc_bench, CPU, m) {
  m.impl("floor_elementwise", &floor_elementwise);
  m.impl("floor_radix_sort", &floor_radix_sort);
}

// floor_fma has no tensor argument to dispatch on: a CompositeExplicitAutograd kernel (runs anywhere).
TORCH_LIBRARY_IMPL(torchauc_bench, CompositeExplicitAutograd, m) { m.impl("floor_fma", &floor_fma); }

}  // namespace torchauc::bench
