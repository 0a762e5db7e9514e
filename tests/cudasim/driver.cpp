// Kernel driver of the CUDA simulation harness (csrc/cudasim), built without torch under
// AddressSanitizer + UBSan and under ThreadSanitizer (cudasim.cmake): calls every launcher of
// csrc/*/cuda.h on small random inputs in exact-size heap buffers, under the forward, reverse and
// random schedules, and checks that the results do not depend on the schedule (bit for bit, or to
// rounding where float atomics reorder sums) and, where a brute force is cheap, that they are right.
// The sanitizers add out-of-bounds accesses (heap, stack, shared memory), undefined behaviour and
// data races between CUDA threads (TSan names them "cuda block (b) thread (t)"). Exit status 1 on
// any mismatch; the sanitizers abort on their findings.
#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <functional>
#include <memory>
#include <random>
#include <string>
#include <vector>

#include "adauc/cuda.h"
#include "aucm/cuda.h"
#include "auroc/cuda.h"
#include "cml/cuda.h"
#include "memory_bank/cuda.h"
#include "memory_bank/math.h"
#include "multiclass/cuda.h"
#include "pairwise/cuda.h"
#include "partial_auc/cuda.h"
#include "sod/cuda.h"

namespace cudasim_selftest {
std::string run(const std::string& name);
}

using namespace torchauc;
using V = std::vector<double>;

namespace {

int failures = 0;
std::mt19937_64 rng(12345);

double uniform() { return std::uniform_real_distribution<double>(0.0, 1.0)(rng); }
V random_scores(int64_t n) {  // half of them on a grid of 9 values: ties
  V s(n);
  for (auto& v : s) v = uniform() < 0.5 ? std::round(uniform() * 8 - 4) / 4 : std::normal_distribution<double>()(rng);
  return s;
}
std::vector<int8_t> random_labels(int64_t n, double p) {
  std::vector<int8_t> y(n);
  for (auto& v : y) v = uniform() < p;
  return y;
}

void check(bool ok, const std::string& what) {
  if (!ok) {
    std::printf("FAIL %s\n", what.c_str());
    ++failures;
  }
}

bool close(const V& a, const V& b, double rtol) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i) {
    if (std::isnan(a[i]) != std::isnan(b[i])) return false;
    if (!std::isnan(a[i]) && std::fabs(a[i] - b[i]) > rtol * (1.0 + std::fabs(b[i]))) return false;
  }
  return true;
}

// Runs f under the three schedules; its results must agree (exactly unless rtol > 0).
void schedules(const std::string& name, const std::function<V()>& f, double rtol = 0.0) {
  cudasim::configure(cudasim::Schedule::Forward, 0);
  const V ref = f();
  for (auto s : {cudasim::Schedule::Reverse, cudasim::Schedule::Random}) {
    cudasim::configure(s, 7);
    const V got = f();
    check(rtol > 0 ? close(got, ref, rtol) : std::memcmp(got.data(), ref.data(), ref.size() * sizeof(double)) == 0,
          name + ": result depends on the schedule");
  }
  check(cudaGetLastError() == cudaSuccess, name + ": launch error " + cudasim::last_error_detail());
  cudasim::configure(cudasim::Schedule::Forward, 0);
}

struct MallocScratch final : auroc::cuda::ScratchAllocator {
  std::vector<void*> bufs;
  void* allocate(size_t bytes) override { return bufs.emplace_back(std::malloc(bytes)); }
  void release_all() override {
    for (void* p : bufs) std::free(p);
    bufs.clear();
  }
  ~MallocScratch() override { release_all(); }
};

