// Hinge and squared hinge pairwise losses on the CPU: one split radix sort, then two walks.
//   sort: positives and negatives sorted apart by score (core/split_radix_sort.h). The key is built,
//     the label read in its own dtype (bool/int8/uint8/int64/float32 in place, others through one
//     int8 conversion) and checked inside the sort's two reads of the input; each key carries its
//     sample index (uint32) for the gradient. NaN scores sort beyond the keys of +-inf, so the ends
//     of the sorted classes tell whether there is one (no isnan pass).
//   walks: pair (i, j) is active iff z_j > x_i - m. A positive's value and derivative are the
//     moments of the negatives above x_i - m (a suffix), a negative's those of the positives below
//     z_j + m (a prefix). Positives walk descending and negatives ascending, so each walk's pointer
//     only adds keys to its moments; each fixed chunk of a walk starts from a table of per-block
//     moments (kBlock keys) plus one partial block, so nothing of size n is stored besides the sort
//     and the outputs. Each sample's gradient is written once, the reduction's scale applied, in
//     the output dtype (float64 for float16/bfloat16 scores, rounded once at the end).
// Rounding: the moments are float64 sums of the same terms as serial prefix / suffix sums, in
// another order (block totals, then the keys of the partial block); the results differ from a
// float64 evaluation by float64 rounding only. Chunks are fixed (kChunk), so results do not depend
// on the thread count. Extra memory: the sort's four buffers (2 x (key + index) per sample) and the
// outputs.
#include "pairwise/cpu_hinge.h"

#include <ATen/Parallel.h>

#include <algorithm>
#include <array>
#include <atomic>
#include <cmath>
#include <limits>
#include <type_traits>
#include <vector>

#include "core/labels.h"
#include "core/parallel.h"
#include "core/split_radix_sort.h"
#include "pairwise/math.h"

