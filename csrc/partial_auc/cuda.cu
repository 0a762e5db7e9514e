// CUDA kernels of the partial-AUC exp row/column sums: a compaction of both classes by a prefix
// count (sizes stay on the device), then one block per row (or column), a strided loop over the
// other class's segment of the same problem, a shared-memory tree reduction in double.
// Deterministic, no atomics.
#include "core/launch.cuh"
#include "partial_auc/cuda.h"
#include "partial_auc/math.h"

namespace torchauc::partial_auc {
namespace cuda {
namespace {

// Compaction: every flat element goes to its class's slot, its rank within the class (from the
// prefix count of positives), so both classes stay in flat index order, grouped by problem.
template <typename T>
__global__ void compact_kernel(ExpClasses<T> e, Surrogate sur, const double* s, const int8_t* y,
                               const int64_t* pos_scan, const double* zmax, const double* row_scale, double margin,
                               double il) {
  const int64_t total = e.cols * e.n;
  for (int64_t i = blockIdx.x * static_cast<int64_t>(blockDim.x) + threadIdx.x; i < total;
       i += static_cast<int64_t>(gridDim.x) * blockDim.x) {
    if (y[i]) {
      const int64_t r = pos_scan[i] - 1, p = i / e.n;
      const bool has_neg = e.zoff[p + 1] > e.zoff[p];
      e.pidx[r] = i;
      e.k[r] = static_cast<T>(margin - s[i]);
      e.c[r] = has_neg ? static_cast<T>(pauc_row_shift<double>(sur, margin - s[i], zmax[p], il)) : T(0);
      if (e.alpha) e.alpha[r] = static_cast<T>(row_scale[i]);
    } else {
      const int64_t q = i - pos_scan[i];
      e.nidx[q] = i;
      e.z[q] = static_cast<T>(s[i]);
    }
  }
}

template <Surrogate S, typename T>
__global__ void rows_kernel(ExpClasses<T> e, T il, double* shift, double* out0, double* out1, double* out2) {
  __shared__ Doubles<3> sh[kThreads];
  const int64_t np = e.koff[e.cols];
  for (int64_t r = blockIdx.x; r < np; r += gridDim.x) {  // uniform per block: every thread reduces
    const int64_t o = e.pidx[r], p = o / e.n;
    Doubles<3> acc = {{0.0, 0.0, 0.0}};
    const T kr = e.k[r], cr = e.c[r];
    for (int64_t j = e.zoff[p] + threadIdx.x; j < e.zoff[p + 1]; j += blockDim.x) {
      T l, dl;
      pauc_surrogate<S, T>(kr + e.z[j], &l, &dl);
      const T w = exp(l * il - cr);
      acc.v[0] += static_cast<double>(w);
      acc.v[1] += static_cast<double>(w * dl);
      acc.v[2] += static_cast<double>(w * l);
    }
    acc = block_reduce(acc, SumOp{}, sh);
    if (threadIdx.x == 0) {
      const bool bad = e.nan[p];
      shift[o] = bad ? NAN : static_cast<double>(cr);
      out0[o] = bad ? NAN : acc.v[0];
      out1[o] = bad ? NAN : acc.v[1];
      out2[o] = bad ? NAN : acc.v[2];
    }
  }
}

template <Surrogate S, typename T>
__global__ void cols_kernel(ExpClasses<T> e, T il, double* out) {
  __shared__ double sh[kThreads];
  const int64_t nn = e.zoff[e.cols];
  for (int64_t q = blockIdx.x; q < nn; q += gridDim.x) {
    const int64_t o = e.nidx[q], p = o / e.n;
    double acc = 0.0;
    const T zq = e.z[q];
    for (int64_t r = e.koff[p] + threadIdx.x; r < e.koff[p + 1]; r += blockDim.x) {
      T l, dl;
      pauc_surrogate<S, T>(e.k[r] + zq, &l, &dl);
      acc += static_cast<double>(e.alpha[r] * exp(l * il - e.c[r]) * dl);
    }
    acc = block_reduce(acc, SumOp{}, sh);
    if (threadIdx.x == 0) out[o] = e.nan[p] ? NAN : acc;
  }
}

// UPAUCI first pass: per-sample gradients and one partial sum vector per block (grid-stride loop).
template <typename T>
__global__ void upauci_kernel(UpauciSizes z, const double* params, const T* s, const int8_t* y, const T* c, int64_t n,
                              T* gs, T* gc, double* part) {
  const UpauciCoef k = z.coef();
  __shared__ Doubles<kUpauciSums> sh[kThreads];
  __shared__ double p[kUpauciParams];
  if (threadIdx.x < kUpauciParams) p[threadIdx.x] = params[threadIdx.x];
  __syncthreads();
  Doubles<kUpauciSums> acc = {};
  for (int64_t i = blockIdx.x * static_cast<int64_t>(blockDim.x) + threadIdx.x; i < n;
       i += static_cast<int64_t>(gridDim.x) * blockDim.x) {
    T df, dc;
    upauci_sample<T>(k, p, s[i], y[i] != 0, c[i], acc.v, &df, &dc);
    if (gs) {
      gs[i] = df;
      gc[i] = dc;
    }
  }
  acc = block_reduce(acc, SumOp{}, sh);
  if (threadIdx.x == 0)
    for (int j = 0; j < kUpauciSums; ++j) part[blockIdx.x * kUpauciSums + j] = acc.v[j];
}

// One block: the block partials in a fixed order, then the epilogue (deterministic, no atomics).
__global__ void upauci_finish_kernel(UpauciSizes z, const double* params, const double* part, int64_t blocks,
                                     double* out) {
  const UpauciCoef k = z.coef();
  __shared__ Doubles<kUpauciSums> sh[kThreads];
  Doubles<kUpauciSums> acc = {};
  for (int64_t b = threadIdx.x; b < blocks; b += blockDim.x)
    for (int j = 0; j < kUpauciSums; ++j) acc.v[j] += part[b * kUpauciSums + j];
  acc = block_reduce(acc, SumOp{}, sh);
  if (threadIdx.x == 0) upauci_epilogue(k, acc.v, params, z.omega, out, out + 1);
}

// partial_auc_select: out = [k+, k-, n-] from n+ on the device (one thread).
__global__ void kept_counts_kernel(const int64_t* n_pos, int64_t n, double pos_fraction, double neg_fraction,
                                   int rounding, int64_t* out) {
  const int64_t np = *n_pos, nn = n - np;
  out[0] = kept_count(pos_fraction, np, static_cast<Rounding>(rounding));
  out[1] = kept_count(neg_fraction, nn, static_cast<Rounding>(rounding));
  out[2] = nn;
}

}  // namespace

int64_t upauci_blocks(int64_t n) { return grid_for(n); }

void launch_kept_counts(const int64_t* n_pos, int64_t n, double pos_fraction, double neg_fraction, int rounding,
                        int64_t* out, cudaStream_t stream) {
  kept_counts_kernel<<<1, 1, 0, stream>>>(n_pos, n, pos_fraction, neg_fraction, rounding, out);
}

template <typename T>
void launch_upauci(const UpauciSizes& z, const double* params, const T* s, const int8_t* y, const T* c, int64_t n,
                   T* gs, T* gc, double* workspace, double* out, cudaStream_t stream) {
  const unsigned blocks = grid_for(n);
  upauci_kernel<T><<<blocks, kThreads, 0, stream>>>(z, params, s, y, c, n, gs, gc, workspace);
  upauci_finish_kernel<<<1, kThreads, 0, stream>>>(z, params, workspace, blocks, out);
}

template <typename T>
void launch_exp_compact(const ExpClasses<T>& e, int surrogate, const double* s, const int8_t* y,
                        const int64_t* pos_scan, const double* zmax, const double* row_scale, double margin,
                        double inv_lambda, cudaStream_t stream) {
  const int64_t total = e.cols * e.n;
  if (total == 0) return;
  compact_kernel<T><<<grid_for(total), kThreads, 0, stream>>>(e, static_cast<Surrogate>(surrogate), s, y, pos_scan,
                                                              zmax, row_scale, margin, inv_lambda);
}

// One block per compacted row / column; the counts are on the device, so the grid covers all C * n
// elements and blocks past the class's count exit at once.
template <typename T>
void launch_exp_rows(const ExpClasses<T>& e, int surrogate, T inv_lambda, double* shift, double* out0, double* out1,
                     double* out2, cudaStream_t stream) {
  const int64_t total = e.cols * e.n;
  if (total == 0) return;
  if (surrogate == 0)
    rows_kernel<Surrogate::SquaredHinge, T>
        <<<grid_for(total, 1), kThreads, 0, stream>>>(e, inv_lambda, shift, out0, out1, out2);
  else
    rows_kernel<Surrogate::Hinge, T>
        <<<grid_for(total, 1), kThreads, 0, stream>>>(e, inv_lambda, shift, out0, out1, out2);
}

template <typename T>
void launch_exp_cols(const ExpClasses<T>& e, int surrogate, T inv_lambda, double* out, cudaStream_t stream) {
  const int64_t total = e.cols * e.n;
  if (total == 0) return;
  if (surrogate == 0)
    cols_kernel<Surrogate::SquaredHinge, T><<<grid_for(total, 1), kThreads, 0, stream>>>(e, inv_lambda, out);
  else
    cols_kernel<Surrogate::Hinge, T><<<grid_for(total, 1), kThreads, 0, stream>>>(e, inv_lambda, out);
}

#define TAUC_INSTANTIATE(T)                                                                                         \
  template void launch_exp_compact<T>(const ExpClasses<T>&, int, const double*, const int8_t*, const int64_t*,      \
                                      const double*, const double*, double, double, cudaStream_t);                  \
  template void launch_exp_rows<T>(const ExpClasses<T>&, int, T, double*, double*, double*, double*, cudaStream_t); \
  template void launch_exp_cols<T>(const ExpClasses<T>&, int, T, double*, cudaStream_t);                            \
  template void launch_upauci<T>(const UpauciSizes&, const double*, const T*, const int8_t*, const T*, int64_t, T*, \
                                 T*, double*, double*, cudaStream_t);
TAUC_INSTANTIATE(float)
TAUC_INSTANTIATE(double)
#undef TAUC_INSTANTIATE

}  // namespace cuda
}  // namespace torchauc::partial_auc