template <typename T>
V pairwise_moments(int surrogate, int64_t n, bool weighted) {
  const V s64 = random_scores(n), w64 = V(n, 0.5);
  const std::vector<T> s(s64.begin(), s64.end()), a(w64.begin(), w64.end());
  const auto y = random_labels(n, 0.3);
  pairwise::cuda::PairwiseInputs<T> in{s.data(), y.data(), weighted ? a.data() : nullptr, nullptr, n, 1.0};
  std::vector<double> scalars(16, 0.0), partials(pairwise::cuda::pairwise_partials_size(n));
  std::vector<T> loss(1), gs(n), ga(n);
  pairwise::cuda::PairwiseOutputs<T> out{loss.data(), gs.data(), weighted ? ga.data() : nullptr, nullptr};
  const bool no_nan = false;
  pairwise::cuda::launch_pairwise_moments<T>(surrogate, 0, &no_nan, in,
                                             reinterpret_cast<pairwise::cuda::PairwiseScalars*>(scalars.data()),
                                             partials.data(), out, nullptr);
  if (surrogate == 0 && !weighted) {  // brute-force mean squared loss over pairs
    double sum = 0, pairs = 0;
    for (int64_t i = 0; i < n; ++i)
      for (int64_t j = 0; j < n; ++j)
        if (y[i] && !y[j]) {
          const double d = 1.0 - (double(s[i]) - double(s[j]));
          sum += d * d;
          pairs += 1;
        }
    const double want = pairs > 0 ? sum / pairs : 0.0;
    check(std::fabs(double(loss[0]) - want) <= 1e-4 * (1 + want), "pairwise square loss vs brute force");
  }
  V r(gs.begin(), gs.end());
  r.push_back(loss[0]);
  return r;
}

V pairwise_hinge_and_tiled(int64_t n) {
  const V s = random_scores(n);
  const auto y = random_labels(n, 0.4);
  V pk, nk;  // positives: u = m - x, negatives: z; sorted ascending, suffix moments (w, w k, w k^2)
  for (int64_t i = 0; i < n; ++i) (y[i] ? pk : nk).push_back(y[i] ? 1.0 - s[i] : s[i]);
  std::sort(pk.begin(), pk.end());
  std::sort(nk.begin(), nk.end());
  auto suffix = [](const V& k) {
    V m(3 * (k.size() + 1), 0.0);
    for (int64_t r = int64_t(k.size()) - 1; r >= 0; --r)
      for (int q = 0; q < 3; ++q) m[3 * r + q] = m[3 * (r + 1) + q] + std::pow(k[r], q);
    return m;
  };
  const V ps = suffix(pk), ns = suffix(nk);
  V dx(n), dw(n);
  pairwise::cuda::launch_hinge_query(2, s.data(), y.data(), nullptr, nullptr, n, 1.0, pk.data(), ps.data(),
                                     int64_t(pk.size()), nk.data(), ns.data(), int64_t(nk.size()), nullptr, dx.data(), dw.data(),
                                     nullptr);
  // both sides in one array, negatives first, each in sample order
  std::vector<float> key, w;
  std::vector<int64_t> idx;
  for (int side : {0, 1})
    for (int64_t i = 0; i < n; ++i)
      if (y[i] == side) {
        key.push_back(float(side ? -s[i] : s[i]));
        w.push_back(1.0f);
        idx.push_back(i);
      }
  const int64_t n_pos = int64_t(pk.size());
  V tx(n), tw(n);
  for (int sur : {4, 5})
    for (bool own_pos : {true, false})
      pairwise::cuda::launch_tiled_side<float>(sur, own_pos, key.data(), w.data(), idx.data(), n, &n_pos,
                                               own_pos ? -1.0 : 1.0, tx.data(), tw.data(), nullptr);
  std::vector<double> scalars(16, 0.0);
  scalars[8] = 1.0, scalars[9] = double(pk.size()), scalars[10] = double(nk.size());  // S, A, B
  std::vector<float> loss(1), gs(n);
  const bool no_nan = false;
  pairwise::cuda::launch_pairwise_finish<float>(0, &no_nan, y.data(), n, tx.data(), tw.data(),
                                                reinterpret_cast<pairwise::cuda::PairwiseScalars*>(scalars.data()),
                                                {loss.data(), gs.data(), nullptr, nullptr}, nullptr);
  V r = dx;
  r.insert(r.end(), dw.begin(), dw.end());
  r.insert(r.end(), gs.begin(), gs.end());
  return r;
}

