// Launchers of the CUDA partial-AUC exp row/column kernels (raw pointers only: shared by the
// nvcc-compiled .cu and the torch-facing glue). T is float or double (the compute type).
#pragma once
#include <cuda_runtime.h>

#include <cstdint>

#include "partial_auc/math.h"

namespace torchauc::partial_auc {
namespace cuda {

// The two classes of partial_auc_exp_rows / exp_cols compacted on the device, in buffers of the
// C * n flat elements of the (C, n) problems, so that no size is read on the host: the positives
// fill [0, koff[C]) and the negatives [0, zoff[C]), each in flat index order, so that problem p's
// positives are [koff[p], koff[p + 1]) and its negatives [zoff[p], zoff[p + 1]).
template <typename T>
struct ExpClasses {
  T *k, *c, *z;                // positive keys margin - x and row shifts (math.h); negative scores
  T* alpha;                    // positive row scales (exp_cols; null for exp_rows)
  int64_t *pidx, *nidx;        // flat indices of the compacted positives / negatives
  const int64_t *koff, *zoff;  // (C + 1) offsets of each problem's segment
  const bool* nan;             // (C): a NaN score in the problem makes its statistics NaN, as on the CPU
  int64_t cols, n;
};

// Fills k, c, z, alpha, pidx, nidx from the float64 scores s (C * n), the 0/1 labels y, their
// inclusive prefix count pos_scan, each problem's largest negative zmax (C) and, for alpha, the
// float64 row scales (null for exp_rows). The shift c is the CPU's pauc_row_shift in double, 0 for
// a problem without negatives. surrogate: 0 squared_hinge, 1 hinge.
template <typename T>
void launch_exp_compact(const ExpClasses<T>& e, int surrogate, const double* s, const int8_t* y,
                        const int64_t* pos_scan, const double* zmax, const double* row_scale, double margin,
                        double inv_lambda, cudaStream_t stream);

// For each compacted positive r, over the negatives of its own problem (e = exp(l / lambda - c)):
// shift[pidx[r]] = c_r, out0[pidx[r]] = sum_j e_rj, out1[...] = sum_j e_rj l'_rj, out2[...] = sum_j e_rj l_rj.
// Outputs are float64 and untouched at negatives.
template <typename T>
void launch_exp_rows(const ExpClasses<T>& e, int surrogate, T inv_lambda, double* shift, double* out0, double* out1,
                     double* out2, cudaStream_t stream);

// For each compacted negative q: out[nidx[q]] = sum_r alpha_r e_rq l'_rq over the positives of its
// own problem; untouched at positives.
template <typename T>
void launch_exp_cols(const ExpClasses<T>& e, int surrogate, T inv_lambda, double* out, cudaStream_t stream);

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
