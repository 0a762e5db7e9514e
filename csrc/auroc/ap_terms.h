// The terms of unweighted average precision from the positives' and the negatives' keys sorted apart
// (CPU): the tie-group walk's sum_g ap_step(d_tp_g, TP_g, FP_g) only has non-zero terms at groups
// holding positives, and each such group's TP/FP are counts: the positives at or above its key and
// the negatives at or above it, found by a descending merge of the two runs. The counts are exact
// integers, so every term equals the walk's bit for bit.
#pragma once
#include <cstdint>

#include "auroc/math.h"

namespace torchauc::auroc {

// P[0, np) and N[0, nn) ascending; tp_above / fp_above positives and negatives above both runs.
// Calls emit(a, term) for every tie group P[a, e) of the positives, from the highest key down.
template <typename Emit>
void ap_terms_descending(const uint32_t* P, int64_t np, const uint32_t* N, int64_t nn, int64_t tp_above,
                         int64_t fp_above, const Emit& emit) {
  int64_t j = nn;  // N[j, nn): the negatives at or above the current group's key
  for (int64_t e = np; e > 0;) {
    const uint32_t key = P[e - 1];
    int64_t a = e - 1;
    while (a > 0 && P[a - 1] == key) --a;
    while (j > 0 && N[j - 1] >= key) --j;
    const double tp = static_cast<double>(tp_above + np - a), fp = static_cast<double>(fp_above + nn - j);
    emit(a, ap_step(static_cast<double>(e - a), tp, fp));
    e = a;
  }
}

}  // namespace torchauc::auroc