// The exp ops on `cols` problems of n samples: compaction (from host-made prefix counts and
// offsets), row sums and column sums, in exact-size buffers of cols * n.
V partial_exp(int sur, int64_t cols, int64_t n) {
  const int64_t total = cols * n;
  const V s = random_scores(total);
  const std::vector<int8_t> y = random_labels(total, 0.4);
  V scale(total), zmax(cols, -INFINITY);
  for (auto& v : scale) v = 0.1 + uniform();
  std::vector<int64_t> scan(total), koff(cols + 1, 0), zoff(cols + 1, 0);
  for (int64_t i = 0, acc = 0; i < total; ++i) {
    scan[i] = acc += y[i];
    ++(y[i] ? koff : zoff)[i / n + 1];
    if (!y[i]) zmax[i / n] = std::max(zmax[i / n], s[i]);
  }
  for (int64_t p = 0; p < cols; ++p) koff[p + 1] += koff[p], zoff[p + 1] += zoff[p];
  std::unique_ptr<bool[]> nan(new bool[cols]());
  V k(total), c(total), z(total), alpha(total), sh(total), o0(total), o1(total), o2(total), col(total);
  std::vector<int64_t> pidx(total), nidx(total);
  const partial_auc::cuda::ExpClasses<double> e{
      k.data(),  c.data(), z.data(), alpha.data(), pidx.data(), nidx.data(), koff.data(), zoff.data(),
      nan.get(), cols,     n};
  partial_auc::cuda::launch_exp_compact<double>(e, sur, s.data(), y.data(), scan.data(), zmax.data(), scale.data(), 1.0,
                                                0.5, nullptr);
  partial_auc::cuda::launch_exp_rows<double>(e, sur, 0.5, sh.data(), o0.data(), o1.data(), o2.data(), nullptr);
  partial_auc::cuda::launch_exp_cols<double>(e, sur, 0.5, col.data(), nullptr);
  V r = sh;
  for (const V* v : {&o0, &o1, &o2, &col}) r.insert(r.end(), v->begin(), v->end());
  return r;
}

V run_multiclass(int surrogate, int64_t B, int64_t C, int64_t S) {
  const int64_t Ns = B * S;
  const V x64 = random_scores(B * C * S);
  const std::vector<float> x(x64.begin(), x64.end());
  std::vector<int32_t> y(Ns);
  V counts(C, 0.0), r(Ns);
  for (int64_t i = 0; i < Ns; ++i) {
    y[i] = uniform() < 0.1 ? -1 : int32_t(uniform() * C);
    if (y[i] >= 0) counts[y[i]] += 1;
  }
  const bool ex = surrogate == 1;
  for (int64_t i = 0; i < Ns; ++i) r[i] = y[i] < 0 ? 0.0 : (ex ? std::log(1.0 / counts[y[i]]) : 1.0 / counts[y[i]]);
  const int64_t G = multiclass::cuda::mc_stats_parts(Ns, C, S);
  V part(G * 4 * C), stats(4 * C), coef(4 * C), lcol(C), loss(1);
  multiclass::cuda::mc_stats_launch(Dtype::F32, x.data(), y.data(), r.data(), B, C, S, G, 1, ex, 1.0, part.data(),
                                    stats.data(), nullptr);
  multiclass::cuda::mc_epilogue_launch(surrogate, 0, 0, C, counts.data(), stats.data(), 1.0, coef.data(), lcol.data(),
                                       loss.data(), nullptr);
  std::vector<float> g(B * C * S);
  multiclass::cuda::mc_grad_launch(Dtype::F32, x.data(), y.data(), r.data(), coef.data(), B, C, S, 1, ex, 1.0, g.data(),
                                   nullptr);
  V out(g.begin(), g.end());
  out.push_back(loss[0]);
  return out;
}

