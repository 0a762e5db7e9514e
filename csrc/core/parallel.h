// Deterministic parallel reductions on the CPU: fixed-size chunks (independent of the thread
// count), each reduced serially, combined in chunk order, so a result never depends on threads.
#pragma once
#include <ATen/Parallel.h>

#include <algorithm>
#include <cstdint>
#include <vector>

namespace torchauc {

constexpr int64_t kChunk = 1 << 15;

// add(i, acc) folds element i into a chunk's accumulator; combine(x, y) merges two accumulators.
template <typename Acc, typename Add, typename Combine>
Acc chunked_reduce(int64_t n, Acc identity, const Add& add, const Combine& combine) {
  const int64_t nchunks = (n + kChunk - 1) / kChunk;
  std::vector<Acc> part(nchunks, identity);
  at::parallel_for(0, nchunks, 1, [&](int64_t cb, int64_t ce) {
    for (int64_t c = cb; c < ce; ++c) {
      Acc acc = identity;
      const int64_t end = std::min(n, (c + 1) * kChunk);
      for (int64_t i = c * kChunk; i < end; ++i) add(i, acc);
      part[c] = acc;
    }
  });
  Acc total = identity;
  for (const Acc& p : part) total = combine(total, p);
  return total;
}

}  // namespace torchauc
