// CPU kernels of the SAM family. The optimizer's passes are memory-bandwidth bound, so each op is
// one parallel region over the concatenated parameter list (no per-tensor launches, no temporaries,
// no allocation per step): the global norm (fixed chunks, deterministic), the perturbed weights,
// and the fused SGD update (one read of p, g, buf and one write of p, buf per element).
#include <ATen/ATen.h>
#include <ATen/Dispatch.h>
#include <ATen/OpMathType.h>
#include <ATen/Parallel.h>
#include <torch/library.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <vector>
#if defined(__SSE2__)
#include <emmintrin.h>
#endif

#include "core/parallel.h"
#include "sam/args.h"
#include "sam/math.h"

namespace torchauc::sam {
namespace {

constexpr int64_t kStreamBytes = int64_t(16) << 20;

// A flat index space over a list of tensors: visit(b, e, fn) calls fn(k, lo, hi) for every tensor k
// meeting [b, e), lo and hi local element offsets.
class FlatList {
 public:
  explicit FlatList(const std::vector<at::Tensor>& tensors) : start_(tensors.size() + 1, 0) {
    for (size_t k = 0; k < tensors.size(); ++k) start_[k + 1] = start_[k] + tensors[k].numel();
  }
  int64_t total() const { return start_.back(); }

  template <typename Fn>
  void visit(int64_t b, int64_t e, const Fn& fn) const {
    size_t k = std::upper_bound(start_.begin(), start_.end(), b) - start_.begin() - 1;
    for (; b < e; ++k) {
      const int64_t stop = std::min(e, start_[k + 1]);
      if (stop > b) fn(k, b - start_[k], stop - start_[k]);
      b = stop;
    }
  }

 private:
  std::vector<int64_t> start_;
};

// The tensors a pass runs on: lists[j][k] is the k-th tensor of argument j itself when all arguments
// of parameter k share one dense layout (the usual case: raw element ranges), else a contiguous copy,
// copied back by finish() where the pass writes it.
struct Operands {
  std::vector<std::vector<at::Tensor>> lists;
  std::vector<std::pair<at::Tensor, at::Tensor>> write_back;  // (argument, its contiguous copy)