V auroc_binary(int64_t n, int64_t K, bool deterministic, bool weighted) {
  const V s = random_scores(n * K), w = random_scores(n);
  V wabs(n);
  for (int64_t i = 0; i < n; ++i) wabs[i] = std::fabs(w[i]) + 0.1;
  const auto y = random_labels(n * K, 0.4);
  V U(K * 2, 0.0), W(K * 2, 0.0);
  MallocScratch scratch;
  auroc::cuda::RankTableArgs a{s.data(), Dtype::F64, n, K, 1, 2, y.data(), nullptr, weighted ? wabs.data() : nullptr,
                               U.data(), W.data(), deterministic};
  check(auroc::cuda::auroc_rank_table(a, scratch, nullptr) == cudaSuccess, "auroc_rank_table");
  if (!weighted) {  // Mann-Whitney by brute force, column 0
    double u = 0;
    for (int64_t p = 0; p < n; ++p)
      for (int64_t q = 0; q < n; ++q)
        if (y[p * K] == 1 && y[q * K] == 0) u += s[p * K] > s[q * K] ? 1.0 : (s[p * K] == s[q * K] ? 0.5 : 0.0);
    check(std::fabs(U[0] - u) <= 1e-9 * (1 + u), "auroc U vs brute force");
  }
  V area(1), totals(2);
  check(auroc::cuda::auroc_partial_area(s.data(), Dtype::F64, n, y.data(), nullptr, 0.3, area.data(), totals.data(),
                                        scratch, nullptr) == cudaSuccess,
        "auroc_partial_area");
  V r = U;
  r.insert(r.end(), W.begin(), W.end());
  r.insert(r.end(), area.begin(), area.end());
  return r;
}

V auroc_multiclass(int64_t B, int64_t C, int64_t M, bool deterministic) {
  const V s64 = random_scores(B * C * M);
  const std::vector<float> s(s64.begin(), s64.end());
  std::vector<int32_t> cls(B * M);
  for (auto& c : cls) c = uniform() < 0.1 ? -1 : int32_t(uniform() * C);
  V U(C * C, 0.0), W(C * C, 0.0);
  MallocScratch scratch;
  auroc::cuda::RankTableArgs a{s.data(), Dtype::F32, B * M, C, M, C, nullptr, cls.data(), nullptr,
                               U.data(), W.data(), deterministic};
  check(auroc::cuda::auroc_rank_table(a, scratch, nullptr) == cudaSuccess, "auroc_rank_table multiclass");
  U.insert(U.end(), W.begin(), W.end());
  return U;
}

V run_memory_bank(int64_t B, int64_t H, int64_t W) {
  std::vector<int16_t> lab(B * H * W);
  for (auto& l : lab) l = int16_t(uniform() < 0.05 ? 9 : uniform() * 4);
  std::vector<int64_t> stats(B * 5 * 5), invalid(B, 0);
  for (int64_t r = 0; r < B * 5; ++r) {
    int64_t* e = &stats[r * 5];
    e[0] = 0, e[1] = H, e[2] = -1, e[3] = W, e[4] = -1;
  }
  memory_bank::cuda::launch_class_bbox(Dtype::I16, lab.data(), B, H, W, 5, 7, stats.data(), invalid.data(), nullptr);
  std::vector<float> img(B * 3 * H * W);
  for (auto& v : img) v = float(uniform());
  const int64_t P = 64;
  std::vector<float> pool(P * 3, 0.0f);
  std::vector<uint8_t> mask_bytes(P, 0);
  bool* mask = reinterpret_cast<bool*>(mask_bytes.data());
  const std::vector<int64_t> greq = {0, 1, 0, 0, 2, 3, 0, B - 1, 2, H - 3, W - 4, 3, 4, 10};
  memory_bank::cuda::launch_gather(Dtype::F32, Dtype::I16, img.data(), lab.data(), B, 3, H, W, greq.data(), 2,
                                   pool.data(), mask, P, nullptr);
  std::vector<int64_t> preq = {0, 3, -1, 2, 5, 7, 4, 5, 1, 1, 3, 4, 10, B - 1, 2, H - 4, W - 3, 9, 6, 3, 4, 0, 0, 2, 3, 0};
  std::vector<int64_t> starts(B + 1);
  for (int64_t b = 0; b <= B; ++b) starts[b] = b == 0 ? 0 : (b <= B - 1 ? 1 : 2);
  memory_bank::cuda::launch_paste(Dtype::F32, Dtype::I16, img.data(), lab.data(), B, 3, H, W, pool.data(), mask, P,
                                  preq.data(), starts.data(), nullptr);
  V r(stats.begin(), stats.end());
  r.insert(r.end(), invalid.begin(), invalid.end());
  r.insert(r.end(), img.begin(), img.end());
  r.insert(r.end(), lab.begin(), lab.end());
  return r;
}

