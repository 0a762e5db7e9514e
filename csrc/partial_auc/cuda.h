// Launchers of the CUDA partial-AUC exp row/column kernels (raw pointers only: shared by the
// nvcc-compiled .cu and the torch-facing glue). T is float or double (the compute type).
#pragma once
#include <cuda_runtime.h>

#include <cstdint>

#include "partial_auc/math.h"

namespace torchauc::partial_auc {
namespace cuda {

// For each positive r < np (key k[r] = margin - x, shift c[r]) over the negatives z[zoff[pseg[r]],
// zoff[pseg[r] + 1]) of its own problem (all of z[0, nn) when pseg is null; zoff then unused):
// out0[pidx[r]] = sum_j e_rj, out1[...] = sum_j e_rj l'_rj, out2[...] = sum_j e_rj l_rj, with
// e = exp(l / lambda - c). surrogate: 0 squared_hinge, 1 hinge. Outputs are float64.
template <typename T>
void launch_exp_rows(int surrogate, const T* k, const T* c, const int64_t* pidx, const int64_t* pseg, int64_t np,
                     const T* z, const int64_t* zoff, int64_t nn, T inv_lambda, double* out0, double* out1,
                     double* out2, cudaStream_t stream);

// For each negative q < nn: out[nidx[q]] = sum_r alpha[r] e_rq l'_rq over the positives
// r in [koff[nseg[q]], koff[nseg[q] + 1]) of its own problem (all of [0, np) when nseg is null).
template <typename T>
void launch_exp_cols(int surrogate, const T* k, const T* c, const T* alpha, const int64_t* koff, int64_t np, const T* z,
                     const int64_t* nidx, const int64_t* nseg, int64_t nn, T inv_lambda, double* out,
                     cudaStream_t stream);

// partial_auc_select: out (3 int64, device) = [k+, k-, n-], the kept counts of kept_count from n+
// (device) and the fractions 1 - min_tpr, max_fpr, so the selection needs no host round trip.
void launch_kept_counts(const int64_t* n_pos, int64_t n, double pos_fraction, double neg_fraction, int rounding,
                        int64_t* out, cudaStream_t stream);

// What the UPAUCI coefficients depend on, with n+ on the device (the label pass's count): every
// kernel derives them itself (upauci_coef), so no host round trip reads n+.
struct UpauciSizes {
  const int64_t* n_pos;  // device
  int64_t n;
  double alpha, beta, omega;
  bool two_way;
  TAUC_HD UpauciCoef coef() const { return upauci_coef(*n_pos, n - *n_pos, alpha, beta, omega, two_way); }
};

// partial_auc_upauci: blocks of the first pass (the workspace holds upauci_blocks(n) * kUpauciSums
// doubles); gs / gc (d L / d scores, d L / d weights) may be null; out = [loss, d L / d params (7)].
int64_t upauci_blocks(int64_t n);
template <typename T>
void launch_upauci(const UpauciSizes& z, const double* params, const T* s, const int8_t* y, const T* c, int64_t n,
                   T* gs, T* gc, double* workspace, double* out, cudaStream_t stream);

}  // namespace cuda
}  // namespace torchauc::partial_auc
