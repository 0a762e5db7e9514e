// CPU kernels of the CML ops: the fused triplet forward (distances, argmins, hinge per row), the
// compact gradient rows of its backward, and the rejection sampler. Parallel over rows; every
// reduction is in row order, so results do not depend on the thread count.
#include <ATen/ATen.h>
#include <ATen/Dispatch.h>
#include <ATen/Parallel.h>
#include <torch/library.h>

#include <algorithm>
#include <vector>

#include "cml/args.h"
#include "cml/math.h"

namespace torchauc::cml {
namespace {

std::tuple<at::Tensor, at::Tensor> cml_triplet_loss_cpu(const at::Tensor& users, const at::Tensor& pos,
                                                        const at::Tensor& neg,
                                                        const c10::optional<at::Tensor>& users_idx,
                                                        const c10::optional<at::Tensor>& pos_idx,
                                                        const c10::optional<at::Tensor>& neg_idx, double margin,
                                                        c10::string_view reduction) {
  const TripletArgs a = check_triplet_args(users, pos, neg, users_idx, pos_idx, neg_idx, margin, reduction);
  check_index_bounds(a);
  at::Tensor argmin = at::empty({a.B, 3}, users.options().dtype(at::kLong));
  std::vector<double> hinge(a.B);
  AT_DISPATCH_FLOATING_TYPES(a.users.scalar_type(), "cml_triplet_loss_cpu", [&] {
    const TripletRows<scalar_t> r = rows_of<scalar_t>(a);
    int64_t* am = argmin.data_ptr<int64_t>();
    at::parallel_for(0, a.B, 16, [&](int64_t b0, int64_t b1) {
      std::vector<double> dist(a.K * (1 + a.J));
      for (int64_t b = b0; b < b1; ++b) {
        for (int64_t c = 0; c < a.K; ++c)
          for (int64_t t = 0; t <= a.J; ++t) dist[c * (1 + a.J) + t] = row_distance(r, b, c, t);
        const TripletSelect s = triplet_select(dist.data(), a.K, a.J, margin);
        hinge[b] = s.hinge;
        am[b * 3] = s.c_pos, am[b * 3 + 1] = s.c_neg, am[b * 3 + 2] = s.j_neg;
      }
    });
  });
  double total = 0.0;
  for (const double h : hinge) total += h;
  if (a.mean) total = a.B > 0 ? total / static_cast<double>(a.B) : 0.0;
  return {at::scalar_tensor(total, users.options().dtype(at::kDouble)).to(users.scalar_type()), argmin};
}

std::tuple<at::Tensor, at::Tensor, at::Tensor> cml_triplet_backward_cpu(
    const at::Tensor& grad, const at::Tensor& users, const at::Tensor& pos, const at::Tensor& neg,
    const c10::optional<at::Tensor>& users_idx, const c10::optional<at::Tensor>& pos_idx,
    const c10::optional<at::Tensor>& neg_idx, const at::Tensor& argmin, c10::string_view reduction) {
  const TripletArgs a = check_triplet_args(users, pos, neg, users_idx, pos_idx, neg_idx, 0.0, reduction);
  TORCH_CHECK_VALUE(
      argmin.scalar_type() == at::kLong && argmin.dim() == 2 && argmin.size(0) == a.B && argmin.size(1) == 3,
      "argmin must be the (B, 3) int64 output of cml_triplet_loss, got ", argmin.sizes());
  TORCH_CHECK_VALUE(grad.numel() == 1, "grad must hold one element, got ", grad.sizes());
  check_index_bounds(a);
  const at::Tensor am = argmin.contiguous();
  const double scale = grad.item<double>() * 2.0 / (a.mean && a.B > 0 ? static_cast<double>(a.B) : 1.0);
  at::Tensor ga = at::empty({a.B, a.d}, a.users.options()), gb = at::empty({a.B, a.d}, a.users.options());
  AT_DISPATCH_FLOATING_TYPES(a.users.scalar_type(), "cml_triplet_backward_cpu", [&] {
    const TripletRows<scalar_t> r = rows_of<scalar_t>(a);
    const int64_t* m = am.data_ptr<int64_t>();
    scalar_t *pa = ga.data_ptr<scalar_t>(), *pb = gb.data_ptr<scalar_t>();
    at::parallel_for(0, a.B, 16, [&](int64_t b0, int64_t b1) {
      for (int64_t b = b0; b < b1; ++b) {
        const int64_t cp = m[b * 3], cn = m[b * 3 + 1], jn = m[b * 3 + 2];
        TORCH_CHECK_VALUE(cp < a.K && cn >= 0 && cn < a.K && jn >= 0 && jn < a.J, "argmin row ", b, " is out of range");
        for (int64_t i = 0; i < a.d; ++i) {
          if (cp < 0) {
            pa[b * a.d + i] = pb[b * a.d + i] = 0;
            continue;
          }
          pa[b * a.d + i] = static_cast<scalar_t>(
              scale * (static_cast<double>(r.user(b, cp)[i]) - static_cast<double>(r.positive(b)[i])));
          pb[b * a.d + i] = static_cast<scalar_t>(
              scale * (static_cast<double>(r.user(b, cn)[i]) - static_cast<double>(r.negative(b, jn)[i])));
        }
      }
    });
  });
  auto [gu, gp, gn] = scatter_triplet_grads(a, am, ga, gb);
  return {gu.to(users.scalar_type()), gp.to(pos.scalar_type()), gn.to(neg.scalar_type())};
}

// The whole CSR matrix is well formed and every row ascending without repeats: O(M + nnz), once.
void check_csr(const at::Tensor& indptr, const at::Tensor& indices) {
  const int64_t M = indptr.numel() - 1, nnz = indices.numel();
  const int64_t *p = indptr.data_ptr<int64_t>(), *ix = indices.data_ptr<int64_t>();
  TORCH_CHECK_VALUE(p[0] >= 0 && p[M] <= nnz, "indptr must start at >= 0 and end at <= indices.numel()");
  for (int64_t u = 0; u < M; ++u) TORCH_CHECK_VALUE(p[u] <= p[u + 1], "indptr must be non-decreasing");
  at::parallel_for(0, M, 256, [&](int64_t u0, int64_t u1) {
    for (int64_t u = u0; u < u1; ++u)
      for (int64_t k = p[u] + 1; k < p[u + 1]; ++k)
        TORCH_CHECK_VALUE(ix[k - 1] < ix[k], "indices must be sorted ascending without repeats within each row");
  });
}

at::Tensor cml_sample_negatives_cpu(const at::Tensor& indptr_in, const at::Tensor& indices_in, const at::Tensor& users,
                                    int64_t num_items, int64_t num_negatives, int64_t seed) {
  const auto [start, len] = check_sampler_args(indptr_in, indices_in, users, num_items, num_negatives);
  const at::Tensor indptr = indptr_in.contiguous(), indices = indices_in.contiguous();
  check_csr(indptr, indices);
  const int64_t R = users.numel(), J = num_negatives;
  const int64_t *st = start.data_ptr<int64_t>(), *ln = len.data_ptr<int64_t>(), *ix = indices.data_ptr<int64_t>();
  at::Tensor out = at::empty({R, J}, users.options());
  int64_t* o = out.data_ptr<int64_t>();
  // Chunks of whole rows. Rows of one user come in runs (CSR order): while the row stays the same,
  // membership is a bit test in a bitmap of the row (O(1), not a binary search); the draws do not
  // change, only how "in the row" is answered.
  const int64_t words = (num_items + 63) / 64;
  const bool bitmap = words <= (int64_t{1} << 16);  // up to 4M items: 512 KiB per thread
  at::parallel_for(0, R, std::max<int64_t>(1, 4096 / std::max<int64_t>(J, 1)), [&](int64_t r0, int64_t r1) {
    std::vector<uint64_t> bits(bitmap ? words : 0);
    const int64_t* cur = nullptr;  // the row in bits: ix + start, length cur_len
    int64_t cur_len = 0;
    auto flip = [&](const int64_t* row, int64_t len) {  // items outside [0, num_items) are never drawn
      for (int64_t k = 0; k < len; ++k)
        if (row[k] >= 0 && row[k] < num_items) bits[row[k] >> 6] ^= uint64_t{1} << (row[k] & 63);
    };
    for (int64_t r = r0; r < r1; ++r) {
      const int64_t* row = ix + st[r];
      const int64_t len = ln[r];
      if (!bitmap) {
        for (int64_t j = 0, t = r * J; j < J; ++j, ++t)
          o[t] = draw_negative(static_cast<uint64_t>(seed), static_cast<uint64_t>(t), row, len, num_items);
        continue;
      }
      if (row != cur || len != cur_len) {  // rows have no repeats (check_csr): xor sets and clears
        flip(cur, cur_len);
        flip(row, len);
        cur = row, cur_len = len;
      }
      auto in_row = [&](int64_t item) { return (bits[item >> 6] >> (item & 63)) & 1; };
      for (int64_t j = 0, t = r * J; j < J; ++j, ++t)
        o[t] = draw_negative(static_cast<uint64_t>(seed), static_cast<uint64_t>(t), num_items, in_row);
    }
  });
  return out;
}

// The gathered dots' CSR: indptr from 0 to nnz, non-decreasing, every item id in [0, N) (host, O(B + nnz)).
void check_dots_csr(const DotsArgs& a) {
  const int64_t *p = a.indptr.const_data_ptr<int64_t>(), *ix = a.indices.const_data_ptr<int64_t>();
  TORCH_CHECK_VALUE(p[0] == 0 && p[a.B] == a.nnz, "indptr must start at 0 and end at indices.numel() = ", a.nnz,
                    ", got ", p[0], " and ", p[a.B]);
  for (int64_t b = 0; b < a.B; ++b) TORCH_CHECK_VALUE(p[b] <= p[b + 1], "indptr must be non-decreasing");
  const bool in_range = std::all_of(ix, ix + a.nnz, [&](int64_t v) { return v >= 0 && v < a.N; });
  TORCH_CHECK_VALUE(in_range, "indices must be item ids in [0, ", a.N, ")");
}

at::Tensor cml_gather_dots_cpu(const at::Tensor& users, const at::Tensor& items, const at::Tensor& indptr,
                               const at::Tensor& indices) {
  const DotsArgs a = check_dots_args(users, items, indptr, indices);
  check_dots_csr(a);
  at::Tensor out = at::empty({a.nnz}, a.users.options());
  AT_DISPATCH_FLOATING_TYPES(a.users.scalar_type(), "cml_gather_dots_cpu", [&] {
    const scalar_t *U = a.users.const_data_ptr<scalar_t>(), *V = a.items.const_data_ptr<scalar_t>();
    const int64_t *p = a.indptr.const_data_ptr<int64_t>(), *ix = a.indices.const_data_ptr<int64_t>();
    scalar_t* o = out.data_ptr<scalar_t>();
    at::parallel_for(0, a.B, 16, [&](int64_t b0, int64_t b1) {
      for (int64_t b = b0; b < b1; ++b)
        for (int64_t k = p[b]; k < p[b + 1]; ++k) o[k] = dot(U + b * a.d, V + ix[k] * a.d, a.d);
    });
  });
  return out.to(users.scalar_type());
}

std::tuple<at::Tensor, at::Tensor> cml_gather_dots_backward_cpu(const at::Tensor& grad, const at::Tensor& users,
                                                                const at::Tensor& items, const at::Tensor& indptr,
                                                                const at::Tensor& indices) {
  const DotsArgs a = check_dots_args(users, items, indptr, indices);
  check_dots_csr(a);
  const at::Tensor g = check_dots_grad(grad, a);
  at::Tensor gu = at::empty({a.B, a.d}, a.users.options()), gi = at::empty({a.N, a.d}, a.items.options());
  const int64_t *p = a.indptr.const_data_ptr<int64_t>(), *ix = a.indices.const_data_ptr<int64_t>();
  std::vector<int64_t> entry_user(a.nnz);
  for (int64_t b = 0; b < a.B; ++b) std::fill(entry_user.begin() + p[b], entry_user.begin() + p[b + 1], b);
  // each item's entries in CSR order (a counting sort: the CUDA glue's stable sort, in O(nnz + N))
  std::vector<int64_t> iptr(a.N + 1, 0), ord(a.nnz);
  for (int64_t k = 0; k < a.nnz; ++k) ++iptr[ix[k] + 1];
  for (int64_t j = 0; j < a.N; ++j) iptr[j + 1] += iptr[j];
  {
    std::vector<int64_t> next(iptr.begin(), iptr.end() - 1);
    for (int64_t k = 0; k < a.nnz; ++k) ord[next[ix[k]]++] = k;
  }
  AT_DISPATCH_FLOATING_TYPES(a.users.scalar_type(), "cml_gather_dots_backward_cpu", [&] {
    const scalar_t *G = g.const_data_ptr<scalar_t>(), *U = a.users.const_data_ptr<scalar_t>(),
                   *V = a.items.const_data_ptr<scalar_t>();
    // one output row per task: rows of users (t over the user's entries) then of items (over the
    // item's entries, transposed order)
    auto rows = [&](scalar_t* out, int64_t n, auto&& range, auto&& entry, auto&& table_row, const scalar_t* table,
                    int64_t table_rows) {
      at::parallel_for(0, n, 16, [&](int64_t r0, int64_t r1) {
        for (int64_t r = r0; r < r1; ++r) {
          scalar_t* acc = out + r * a.d;
          std::fill(acc, acc + a.d, scalar_t(0));
          const auto [t0, t1] = range(r);
          gathered_grad(G, table, table_rows, a.d, 0, a.d, t0, t1, entry, table_row, acc);
        }
      });
    };
    rows(
        gu.data_ptr<scalar_t>(), a.B, [&](int64_t b) { return std::pair{p[b], p[b + 1]}; }, [](int64_t t) { return t; },
        [&](int64_t k) { return ix[k]; }, V, a.N);
    rows(
        gi.data_ptr<scalar_t>(), a.N, [&](int64_t j) { return std::pair{iptr[j], iptr[j + 1]}; },
        [&](int64_t t) { return ord[t]; }, [&](int64_t k) { return entry_user[k]; }, U, a.B);
  });
  return {gu.to(users.scalar_type()), gi.to(items.scalar_type())};
}

// First k in [b, e) with idx[k] >= v (rows ascending).
int64_t first_at_least(const int64_t* idx, int64_t b, int64_t e, int64_t v) {
  return std::lower_bound(idx + b, idx + e, v) - idx;
}

at::Tensor cml_rank_counts_cpu(const at::Tensor& scores_in, int64_t offset, const at::Tensor& q_in,
                               const at::Tensor& qi_in, const at::Tensor& test_ptr_in, const at::Tensor& test_idx_in,
                               const c10::optional<at::Tensor>& train_ptr_in,
                               const c10::optional<at::Tensor>& train_idx_in) {
  check_rank_counts_args(scores_in, q_in, qi_in, test_ptr_in, test_idx_in, train_ptr_in, train_idx_in);
  const at::Tensor scores = scores_in.contiguous(), q = q_in.contiguous(), qi = qi_in.contiguous();
  const at::Tensor tp = test_ptr_in.contiguous(), ti = test_idx_in.contiguous();
  const at::Tensor rp = train_ptr_in ? train_ptr_in->contiguous() : at::zeros_like(tp);
  const at::Tensor ri = train_idx_in ? train_idx_in->contiguous() : at::empty({0}, ti.options());
  const int64_t B = scores.size(0), n = scores.size(1), W = q.size(1);
  at::Tensor out = at::zeros({B, W}, qi.options());
  AT_DISPATCH_FLOATING_TYPES(scores.scalar_type(), "cml_rank_counts_cpu", [&] {
    const scalar_t *S = scores.data_ptr<scalar_t>(), *Q = q.data_ptr<scalar_t>();
    const int64_t *QI = qi.data_ptr<int64_t>(), *TP = tp.data_ptr<int64_t>(), *TI = ti.data_ptr<int64_t>();
    const int64_t *RP = rp.data_ptr<int64_t>(), *RI = ri.data_ptr<int64_t>();
    int64_t* O = out.data_ptr<int64_t>();
    at::parallel_for(0, B, 1, [&](int64_t b0, int64_t b1) {
      std::vector<int64_t> hist(W + 1);
      for (int64_t b = b0; b < b1; ++b) {
        std::fill(hist.begin(), hist.end(), 0);
        const scalar_t *s = S + b * n, *qb = Q + b * W;
        const int64_t* qib = QI + b * W;
        int64_t* ob = O + b * W;
        auto add = [&](int64_t k, int64_t w) {  // item offset + k counted w times
          const scalar_t x = s[k];
          const int64_t a = count_below(qb, W, x);
          hist[a] += w;
          for (int64_t j = a; j < W && qb[j] == x; ++j)
            ob[j] += w * (qib[j] > offset + k);  // ties: smaller index first
        };
        // every item of the tile, then the masked ones taken back out: the hot loop has no mask test
        for (int64_t k = 0; k < n; ++k) add(k, 1);
        // the masked items in the tile: a merge of the two ascending rows, each item once
        int64_t t = first_at_least(TI, TP[b], TP[b + 1], offset), te = first_at_least(TI, t, TP[b + 1], offset + n);
        int64_t r = first_at_least(RI, RP[b], RP[b + 1], offset), re = first_at_least(RI, r, RP[b + 1], offset + n);
        while (t < te || r < re) {
          const int64_t v = r == re || (t < te && TI[t] <= RI[r]) ? TI[t] : RI[r];
          add(v - offset, -1);
          while (t < te && TI[t] == v) ++t;
          while (r < re && RI[r] == v) ++r;
        }
        int64_t above = 0;
        for (int64_t j = W - 1; j >= 0; --j) ob[j] += (above += hist[j + 1]);
      }
    });
  });
  return out;
}

}  // namespace

TORCH_LIBRARY_IMPL(torchauc, CPU, m) {
  m.impl("cml_rank_counts", &cml_rank_counts_cpu);
  m.impl("cml_triplet_loss", &cml_triplet_loss_cpu);
  m.impl("cml_triplet_backward", &cml_triplet_backward_cpu);
  m.impl("cml_sample_negatives", &cml_sample_negatives_cpu);
  m.impl("cml_gather_dots", &cml_gather_dots_cpu);
  m.impl("cml_gather_dots_backward", &cml_gather_dots_backward_cpu);
}

}  // namespace torchauc::cml