// CML: indexed triplet forward + gradient rows, the sampler, the evaluation tile counts.
V run_cml(int64_t B, int64_t K, int64_t J, int64_t d) {
  const int64_t M = 5, N = 11;
  std::vector<float> users(M * K * d), items(N * d);
  for (auto& v : users) v = float(std::round(uniform() * 4 - 2) / 2);
  for (auto& v : items) v = float(std::round(uniform() * 4 - 2) / 2);
  std::vector<int64_t> ui(B), pi(B), ni(B * J), argmin(B * 3);
  for (auto& v : ui) v = int64_t(uniform() * M);
  for (auto& v : pi) v = int64_t(uniform() * N);
  for (auto& v : ni) v = int64_t(uniform() * N);
  const cml::TripletRows<float> rows{
      users.data(), items.data(), items.data(), ui.data(), pi.data(), ni.data(), B, K, J, d};
  V dist(B * K * (1 + J)), hinge(B);
  std::vector<float> loss(1), grad{1.5f}, ga(B * d), gb(B * d);
  cml::cuda::launch_triplet_forward<float>(rows, M, N, N, 1.0, false, dist.data(), hinge.data(), argmin.data(),
                                           loss.data(), nullptr);
  cml::cuda::launch_triplet_grad_rows<float>(rows, grad.data(), true, argmin.data(), ga.data(), gb.data(), nullptr);
  // sampler: row u of a CSR with u + 1 items {0, 2, 4, ...}
  std::vector<int64_t> start(M), len(M), idx, out(B * 4);
  for (int64_t u = 0; u < M; ++u) {
    start[u] = int64_t(idx.size()), len[u] = u + 1;
    for (int64_t k = 0; k <= u; ++k) idx.push_back(2 * k);
  }
  cml::cuda::launch_sample_negatives(idx.data(), start.data(), len.data(), M, 4, N, 7, out.data(), nullptr);
  for (int64_t t = 0; t < M * 4; ++t) check(out[t] % 2 == 1 || out[t] > 2 * (t / 4), "cml sampler drew a positive");
  // evaluation tile: B users x N items, W = 3 test slots
  const int64_t W = 3;
  std::vector<double> scores(B * N), q(B * W);
  for (auto& v : scores) v = std::round(uniform() * 8 - 4) / 4;
  std::vector<int64_t> qi(B * W), tp(B + 1), ti, hist(B * (W + 1), 0), cnt(B * W, 0);
  for (int64_t b = 0; b < B; ++b) {
    tp[b] = b * W;
    for (int64_t j = 0; j < W; ++j)
      ti.push_back(3 * j + b % 3), q[b * W + j] = 0.25 * j - 0.25, qi[b * W + j] = 3 * j + b % 3;
  }
  tp[B] = B * W;
  cml::cuda::launch_rank_counts<double>(scores.data(), B, N, 0, q.data(), qi.data(), W, tp.data(), ti.data(), nullptr,
                                        nullptr, hist.data(), cnt.data(), nullptr);
  V r(loss.begin(), loss.end());
  r.insert(r.end(), argmin.begin(), argmin.end());
  r.insert(r.end(), ga.begin(), ga.end());
  r.insert(r.end(), gb.begin(), gb.end());
  r.insert(r.end(), out.begin(), out.end());
  r.insert(r.end(), cnt.begin(), cnt.end());
  return r;
}