  Operands(std::initializer_list<at::TensorList> args, std::initializer_list<bool> written) : lists(args.size()) {
    const at::TensorList first = *args.begin();
    for (size_t k = 0; k < first.size(); ++k) {
      bool dense = first[k].is_non_overlapping_and_dense();
      for (const at::TensorList& a : args) dense = dense && a[k].strides() == first[k].strides();
      size_t j = 0;
      for (const bool w : written) {
        const at::Tensor& t = args.begin()[j][k];
        const at::Tensor c = dense ? t : t.contiguous();
        if (w && !c.is_same(t)) write_back.emplace_back(t, c);
        lists[j++].push_back(c);
      }
    }
  }
  void finish() {
    for (auto& [arg, copy] : write_back) arg.copy_(copy);
  }
};

#define TAUC_SAM_DISPATCH(dtype, ...) \
  AT_DISPATCH_FLOATING_TYPES_AND2(at::kHalf, at::kBFloat16, dtype, "torchauc_sam", __VA_ARGS__)

// The per-tensor loops (outside the dispatch macro, whose argument cannot hold a pragma).
// 16 independent float64 accumulators: one chain of dependent adds would cap this pass at a
// quarter of the memory bandwidth.
template <typename scalar_t>
double sum_squares_range(const scalar_t* x, int64_t lo, int64_t hi) {
  constexpr int kLanes = 16;
  double lane[kLanes] = {};
  int64_t i = lo;
  for (; i + kLanes <= hi; i += kLanes) {
#pragma omp simd
    for (int j = 0; j < kLanes; ++j) {
      const double v = static_cast<double>(x[i + j]);
      lane[j] += v * v;
    }
  }
  double s = 0.0;
  for (; i < hi; ++i) s += static_cast<double>(x[i]) * static_cast<double>(x[i]);
  for (const double l : lane) s += l;
  return s;
}

template <typename scalar_t>
void axpy_range(const scalar_t* p, const scalar_t* d, scalar_t* o, double scale, int64_t lo, int64_t hi,
                bool /*stream*/) {
  using T = at::opmath_type<scalar_t>;
  const T s = static_cast<T>(scale);
#pragma omp simd
  for (int64_t i = lo; i < hi; ++i) o[i] = static_cast<scalar_t>(static_cast<T>(p[i]) + s * static_cast<T>(d[i]));
}

#if defined(__SSE2__)
// float32 (the usual case) with streaming stores when the list is larger than the caches: `o` is
// only written, so a normal store would first read every line of it (a third of this pass's traffic).
template <>
void axpy_range<float>(const float* p, const float* d, float* o, double scale, int64_t lo, int64_t hi, bool stream) {
  const float s = static_cast<float>(scale);
  int64_t i = lo;
  if (stream) {
    for (; i < hi && reinterpret_cast<uintptr_t>(o + i) % 16 != 0; ++i) o[i] = p[i] + s * d[i];
    const __m128 vs = _mm_set1_ps(s);
    for (; i + 4 <= hi; i += 4)
      _mm_stream_ps(o + i, _mm_add_ps(_mm_loadu_ps(p + i), _mm_mul_ps(vs, _mm_loadu_ps(d + i))));
    _mm_sfence();  // streaming stores are weakly ordered: visible before this thread's chunk ends
  }
#pragma omp simd
  for (int64_t j = i; j < hi; ++j) o[j] = p[j] + s * d[j];
}
#endif

template <typename scalar_t>
void sgd_range(scalar_t* p, const scalar_t* g, scalar_t* buf, const SgdCoef<at::opmath_type<scalar_t>>& c, int64_t lo,
               int64_t hi) {
  using T = at::opmath_type<scalar_t>;
  if (buf != nullptr) {
#pragma omp simd
    for (int64_t i = lo; i < hi; ++i) {
      T pv = p[i], bv = buf[i];
      sgd_update(pv, static_cast<T>(g[i]), bv, c);
      p[i] = static_cast<scalar_t>(pv);
      buf[i] = static_cast<scalar_t>(bv);
    }
  } else {
#pragma omp simd
    for (int64_t i = lo; i < hi; ++i) {
      T pv = p[i], unused = T(0);
      sgd_update(pv, static_cast<T>(g[i]), unused, c);
      p[i] = static_cast<scalar_t>(pv);
    }
  }
}

// sum of squares over the whole list in float64, in fixed chunks combined in order.
double sum_squares(const std::vector<at::Tensor>& tensors, const FlatList& flat) {
  const int64_t total = flat.total(), nchunks = (total + kChunk - 1) / kChunk;
  std::vector<double> part(nchunks, 0.0);
  at::parallel_for(0, nchunks, 1, [&](int64_t cb, int64_t ce) {
    for (int64_t c = cb; c < ce; ++c) {
      double acc = 0.0;
      flat.visit(c * kChunk, std::min(total, (c + 1) * kChunk), [&](size_t k, int64_t lo, int64_t hi) {
        TAUC_SAM_DISPATCH(tensors[k].scalar_type(),
                          [&] { acc += sum_squares_range(tensors[k].const_data_ptr<scalar_t>(), lo, hi); });
      });
      part[c] = acc;
    }
  });
  double sum = 0.0;
  for (const double p : part) sum += p;
  return sum;
}

void sam_perturb_cpu(at::TensorList params, at::TensorList directions, at::TensorList out, c10::ArrayRef<double> rho,
                     double eps, const c10::optional<at::Tensor>& norm) {
  check_perturb_args(params, directions, out, rho, eps, norm);
  if (params.empty()) return;
  Operands ops({params, directions, out}, {false, false, true});
  const auto &P = ops.lists[0], &D = ops.lists[1], &O = ops.lists[2];
  const FlatList flat(P);
  const double nrm = norm.has_value() ? norm->item<double>() : std::sqrt(sum_squares(D, flat));
  // Streaming stores only pay off when the output would not stay in the caches anyway.
  const bool stream = flat.total() * static_cast<int64_t>(P[0].element_size()) >= kStreamBytes;
  std::vector<double> scale(rho.size());
  for (size_t k = 0; k < rho.size(); ++k) scale[k] = rho[k] / (nrm + eps);
  at::parallel_for(0, flat.total(), kChunk, [&](int64_t b, int64_t e) {
    flat.visit(b, e, [&](size_t k, int64_t lo, int64_t hi) {
      TAUC_SAM_DISPATCH(P[k].scalar_type(), [&] {
        axpy_range(P[k].const_data_ptr<scalar_t>(), D[k].const_data_ptr<scalar_t>(), O[k].data_ptr<scalar_t>(),
                   scale[k], lo, hi, stream);
      });
    });
  });
  ops.finish();
}

void sam_sgd_step_cpu(at::TensorList params, at::TensorList grads, at::TensorList buffers, bool fresh, double lr,
                      double momentum, double dampening, double weight_decay, bool nesterov, bool maximize) {
  check_sgd_args(params, grads, buffers, momentum);
  if (params.empty()) return;
  const bool has_momentum = momentum != 0;
  Operands ops =
      has_momentum ? Operands({params, grads, buffers}, {true, false, true}) : Operands({params, grads}, {true, false});
  const auto &P = ops.lists[0], &G = ops.lists[1];
  const FlatList flat(P);
  at::parallel_for(0, flat.total(), kChunk, [&](int64_t b, int64_t e) {
    flat.visit(b, e, [&](size_t k, int64_t lo, int64_t hi) {
      TAUC_SAM_DISPATCH(P[k].scalar_type(), [&] {
        using T = at::opmath_type<scalar_t>;
        const SgdCoef<T> c{static_cast<T>(lr),
                           static_cast<T>(momentum),
                           static_cast<T>(1 - dampening),
                           static_cast<T>(weight_decay),
                           nesterov,
                           maximize,
                           fresh,
                           has_momentum};
        scalar_t* buf = has_momentum ? ops.lists[2][k].data_ptr<scalar_t>() : nullptr;
        sgd_range(P[k].data_ptr<scalar_t>(), G[k].const_data_ptr<scalar_t>(), buf, c, lo, hi);
      });
    });
  });
  ops.finish();
}

}  // namespace

TORCH_LIBRARY_IMPL(torchauc, CPU, m) {
  m.impl("sam_perturb", &sam_perturb_cpu);
  m.impl("sam_sgd_step", &sam_sgd_step_cpu);
}

}  // namespace torchauc::sam
