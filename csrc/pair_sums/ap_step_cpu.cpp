// The SOAP average-precision loss step on the CPU in one call (compat.libauc_ap): the row sums of the
// anchors, LibAUC's moving-average state update, the value and its gradient. Pair sums by the tiles of
// grouped_pair_sums (tile_cpu.h): O(n+ n) time, O(n C) memory, no pair matrix. One call replaces the
// hundred-odd small tensor ops of the composed path, which dominate at LibAUC's batch sizes.
#include <ATen/ATen.h>
#include <ATen/Parallel.h>
#include <torch/library.h>

#include <cmath>
#include <optional>
#include <vector>

#include "pair_sums/args.h"
#include "pair_sums/tile_cpu.h"

namespace torchauc::pair_sums {
namespace {

// The positives of the counted labels, grouped by label; rank = position in row-major (sample, label)
// order, the order of the state slots and of LibAUC's index.
struct Anchors {
  std::vector<int64_t> offset, sample, label, rank;
};

Anchors find_anchors(const bool* y, const bool* counted, int64_t n, int64_t C) {
  Anchors a;
  a.offset.assign(C + 1, 0);
  for (int64_t j = 0; j < n; ++j)
    for (int64_t c = 0; c < C; ++c) a.offset[c + 1] += y[j * C + c] && counted[c];
  for (int64_t c = 0; c < C; ++c) a.offset[c + 1] += a.offset[c];
  const int64_t na = a.offset[C];
  a.sample.resize(na);
  a.label.resize(na);
  a.rank.resize(na);
  std::vector<int64_t> cursor(a.offset.begin(), a.offset.end() - 1);
  int64_t r = 0;
  for (int64_t j = 0; j < n; ++j)
    for (int64_t c = 0; c < C; ++c)
      if (y[j * C + c] && counted[c]) {
        const int64_t ai = cursor[c]++;
        a.sample[ai] = j;
        a.label[ai] = c;
        a.rank[ai] = r++;
      }
  return a;
}

// State slot of every anchor (by rank): index per sample (slot c data_len + index[j]) or per anchor.
std::vector<int64_t> anchor_slots(const Anchors& a, const at::Tensor& index, int64_t n, int64_t C, int64_t data_len) {
  const int64_t na = static_cast<int64_t>(a.rank.size());
  const bool per_sample = index.numel() == n;
  TORCH_CHECK_VALUE(per_sample || (C == 1 && index.numel() == na), "index must have one entry per sample (", n, ")",
                    C == 1 ? " or per positive (" + std::to_string(na) + ")" : std::string(), ", got ", index.numel());
  const int64_t* ix = index.data_ptr<int64_t>();
  std::vector<int64_t> slot(na);
  for (int64_t ai = 0; ai < na; ++ai) {
    const int64_t i = ix[per_sample ? a.sample[ai] : a.rank[ai]];
    TORCH_CHECK_VALUE(i >= 0 && i < data_len, "index entries must be in [0, data_len=", data_len, ")");
    slot[a.rank[ai]] = a.label[ai] * data_len + i;
  }
  return slot;
}

struct Surrogate {
  PairSurrogate kind;
  double margin, scale;
};

// Runs f(q) for q in [0, count) in parallel, chunks of about 2^15 pairs of `per_query` items each.
template <typename F>
void for_queries(int64_t count, int64_t per_query, const F& f) {
  const int64_t grain = std::max<int64_t>(1, (int64_t(1) << 15) / std::max<int64_t>(1, per_query));
  at::parallel_for(0, count, grain, [&](int64_t b, int64_t e) {
    for (int64_t q = b; q < e; ++q) f(q);
  });
}

// T: the compute type of the tiles; U: the state's type.
template <typename T, typename U>
std::tuple<at::Tensor, at::Tensor> ap_step(const at::Tensor& scores, const at::Tensor& y_mask,
                                           const at::Tensor& counted_mask, const at::Tensor& index, at::Tensor& u_all,
                                           at::Tensor& u_pos, int64_t data_len, Surrogate sur, double gamma,
                                           std::optional<double> top_k, bool update, bool want_grad) {
  const int64_t n = scores.size(0), C = scores.size(1);
  const at::Tensor hc = scores.t().to(c10::CppTypeToScalarType<T>::value).contiguous();  // label c: [c n, (c + 1) n)
  const T* h = hc.data_ptr<T>();
  const bool* y = y_mask.data_ptr<bool>();  // (n, C) row-major
  const bool* counted = counted_mask.data_ptr<bool>();
  const Anchors a = find_anchors(y, counted, n, C);
  const int64_t na = static_cast<int64_t>(a.rank.size());
  const std::vector<int64_t> slot = anchor_slots(a, index, n, C, data_len);
  const T m = static_cast<T>(sur.margin), s = static_cast<T>(sur.scale);

  std::vector<T> anchor_h(na);  // the anchors' scores, grouped by label: the items of the column sums
  for (int64_t ai = 0; ai < na; ++ai) anchor_h[ai] = h[a.label[ai] * n + a.sample[ai]];
  // Row weights (K, C n), label-major: 1, y and, with top_k, s_j = sigmoid(top_k - sum_{i in P} l_ij), s y.
  const bool topk = top_k.has_value();
  const int64_t K = topk ? 4 : 2, N = n * C;
  std::vector<T> w(K * N);
  std::vector<double> item_weight(N, 1.0);  // s_j
  for (int64_t c = 0; c < C; ++c)
    for (int64_t j = 0; j < n; ++j) {
      w[c * n + j] = T(1);
      w[N + c * n + j] = T(y[j * C + c]);
    }
  if (topk) {
    const std::vector<T> ones(std::max<int64_t>(na, 1), T(1));
    const TileFn<T> fn = tile_function<T>(sur.kind, 1);
    for_queries(N, std::max<int64_t>(1, na / C), [&](int64_t q) {
      const int64_t c = q / n;
      double v = 0, d = 0;
      query_sums<T>(fn, h[q], T(-1), m, s, anchor_h.data(), ones.data(), 0, a.offset[c], a.offset[c + 1], &v, &d);
      item_weight[q] = 1.0 / (1.0 + std::exp(v - *top_k));
      w[2 * N + q] = static_cast<T>(item_weight[q]);
      w[3 * N + q] = static_cast<T>(item_weight[q] * double(w[N + q]));
    });
  }

  // Rows: per anchor i, sum_j w_j l(h_i - h_j) and its h_i-derivative over the samples of its label.
  std::vector<double> row(na * K), drow(na * K);
  {
    const TileFn<T> fn = tile_function<T>(sur.kind, K);
    for_queries(na, n, [&](int64_t ai) {
      const int64_t c = a.label[ai];
      query_sums<T>(fn, anchor_h[ai], T(1), m, s, h, w.data(), N, c * n, (c + 1) * n, &row[ai * K], &drow[ai * K]);
    });
  }

  // State: u <- (1 - g) u + (g / n) row sum, read at every anchor before any write; written in
  // rank order and read back, so a repeated index sees the value stored last (as LibAUC's index_put).
  // Without an update the old values are put back afterwards: the value is still the one the update
  // would give (a repeated index's last value), the state unchanged.
  U* ua = u_all.data_ptr<U>();
  U* up = u_pos.data_ptr<U>();
  std::vector<U> new_all(na), new_pos(na), old_all(na), old_pos(na);
  const double keep = 1.0 - gamma, step = gamma / static_cast<double>(n);
  for (int64_t ai = 0; ai < na; ++ai) {
    const int64_t r = a.rank[ai];
    old_all[r] = ua[slot[r]];
    old_pos[r] = up[slot[r]];
    new_all[r] = static_cast<U>(keep * double(old_all[r]) + step * row[ai * K]);
    new_pos[r] = static_cast<U>(keep * double(old_pos[r]) + step * row[ai * K + 1]);
  }
  for (int64_t r = 0; r < na; ++r) {
    ua[slot[r]] = new_all[r];
    up[slot[r]] = new_pos[r];
  }
  for (int64_t r = 0; r < na; ++r) {
    new_all[r] = ua[slot[r]];
    new_pos[r] = up[slot[r]];
  }
  if (!update) {
    for (int64_t r = 0; r < na; ++r) {  // every entry of one index read the same old value
      ua[slot[r]] = old_all[r];
      up[slot[r]] = old_pos[r];
    }
  }

  // loss = sum_c scale_c sum_{i in P_c} (A_i sum_j s_j l_ij - C_i sum_j s_j y_j l_ij) with A = u_pos / u_all^2,
  // C = 1 / u_all and scale_c = 1 / (n n+_c #counted labels).
  int64_t n_counted = 0;
  for (int64_t c = 0; c < C; ++c) n_counted += counted[c];
  std::vector<double> label_scale(C);
  for (int64_t c = 0; c < C; ++c)
    label_scale[c] = 1.0 / (static_cast<double>(std::max<int64_t>(1, (a.offset[c + 1] - a.offset[c]) * n)) *
                            static_cast<double>(std::max<int64_t>(1, n_counted)));
  const int64_t ks = topk ? 2 : 0, ksy = ks + 1;  // the weight rows of the value: s and s y
  std::vector<T> AC(2 * std::max<int64_t>(na, 1));
  std::vector<double> A(na), Cw(na);
  double value = 0;
  for (int64_t ai = 0; ai < na; ++ai) {
    const double inv = 1.0 / double(new_all[a.rank[ai]]);
    A[ai] = double(new_pos[a.rank[ai]]) * inv * inv;
    Cw[ai] = inv;
    AC[ai] = static_cast<T>(A[ai]);
    AC[na + ai] = static_cast<T>(inv);
    value += label_scale[a.label[ai]] * (A[ai] * row[ai * K + ks] - inv * row[ai * K + ksy]);
  }
  const at::Tensor value_t = at::scalar_tensor(value, scores.options());
  if (!want_grad) return {value_t, at::empty({0}, scores.options())};

  // Gradient: as anchor, d/dh_i = A_i d(row s) - C_i d(row s y); as item, sum_i (A_i s_j - C_i s_j y_j) dl_ij/dh_j
  // with dl_ij/dh_j = -l'(h_i - h_j): column sums over the anchors of the label (queries h_j, sign -1).
  at::Tensor grad = at::zeros({n, C}, scores.options().dtype(at::kDouble));
  double* g = grad.data_ptr<double>();
  for (int64_t ai = 0; ai < na; ++ai)
    g[a.sample[ai] * C + a.label[ai]] +=
        label_scale[a.label[ai]] * (A[ai] * drow[ai * K + ks] - Cw[ai] * drow[ai * K + ksy]);
  const TileFn<T> fn = tile_function<T>(sur.kind, 2, TileSums::Derivatives);  // no l: the logistic skips its log
  for_queries(N, std::max<int64_t>(1, na / C), [&](int64_t q) {
    const int64_t c = q / n, j = q % n;
    if (a.offset[c + 1] == a.offset[c]) return;
    double d[2] = {0, 0};
    query_sums<T>(fn, h[q], T(-1), m, s, anchor_h.data(), AC.data(), na, a.offset[c], a.offset[c + 1], nullptr, d);
    // d holds sum_i w_i l'(t); d/dh_j = -d
    g[j * C + c] += label_scale[c] * item_weight[q] * (-d[0] + double(w[N + q]) * d[1]);
  });
  return {value_t, grad.to(scores.scalar_type())};
}

std::tuple<at::Tensor, at::Tensor> ap_loss_step_cpu(const at::Tensor& scores, const at::Tensor& labels,
                                                    const at::Tensor& index, const std::optional<at::Tensor>& counted,
                                                    at::Tensor& u_all, at::Tensor& u_pos, int64_t data_len,
                                                    c10::string_view surrogate, double margin, double scale,
                                                    double gamma, std::optional<double> top_k, bool update,
                                                    bool want_grad) {
  const Surrogate sur{parse_pair_surrogate(surrogate), margin, scale};
  TORCH_CHECK_VALUE(scores.dim() == 2 && at::isFloatingType(scores.scalar_type()),
                    "scores must be a 2-D floating point tensor (n, C), got ", scores.scalar_type(), " of shape ",
                    scores.sizes());
  const int64_t n = scores.size(0), C = scores.size(1);
  TORCH_CHECK_VALUE(labels.numel() == n * C, "labels must have ", n * C, " elements, got ", labels.numel());
  TORCH_CHECK_VALUE(!at::isFloatingType(index.scalar_type()) && !at::isComplexType(index.scalar_type()),
                    "index must be an integer tensor, got ", index.scalar_type());
  TORCH_CHECK_VALUE(data_len > 0, "data_len must be > 0, got ", data_len);
  for (const auto* u : {&u_all, &u_pos})
    TORCH_CHECK_VALUE(u->is_contiguous() && u->numel() == C * data_len &&
                          (u->scalar_type() == at::kFloat || u->scalar_type() == at::kDouble) &&
                          u->scalar_type() == u_all.scalar_type(),
                      "u_all and u_pos must be contiguous float32 or float64 tensors of ", C * data_len,
                      " elements, got ", u->scalar_type(), " of shape ", u->sizes());
  const at::Tensor y = labels.reshape({n, C}).eq(1).contiguous();
  TORCH_CHECK_VALUE(!counted.has_value() || counted->numel() == C, "counted must have one entry per label (", C,
                    "), got ", counted.has_value() ? counted->numel() : 0);
  const at::Tensor on =
      counted.has_value() ? counted->reshape({C}).ne(0).contiguous() : at::ones({C}, labels.options().dtype(at::kBool));
  const at::Tensor idx = index.reshape({-1}).to(at::kLong).contiguous();
  const bool f64 = scores.scalar_type() == at::kDouble || sur.kind != PairSurrogate::Logistic;
  const bool state64 = u_all.scalar_type() == at::kDouble;
  auto run = [&](auto t, auto u) {
    using T = decltype(t);
    using U = decltype(u);
    return ap_step<T, U>(scores, y, on, idx, u_all, u_pos, data_len, sur, gamma, top_k, update, want_grad);
  };
  if (f64) return state64 ? run(double{}, double{}) : run(double{}, float{});
  return state64 ? run(float{}, double{}) : run(float{}, float{});
}

}  // namespace

TORCH_LIBRARY_IMPL(torchauc, CPU, m) { m.impl("ap_loss_step", &ap_loss_step_cpu); }

}  // namespace torchauc::pair_sums