// SOD loss and metric statistics (the union-find components kernels are left to the differential
// suite: their benign races on parent pointers are by design).
V run_sod(int64_t B, int64_t C, int64_t H, int64_t W) {
  const int64_t K = 3, T = 9;
  std::vector<double> pred(B * C * H * W), target(B * H * W), grad(pred.size()), thr(T);
  for (auto& v : pred) v = uniform();
  for (auto& v : target) v = uniform() < 0.4;
  for (int64_t i = 0; i < T; ++i) thr[i] = double(i) / double(T - 1);
  std::vector<int64_t> boxes = {0, 0, W, H, 1, 2, 5, 7, 3, 1, W - 1, 4, 2, 2, 4, 4, 0, 0, 0, 0, 0, 0, 0, 0};
  std::vector<int64_t> counts = {3, 1};
  std::vector<double> sums(B * (K + 1) * C * 4, 0.0), stat_sums(B * (K + 2) * 3);
  std::vector<int64_t> hist(B * (K + 2) * 2 * (T + 1) * 2);
  double loss = 0;
  sod::cuda::launch_si_loss(Dtype::F64, pred.data(), target.data(), boxes.data(), counts.data(), B, C, H, W, K, 3,
                            sums.data(), &loss, grad.data(), nullptr);
  sod::cuda::launch_frame_stats(Dtype::F64, pred.data(), pred.data(), target.data(), boxes.data(), counts.data(),
                                thr.data(), B, H, W, K, T, true, hist.data(), stat_sums.data(), nullptr);
  V r(grad);
  r.push_back(loss);
  r.insert(r.end(), hist.begin(), hist.end());
  r.insert(r.end(), stat_sums.begin(), stat_sums.end());
  return r;
}

V run_adauc_loss(int64_t n) {
  const V s = random_scores(n);
  const std::vector<int8_t> y = random_labels(n, 0.3);
  const V params = {0.2, 0.3, -0.1};
  V partials(adauc::cuda::adauc_partials_size(n)), out(4), g(n);
  adauc::cuda::launch_adauc_loss(Dtype::F64, s.data(), y.data(), n, params.data(), -1.0, 1.0, 0, partials.data(),
                                 out.data(), g.data(), nullptr);
  double np = 0, sq = 0, lin = 0;  // brute force of the canonical form with p = batch rate
  for (int64_t i = 0; i < n; ++i) np += y[i];
  const double p = np / n;
  for (int64_t i = 0; i < n; ++i) {
    sq += y[i] ? (1 - p) * (s[i] - 0.2) * (s[i] - 0.2) : p * (s[i] - 0.3) * (s[i] - 0.3);
    lin += y[i] ? -(1 - p) * s[i] : p * s[i];
  }
  const double want = (sq + 2 * (1 - 0.1) * lin) / n - p * (1 - p) * 0.01;
  check(std::fabs(out[0] - want) <= 1e-12 * (1 + std::fabs(want)), "adauc loss vs brute force");
  out.insert(out.end(), g.begin(), g.end());
  return out;
}

// The AUC-M loss over a (rows, cols) batch, v1 with the batch prior, weights 1/cols: the loss against
// the brute force, the moments launcher against the loss's own partials.
V run_aucm_loss(int64_t rows, int64_t cols) {
  const V s = random_scores(rows * cols);
  V y(rows * cols);
  for (auto& v : y) v = uniform() < 0.3 ? 1.0 : (uniform() < 0.9 ? 0.0 : 2.0);  // 2: on neither side
  V params(5 * cols);
  for (int64_t c = 0; c < cols; ++c) {
    params[c] = 0.2;
    params[cols + c] = 0.3;
    params[2 * cols + c] = -0.1 * c;
    params[4 * cols + c] = 1.0 / cols;
  }
  V work(aucm::cuda::aucm_work_size(rows, cols)), out(1 + 3 * cols), g(rows * cols), m(6 * cols + 1);
  aucm::cuda::launch_aucm_loss(Dtype::F64, false, s.data(), y.data(), rows, cols, params.data(), nullptr, 1.0, false,
                               true, work.data(), out.data(), g.data(), nullptr);
  aucm::cuda::launch_aucm_moments(Dtype::F64, false, s.data(), y.data(), rows, cols, work.data(), m.data(), nullptr);
  double want = 0;
  for (int64_t c = 0; c < cols; ++c) {
    double np = 0, sq = 0, lin = 0;
    for (int64_t r = 0; r < rows; ++r) np += y[r * cols + c] == 1.0;
    const double p = np / rows, alpha = -0.1 * c;
    for (int64_t r = 0; r < rows; ++r) {
      const double h = s[r * cols + c], yv = y[r * cols + c];
      if (yv == 1.0) sq += (1 - p) * (h - 0.2) * (h - 0.2), lin -= (1 - p) * h;
      if (yv == 0.0) sq += p * (h - 0.3) * (h - 0.3), lin += p * h;
    }
    want += ((sq + 2 * alpha * lin) / rows + 2 * alpha * p * (1 - p) - p * (1 - p) * alpha * alpha) / cols;
  }
  check(std::fabs(out[0] - want) <= 1e-12 * (1 + std::fabs(want)), "aucm loss vs brute force");
  check(m[6 * cols] == rows, "aucm moments: n");
  out.insert(out.end(), g.begin(), g.end());
  out.insert(out.end(), m.begin(), m.end());
  return out;
}

