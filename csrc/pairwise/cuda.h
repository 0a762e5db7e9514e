// Launchers of the CUDA pairwise AUC kernels (raw pointers only: this header is shared by the
// nvcc-compiled .cu and the torch-facing glue). T is float or double (the compute type).
#pragma once
#include <cuda_runtime.h>

#include <cstdint>

namespace torchauc::pairwise {
namespace cuda {

// Device scalars shared by the launches of one call (16 doubles, zero-initialised by the caller).
struct PairwiseScalars {
  double first[4];   // first-pass sums (square: A, sum a u, B, sum b z; exp: side maxima)
  double second[4];  // second-pass sums (square: centred moments; exp: shifted exp sums)
  double S, A, B;    // pair-weighted loss sum and side weight totals
  double prescaled_loss, prescaled;
  double unused[3];
};

// Inputs of one sample set. a/b may be null (weights of 1).
template <typename T>
struct PairwiseInputs {
  const T* s;
  const int8_t* y;
  const T* a;
  const T* b;
  int64_t n;
  double margin;
};

// Outputs: loss (1 element), gradients (null when not wanted). ga/gb are written at every index
// (0 at the samples of the other class).
template <typename T>
struct PairwiseOutputs {
  T* loss;
  T* grad_s;
  T* grad_a;
  T* grad_b;
  double scale = 1.0;  // multiplies the loss and the gradients
};

// square (surrogate 0) and exp (1): O(n) moment passes, then one fused gradient pass. has_nan: a
// device flag (any NaN score: NaN loss and gradients), read by the kernels, never by the host.
template <typename T>
void launch_pairwise_moments(int surrogate, int reduction, const bool* has_nan, const PairwiseInputs<T>& in,
                             PairwiseScalars* scalars, double* partials, const PairwiseOutputs<T>& out,
                             cudaStream_t stream);
// Number of doubles `partials` must hold for launch_pairwise_moments.
int64_t pairwise_partials_size(int64_t n);

// hinge / squared hinge: per-sample query of the opposite side, given each side's keys sorted
// ascending (positives: u = m - x, negatives: z) and suffix moments (len + 1 rows of 3 doubles).
// Writes dS/dscore and dS/dweight (double, length n). A side may be padded with zero-weight keys
// above every real one; class_size (device, may be null): the number of positives, and when it is
// 0 or n the launch writes nothing (a one-class batch), so the sizes need no host round trip.
void launch_hinge_query(int power, const double* s, const int8_t* y, const double* a, const double* b, int64_t n,
                        double margin, const double* pos_keys, const double* pos_suffix, int64_t n_pos,
                        const double* neg_keys, const double* neg_suffix, int64_t n_neg, const int64_t* class_size,
                        double* dS_dx, double* dS_dw, cudaStream_t stream);

// logistic (surrogate 4) / sigmoid (5): both sides in one array of n, negatives first ([0, n - *n_pos))
// then positives, each sample with its key, weight and index; *n_pos lives on the device, so the
// compaction needs no host round trip (the grid covers n, surplus blocks return). For every sample
// of the own side (the positives when own_pos), L = sum over the other side of w' l(k + k'),
// D = sum w' l'(k + k'); writes dS_dw[idx] = L and dS_dx[idx] = key_sign_margin * w * D. Launch once
// per side.
template <typename T>
void launch_tiled_side(int surrogate, bool own_pos, const T* key, const T* w, const int64_t* idx, int64_t n,
                       const int64_t* n_pos, double key_sign_margin, double* dS_dx, double* dS_dw, cudaStream_t stream);

// Reduced loss and gradients from per-sample dS arrays (hinge and tiled paths) and scalars->S, A, B.
template <typename T>
void launch_pairwise_finish(int reduction, const bool* has_nan, const int8_t* y, int64_t n, const double* dS_dx,
                            const double* dS_dw, const PairwiseScalars* scalars, const PairwiseOutputs<T>& out,
                            cudaStream_t stream);

}  // namespace cuda
}  // namespace torchauc::pairwise
