// CUDA kernels of the partial-AUC exp row/column sums: one block per row (or column), a strided
// loop over the other class (or over its segment of the same problem when several problems share
// the launch), a shared-memory tree reduction in double. Deterministic, no atomics.
#include "core/launch.cuh"
#include "partial_auc/cuda.h"
#include "partial_auc/math.h"

namespace torchauc::partial_auc {
namespace cuda {
namespace {

// The other class's range [b, e) of one row or column: everything, or its own problem's segment.
struct Segment {
  int64_t b, e;
};
__device__ inline Segment segment_of(const int64_t* seg, const int64_t* off, int64_t r, int64_t n_other) {
  if (seg == nullptr) return {0, n_other};
  return {off[seg[r]], off[seg[r] + 1]};
}

template <Surrogate S, typename T>
__global__ void rows_kernel(const T* k, const T* c, const int64_t* pidx, const int64_t* pseg, int64_t np, const T* z,
                            const int64_t* zoff, int64_t nn, T il, double* out0, double* out1, double* out2) {
  __shared__ Doubles<3> sh[kThreads];
  for (int64_t r = blockIdx.x; r < np; r += gridDim.x) {
    Doubles<3> acc = {{0.0, 0.0, 0.0}};
    const T kr = k[r], cr = c[r];
    const Segment js = segment_of(pseg, zoff, r, nn);
    for (int64_t j = js.b + threadIdx.x; j < js.e; j += blockDim.x) {
      T l, dl;
      pauc_surrogate<S, T>(kr + z[j], &l, &dl);
      const T e = exp(l * il - cr);
      acc.v[0] += static_cast<double>(e);
      acc.v[1] += static_cast<double>(e * dl);
      acc.v[2] += static_cast<double>(e * l);
    }
    acc = block_reduce(acc, SumOp{}, sh);
    if (threadIdx.x == 0) {
      out0[pidx[r]] = acc.v[0];
      out1[pidx[r]] = acc.v[1];
      out2[pidx[r]] = acc.v[2];
    }
  }
}

template <Surrogate S, typename T>
__global__ void cols_kernel(const T* k, const T* c, const T* alpha, const int64_t* koff, int64_t np, const T* z,
                            const int64_t* nidx, const int64_t* nseg, int64_t nn, T il, double* out) {
  __shared__ double sh[kThreads];
  for (int64_t q = blockIdx.x; q < nn; q += gridDim.x) {
    double acc = 0.0;
    const T zq = z[q];
    const Segment rs = segment_of(nseg, koff, q, np);
    for (int64_t r = rs.b + threadIdx.x; r < rs.e; r += blockDim.x) {
      T l, dl;
      pauc_surrogate<S, T>(k[r] + zq, &l, &dl);
      acc += static_cast<double>(alpha[r] * exp(l * il - c[r]) * dl);
    }
    acc = block_reduce(acc, SumOp{}, sh);
    if (threadIdx.x == 0) out[nidx[q]] = acc;
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
void launch_exp_rows(int surrogate, const T* k, const T* c, const int64_t* pidx, const int64_t* pseg, int64_t np,
                     const T* z, const int64_t* zoff, int64_t nn, T il, double* out0, double* out1, double* out2,
                     cudaStream_t stream) {
  if (np == 0) return;
  if (surrogate == 0)
    rows_kernel<Surrogate::SquaredHinge, T>
        <<<grid_for(np, 1), kThreads, 0, stream>>>(k, c, pidx, pseg, np, z, zoff, nn, il, out0, out1, out2);
  else
    rows_kernel<Surrogate::Hinge, T>
        <<<grid_for(np, 1), kThreads, 0, stream>>>(k, c, pidx, pseg, np, z, zoff, nn, il, out0, out1, out2);
}

template <typename T>
void launch_exp_cols(int surrogate, const T* k, const T* c, const T* alpha, const int64_t* koff, int64_t np, const T* z,
                     const int64_t* nidx, const int64_t* nseg, int64_t nn, T il, double* out, cudaStream_t stream) {
  if (nn == 0) return;
  if (surrogate == 0)
    cols_kernel<Surrogate::SquaredHinge, T>
        <<<grid_for(nn, 1), kThreads, 0, stream>>>(k, c, alpha, koff, np, z, nidx, nseg, nn, il, out);
  else
    cols_kernel<Surrogate::Hinge, T>
        <<<grid_for(nn, 1), kThreads, 0, stream>>>(k, c, alpha, koff, np, z, nidx, nseg, nn, il, out);
}

#define TAUC_INSTANTIATE(T)                                                                                         \
  template void launch_exp_rows<T>(int, const T*, const T*, const int64_t*, const int64_t*, int64_t, const T*,      \
                                   const int64_t*, int64_t, T, double*, double*, double*, cudaStream_t);            \
  template void launch_exp_cols<T>(int, const T*, const T*, const T*, const int64_t*, int64_t, const T*,            \
                                   const int64_t*, const int64_t*, int64_t, T, double*, cudaStream_t);              \
  template void launch_upauci<T>(const UpauciSizes&, const double*, const T*, const int8_t*, const T*, int64_t, T*, \
                                 T*, double*, double*, cudaStream_t);
TAUC_INSTANTIATE(float)
TAUC_INSTANTIATE(double)
#undef TAUC_INSTANTIATE

}  // namespace cuda
}  // namespace torchauc::partial_auc