V run_pgd_step(int norm, int64_t rows, int64_t cols) {
  std::vector<float> x(rows * cols), d(rows * cols), g(rows * cols), o(rows * cols);
  for (int64_t i = 0; i < rows * cols; ++i) {
    x[i] = float(uniform());
    d[i] = float(uniform() - 0.5) * 0.1f;
    g[i] = float(random_scores(1)[0]);
  }
  adauc::cuda::launch_pgd_step(Dtype::F32, norm, x.data(), d.data(), g.data(), o.data(), rows, cols, 0.05, 0.01, 0.0,
                               1.0, nullptr);
  return V(o.begin(), o.end());
}

}  // namespace

// `driver --selftest NAME` runs one of tests/cudasim/selftest.cu's broken kernels instead (under
// TSan, missing_barrier must be reported as a race between two named CUDA threads).
int main(int argc, char** argv) {
  if (argc == 3 && std::string(argv[1]) == "--selftest") {
    std::printf("%s\n", cudasim_selftest::run(argv[2]).c_str());
    return 0;
  }
  for (int64_t n : {1, 2, 257, 1000}) {
    const std::string N = " n=" + std::to_string(n);
    for (int sur : {0, 1}) {
      schedules("pairwise moments float" + N, [&] { rng.seed(n + sur); return pairwise_moments<float>(sur, n, sur == 1); });
      schedules("pairwise moments double" + N, [&] { rng.seed(n + sur); return pairwise_moments<double>(sur, n, true); });
      schedules("partial exp" + N, [&] { rng.seed(n); return partial_exp(sur, 3, n); });
    }
    schedules("pairwise hinge/tiled" + N, [&] { rng.seed(n); return pairwise_hinge_and_tiled(n); });
    for (bool det : {false, true}) {
      const double rtol = det ? 0.0 : 1e-12;  // float atomics: summation order varies
      schedules("auroc binary" + N, [&] { rng.seed(n); return auroc_binary(n, 3, det, det); }, rtol);
      schedules("auroc multiclass" + N, [&] { rng.seed(n); return auroc_multiclass(2, 6, (n + 1) / 2, det); }, rtol);
    }
  }
  for (int sur : {0, 1, 3})
    for (int64_t S : {1, 37}) schedules("multiclass", [&] { rng.seed(S); return run_multiclass(sur, 8, 5, S); });
  schedules("memory bank", [&] { rng.seed(3); return run_memory_bank(2, 17, 23); });
  schedules("cml", [&] { rng.seed(4); return run_cml(300, 3, 4, 5); });
  schedules("sod", [&] { rng.seed(4); return run_sod(2, 2, 9, 13); });
  for (int64_t n : {1, 257, 1000}) schedules("adauc loss", [&] { rng.seed(n); return run_adauc_loss(n); });
  for (const auto& rc : {std::pair<int64_t, int64_t>{1, 1}, {300, 1}, {257, 10}, {40, 70}})
    schedules("aucm loss", [&] { rng.seed(rc.first + rc.second); return run_aucm_loss(rc.first, rc.second); });
  for (int norm : {0, 1})
    for (int64_t cols : {1, 300}) schedules("pgd step", [&] { rng.seed(cols); return run_pgd_step(norm, 5, cols); });
  std::printf("cudasim driver: %s (%d failures)\n", failures ? "FAILED" : "ok", failures);
  return failures ? 1 : 0;
}