namespace torchauc::pairwise {
namespace {

constexpr int64_t kBlock = 1024;              // keys per entry of the side-moment tables
constexpr int64_t kSerialBelow = 2 * kChunk;  // walks of fewer samples stay on the calling thread

using Moments3 = std::array<double, 3>;  // (sum w, sum w k, sum w k^2) over some keys k

inline void add_moment(Moments3& m, double w, double k) {
  m[0] += w;
  m[1] += w * k;
  m[2] += w * k * k;
}

// One class after the sort: ascending scores, their sample indices and weights.
template <typename K>
struct SortedClass {
  const sort_key_t<K>* key;
  const uint32_t* src;
  const double* w;  // weights by sample index (null: all ones)
  int64_t size;
  double score(int64_t r) const { return static_cast<double>(from_sort_key<K>(key[r])); }
  double weight(int64_t r) const { return w ? w[src[r]] : 1.0; }
};

// Moments of key(score) per block of kBlock ranks.
template <typename K, typename KeyFn>
std::vector<Moments3> block_totals(const SortedClass<K>& c, const KeyFn& key) {
  const int64_t nb = (c.size + kBlock - 1) / kBlock;
  std::vector<Moments3> t(nb, Moments3{0.0, 0.0, 0.0});
  at::parallel_for(0, nb, kSerialBelow / kBlock, [&](int64_t bb, int64_t be) {
    for (int64_t b = bb; b < be; ++b) {
      const int64_t e = std::min(c.size, (b + 1) * kBlock);
      for (int64_t r = b * kBlock; r < e; ++r) add_moment(t[b], c.weight(r), key(c.score(r)));
    }
  });
  return t;
}

// Positives: pre[b] = moments of ranks [0, b kBlock); prefix_at(r) adds the partial block ascending.
template <typename K, typename KeyFn>
struct PrefixMoments {
  const SortedClass<K>& c;
  KeyFn key;
  std::vector<Moments3> pre;
  PrefixMoments(const SortedClass<K>& cls, KeyFn k) : c(cls), key(k) {
    const std::vector<Moments3> t = block_totals(c, key);
    pre.assign(t.size() + 1, Moments3{0.0, 0.0, 0.0});
    for (size_t b = 0; b < t.size(); ++b)
      for (int q = 0; q < 3; ++q) pre[b + 1][q] = pre[b][q] + t[b][q];
  }
  Moments3 total() const { return pre.back(); }
  Moments3 at(int64_t r) const {
    const int64_t b = r / kBlock;
    Moments3 m = pre[b];
    for (int64_t q = b * kBlock; q < r; ++q) add_moment(m, c.weight(q), key(c.score(q)));
    return m;
  }
};

// Negatives: suf[b] = moments of ranks [b kBlock, size); at(r) adds the partial block descending.
template <typename K>
struct SuffixMoments {
  const SortedClass<K>& c;
  std::vector<Moments3> suf;
  explicit SuffixMoments(const SortedClass<K>& cls) : c(cls) {
    const std::vector<Moments3> t = block_totals(c, [](double z) { return z; });
    suf.assign(t.size() + 1, Moments3{0.0, 0.0, 0.0});
    for (size_t b = t.size(); b-- > 0;)
      for (int q = 0; q < 3; ++q) suf[b][q] = suf[b + 1][q] + t[b][q];
  }
  Moments3 total() const { return suf.front(); }
  Moments3 at(int64_t r) const {
    const int64_t e = std::min(c.size, (r / kBlock + 1) * kBlock);  // end of r's block
    Moments3 m = suf[(e + kBlock - 1) / kBlock];
    for (int64_t q = e - 1; q >= r; --q) add_moment(m, c.weight(q), c.score(q));
    return m;
  }
};

// Fixed chunks of kChunk ranks (in parallel from kSerialBelow on), partial sums added in chunk order.
template <typename F>
double chunked_sum(int64_t n, const F& chunk) {
  const int64_t nchunks = (n + kChunk - 1) / kChunk;
  std::vector<double> part(nchunks, 0.0);
  at::parallel_for(0, nchunks, kSerialBelow / kChunk, [&](int64_t cb, int64_t ce) {
    for (int64_t c = cb; c < ce; ++c) part[c] = chunk(c * kChunk, std::min(n, (c + 1) * kChunk));
  });
  double total = 0.0;
  for (double p : part) total += p;
  return total;
}

// The first q in [0, n) with pred(q) true, for a pred that is false then true along q.
template <typename Pred>
int64_t first_index(int64_t n, const Pred& pred) {
  int64_t lo = 0, hi = n;
  while (lo < hi) {
    const int64_t mid = lo + (hi - lo) / 2;
    if (pred(mid))
      hi = mid;
    else
      lo = mid + 1;
  }
  return lo;
}

// Writes one sample's gradients from dS/dscore and dS/d(own weight), scaled by the reduction.
template <typename O>
struct GradWriter {
  O* gx;
  double* gw;  // this side's weight gradients (null: unweighted)
  GradScale g;
  bool positive;
  void operator()(uint32_t i, double dS_dx, double dS_dw) const {
    double grad_x, grad_w;
    finish_sample(g, positive, dS_dx, dS_dw, &grad_x, &grad_w);
    gx[i] = static_cast<O>(grad_x);
    if (gw) gw[i] = grad_w;
  }
};

// S = sum over positives a_i V(u_i), u = m - x, V from the negatives above x - m; writes the
// positives' gradients when `out` is given.
template <typename K, typename O>
double walk_positives(const SortedClass<K>& xs, const SuffixMoments<K>& neg, double m, int power,
                      const GradWriter<O>* out) {
  const SortedClass<K>& zs = neg.c;
  if (xs.size == 0 || zs.size == 0) return 0.0;
  return chunked_sum(xs.size, [&](int64_t lo, int64_t hi) {
    const double top = xs.score(hi - 1) - m;
    int64_t r = first_index(zs.size, [&](int64_t q) { return top < zs.score(q); });
    Moments3 N = neg.at(r);
    double acc = 0.0;
    for (int64_t i = hi - 1; i >= lo; --i) {
      const double x = xs.score(i);
      for (; r > 0 && zs.score(r - 1) > x - m; --r) add_moment(N, zs.weight(r - 1), zs.score(r - 1));
      double value, dvalue;
      hinge_sample(power, m - x, N[0], N[1], N[2], &value, &dvalue);
      const double a = xs.weight(i);
      acc += a * value;
      if (out) (*out)(xs.src[i], -a* dvalue, value);  // du/dx = -1
    }
    return acc;
  });
}

// The negatives' gradients, V(z_j) from the positives below z_j + m.
template <typename K, typename KeyFn, typename O>
void walk_negatives(const SortedClass<K>& zs, const PrefixMoments<K, KeyFn>& pos, double m, int power,
                    const GradWriter<O>& out) {
  const SortedClass<K>& xs = pos.c;
  if (xs.size == 0 || zs.size == 0) return;
  chunked_sum(zs.size, [&](int64_t lo, int64_t hi) {
    const double first = zs.score(lo) + m;
    int64_t r = first_index(xs.size, [&](int64_t q) { return !(xs.score(q) < first); });
    Moments3 P = pos.at(r);
    for (int64_t j = lo; j < hi; ++j) {
      const double z = zs.score(j);
      for (; r < xs.size && xs.score(r) < z + m; ++r) add_moment(P, xs.weight(r), m - xs.score(r));
      double value, dvalue;
      hinge_sample(power, z, P[0], P[1], P[2], &value, &dvalue);
      out(zs.src[j], zs.weight(j) * dvalue, value);
    }
    return 0.0;
  });
}

struct HingeSetup {
  int power;
  double m;
  Reduction red;
  double scale;
  const double* a;  // positive weights (null: ones)
  const double* b;  // negative weights
  int64_t n;
};

struct HingeResult {
  GradScale g{};
  bool bad_label = false, nan = false, no_pairs = false;
};

// T: the scores' storage (float or double), O: the score gradient's, L: the labels'.
template <typename T, typename O, typename L>
HingeResult hinge_run(const T* s, const L* y, const HingeSetup& h, O* gx, double* ga, double* gb) {
  using U = sort_key_t<T>;
  std::atomic<bool> bad{false};
  const auto sorted = split_radix_sort<U, uint32_t>(h.n, [&](int64_t i, U& k, uint32_t& idx) {
    k = sort_key(s[i]);
    idx = static_cast<uint32_t>(i);
    const L v = y[i];
    if (v != L(0) && v != L(1)) [[unlikely]]
      bad.store(true, std::memory_order_relaxed);
    return v != L(0) ? 1 : 0;
  });
  HingeResult r;
  if (bad.load()) {
    r.bad_label = true;
    return r;
  }
  const U kmin = sort_key(-std::numeric_limits<T>::infinity()), kmax = sort_key(std::numeric_limits<T>::infinity());
  for (int c = 0; c < 2; ++c) {
    const int64_t cnt = sorted.count[c];
    if (cnt > 0 && (sorted.keys[c][0] < kmin || sorted.keys[c][cnt - 1] > kmax)) r.nan = true;
  }
  if (r.nan) {
    r.g = finish_reduction(h.red, 0.0, 0.0, 0.0, false, 0.0, true, h.scale);
    return r;
  }
  const double m = h.m;
  const SortedClass<T> xs{sorted.keys[1], sorted.vals[1], h.a, sorted.count[1]};
  const SortedClass<T> zs{sorted.keys[0], sorted.vals[0], h.b, sorted.count[0]};
  auto u_key = [m](double x) { return m - x; };
  const PrefixMoments<T, decltype(u_key)> pos(xs, u_key);
  const SuffixMoments<T> neg(zs);
  const double A = pos.total()[0], B = neg.total()[0];
  if (!(A * B != 0.0)) {  // no pairs: loss 0, gradient 0
    r.no_pairs = true;
    r.g = finish_reduction(h.red, 0.0, A, B, false, 0.0, false, h.scale);
    return r;
  }
  // The weight gradients of "mean" subtract loss B / W, so S comes first there; the score
  // gradients only need the scale 1 / W.
  const bool loss_first = gx && (h.a || h.b) && h.red == Reduction::Mean;
  double S = 0.0;
  if (!gx || loss_first) S = walk_positives<T, O>(xs, neg, m, h.power, nullptr);
  GradScale g = finish_reduction(h.red, S, A, B, false, 0.0, false, h.scale);
  if (gx) {
    const GradWriter<O> pos_out{gx, ga, g, true}, neg_out{gx, gb, g, false};
    const double S_walk = walk_positives<T, O>(xs, neg, m, h.power, &pos_out);
    if (!loss_first) S = S_walk;
    walk_negatives(zs, pos, m, h.power, neg_out);
  }
  r.g = finish_reduction(h.red, S, A, B, false, 0.0, false, h.scale);
  return r;
}

}  // namespace

std::tuple<at::Tensor, at::Tensor, at::Tensor, at::Tensor> hinge_loss_cpu(const PairwiseArgs& args,
                                                                          const at::Tensor& scores_in,
                                                                          const c10::optional<at::Tensor>& pos_w_in,
                                                                          const c10::optional<at::Tensor>& neg_w_in,
                                                                          double margin, bool compute_grad) {
  const auto& [sur, red, scale, scores_arg, labels_arg, pos_arg, neg_arg] = args;
  const int64_t n = scores_arg.numel();
  TORCH_CHECK_VALUE(n < (int64_t(1) << 32), "scores: the hinge surrogates on the CPU support up to 2^32 - 1 samples");
  const at::ScalarType st = scores_arg.scalar_type();
  const auto f64 = scores_arg.options().dtype(at::kDouble);
  // float16 / bfloat16 scores sort as float32 (exact) and their gradient is rounded once from float64
  const bool half_in = st == at::kHalf || st == at::kBFloat16;
  const at::Tensor scores = half_in ? scores_arg.to(at::kFloat) : scores_arg;
  at::Tensor labels = labels_arg;
  const at::ScalarType lt = labels.scalar_type();
  const bool byte_labels = lt == at::kBool || lt == at::kChar || lt == at::kByte;
  if (!byte_labels && lt != at::kLong && lt != at::kFloat) labels = binary_labels(labels).y;
  const at::Tensor a64 = pos_arg ? pos_arg->to(at::kDouble).contiguous() : at::Tensor();
  const at::Tensor b64 = neg_arg ? neg_arg->to(at::kDouble).contiguous() : at::Tensor();
  const HingeSetup h{sur == Surrogate::Hinge ? 1 : 2,
                     margin,
                     red,
                     scale,
                     a64.defined() ? a64.const_data_ptr<double>() : nullptr,
                     b64.defined() ? b64.const_data_ptr<double>() : nullptr,
                     n};

  at::Tensor gx, ga, gb;
  if (compute_grad) {
    gx = at::empty({n}, half_in ? f64 : scores.options());
    if (pos_arg) ga = at::zeros({n}, f64);  // zero at the negatives
    if (neg_arg) gb = at::zeros({n}, f64);
  }
  double* pga = ga.defined() ? ga.data_ptr<double>() : nullptr;
  double* pgb = gb.defined() ? gb.data_ptr<double>() : nullptr;
  HingeResult r;
  auto with_labels = [&](auto label_tag) {
    using L = decltype(label_tag);
    const L* y = static_cast<const L*>(labels.const_data_ptr());
    if (scores.scalar_type() == at::kDouble) {
      r = hinge_run<double, double, L>(scores.const_data_ptr<double>(), y, h,
                                       gx.defined() ? gx.data_ptr<double>() : nullptr, pga, pgb);
    } else if (half_in) {
      r = hinge_run<float, double, L>(scores.const_data_ptr<float>(), y, h,
                                      gx.defined() ? gx.data_ptr<double>() : nullptr, pga, pgb);
    } else {
      r = hinge_run<float, float, L>(scores.const_data_ptr<float>(), y, h,
                                     gx.defined() ? gx.data_ptr<float>() : nullptr, pga, pgb);
    }
  };
  switch (labels.scalar_type()) {
    case at::kLong: with_labels(int64_t{}); break;
    case at::kFloat: with_labels(float{}); break;
    default: with_labels(int8_t{}); break;  // bool, int8, uint8 (a uint8 above 127 reads negative: flagged)
  }
  if (r.bad_label) binary_labels(labels_arg);  // throws the shared error (argument, first index, value)

  if (compute_grad && r.nan) {  // NaN for every score and for each sample's own weight, as finish_sample gives
    gx.fill_(std::numeric_limits<double>::quiet_NaN());
    if (ga.defined() || gb.defined()) {
      const at::Tensor pos = binary_labels(labels_arg).y.ne(0);
      if (ga.defined()) ga.masked_fill_(pos, std::numeric_limits<double>::quiet_NaN());
      if (gb.defined()) gb.masked_fill_(pos.logical_not(), std::numeric_limits<double>::quiet_NaN());
    }
  }
  if (compute_grad && r.no_pairs) gx.zero_();

  const auto out_opts = scores_arg.options();
  at::Tensor loss = at::full({}, r.g.loss, f64).to(st);
  at::Tensor g_s = at::empty({0}, out_opts), g_a = at::empty({0}, out_opts), g_b = at::empty({0}, out_opts);
  if (compute_grad) {
    g_s = gx.to(st).view(scores_in.sizes());
    if (pos_arg) g_a = ga.to(pos_arg->scalar_type()).view(pos_w_in->sizes());
    if (neg_arg) g_b = gb.to(neg_arg->scalar_type()).view(neg_w_in->sizes());
  }
  return {loss, g_s, g_a, g_b};
}

}  // namespace torchauc::pairwise
