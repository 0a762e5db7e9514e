// cudasim stand-ins for the CUB device-wide algorithms the kernels call, following CUB's documented
// contract: the two-call temp-storage protocol (the first call, with d_temp_storage == nullptr,
// only sizes; the second gets a buffer at least that large, which the call overwrites: it is filled
// with 0xFF bytes here, so data kept in it shows up), stable radix sorts over bits
// [begin_bit, end_bit) of CUB's order-preserving key transform (-0.0 equal to +0.0), segmented
// sorts over int offsets, input and output of a sort must not overlap, scans and sums in the
// input's type. Not emulated: CUB's real temp sizes, its parallel summation order (sums here are
// sequential), DoubleBuffer overloads, sorts in descending order.
#pragma once
#include <cuda_runtime.h>

#include <algorithm>
#include <cstdint>
#include <cstring>
#include <numeric>
#include <type_traits>
#include <vector>

namespace cub {
namespace cudasim_detail {

// CUB's bit twiddling: unsigned keys as is, signed flip the sign bit, floats flip the sign bit of
// non-negatives and every bit of negatives; -0.0 is sorted as +0.0.
template <typename K>
inline uint64_t radix_bits(K k) {
  if constexpr (std::is_floating_point_v<K>) {
    if (k == K(0)) k = K(0);
    using U = std::conditional_t<sizeof(K) == 4, uint32_t, uint64_t>;
    U u;
    std::memcpy(&u, &k, sizeof(U));
    const U sign = U(1) << (8 * sizeof(U) - 1);
    return (u & sign) ? U(~u) : U(u | sign);
  } else if constexpr (std::is_signed_v<K>) {
    using U = std::make_unsigned_t<K>;
    return U(U(k) ^ (U(1) << (8 * sizeof(K) - 1)));
  } else {
    return k;
  }
}

template <typename T>
bool overlap(const T* a, const T* b, int64_t n) {
  return n > 0 && a < b + n && b < a + n;
}

// The two-call protocol: true when this call only sized the buffer (or failed: *err set).
inline bool sizing_call(void* tmp, size_t& bytes, size_t need, cudaError_t* err) {
  *err = cudaSuccess;
  if (tmp == nullptr) {
    bytes = need;
    return true;
  }
  if (bytes < need) {
    *err = cudaErrorInvalidValue;
    return true;
  }
  std::memset(tmp, 0xFF, bytes);  // CUB owns the whole buffer during the call
  return false;
}

// Checks and the two-call protocol of a scan or sum over n items: true when the caller computes now
// (else *err is the result: sized, or invalid).
inline bool begin_sum(void* tmp, size_t& bytes, int64_t n, bool pointers_ok, cudaError_t* err) {
  *err = n < 0 || !pointers_ok ? cudaErrorInvalidValue : cudaSuccess;
  return *err == cudaSuccess && !sizing_call(tmp, bytes, 256 + 16 * size_t(n / 128 + 1), err);
}

template <typename K, typename V>
cudaError_t sort_range(const K* kin, K* kout, const V* vin, V* vout, int64_t lo, int64_t hi, int begin_bit,
                       int end_bit) {
  std::vector<int64_t> idx(hi - lo);
  std::iota(idx.begin(), idx.end(), lo);
  const int width = end_bit - begin_bit;
  const uint64_t mask = width >= 64 ? ~uint64_t(0) : ((uint64_t(1) << width) - 1);
  auto digit = [&](int64_t i) { return (radix_bits(kin[i]) >> begin_bit) & mask; };
  std::stable_sort(idx.begin(), idx.end(), [&](int64_t a, int64_t b) { return digit(a) < digit(b); });
  for (int64_t j = lo; j < hi; ++j) {
    kout[j] = kin[idx[j - lo]];
    if (vout) vout[j] = vin[idx[j - lo]];
  }
  return cudaSuccess;
}

template <typename K, typename V>
cudaError_t check_sort(const K* kin, K* kout, const V* vin, V* vout, int64_t n, int begin_bit, int end_bit) {
  if (n < 0 || begin_bit < 0 || end_bit > int(8 * sizeof(K)) || begin_bit > end_bit) return cudaErrorInvalidValue;
  if (n > 0 && (!kin || !kout || (vout && !vin))) return cudaErrorInvalidValue;
  if (overlap<K>(kin, kout, n) || (vout && overlap<V>(vin, vout, n))) return cudaErrorInvalidValue;
  return cudaSuccess;
}

template <typename K, typename V>
size_t sort_bytes(int64_t n) {
  return 256 + size_t(std::max<int64_t>(n, 0)) * (sizeof(K) + sizeof(V));
}

}  // namespace cudasim_detail

struct DeviceRadixSort {
  template <typename K, typename V, typename NumItemsT>
  static cudaError_t SortPairs(void* d_temp_storage, size_t& temp_storage_bytes, const K* d_keys_in, K* d_keys_out,
                               const V* d_values_in, V* d_values_out, NumItemsT num_items, int begin_bit = 0,
                               int end_bit = sizeof(K) * 8, cudaStream_t = 0) {
    namespace d = cudasim_detail;
    const int64_t n = static_cast<int64_t>(num_items);
    cudaError_t err = d::check_sort(d_keys_in, d_keys_out, d_values_in, d_values_out, n, begin_bit, end_bit);
    if (err != cudaSuccess || d::sizing_call(d_temp_storage, temp_storage_bytes, d::sort_bytes<K, V>(n), &err))
      return err;
    return d::sort_range(d_keys_in, d_keys_out, d_values_in, d_values_out, 0, n, begin_bit, end_bit);
  }
  template <typename K, typename NumItemsT>
  static cudaError_t SortKeys(void* d_temp_storage, size_t& temp_storage_bytes, const K* d_keys_in, K* d_keys_out,
                              NumItemsT num_items, int begin_bit = 0, int end_bit = sizeof(K) * 8, cudaStream_t s = 0) {
    return SortPairs<K, char>(d_temp_storage, temp_storage_bytes, d_keys_in, d_keys_out, nullptr, nullptr, num_items,
                              begin_bit, end_bit, s);
  }
};

struct DeviceSegmentedRadixSort {
  template <typename K, typename V, typename OffsetIt>
  static cudaError_t SortPairs(void* d_temp_storage, size_t& temp_storage_bytes, const K* d_keys_in, K* d_keys_out,
                               const V* d_values_in, V* d_values_out, int num_items, int num_segments,
                               OffsetIt d_begin_offsets, OffsetIt d_end_offsets, int begin_bit = 0,
                               int end_bit = sizeof(K) * 8, cudaStream_t = 0) {
    namespace d = cudasim_detail;
    cudaError_t err = d::check_sort(d_keys_in, d_keys_out, d_values_in, d_values_out, num_items, begin_bit, end_bit);
    if (num_segments < 0) err = cudaErrorInvalidValue;
    if (err != cudaSuccess ||
        d::sizing_call(d_temp_storage, temp_storage_bytes, d::sort_bytes<K, V>(num_items) + 8 * num_segments, &err))
      return err;
    for (int s = 0; s < num_segments; ++s) {
      const int64_t lo = d_begin_offsets[s], hi = d_end_offsets[s];
      if (hi <= lo) continue;  // empty segment
      if (lo < 0 || hi > num_items) return cudaErrorInvalidValue;
      d::sort_range(d_keys_in, d_keys_out, d_values_in, d_values_out, lo, hi, begin_bit, end_bit);
    }
    return cudaSuccess;
  }
};

struct DeviceScan {
  // out[i] = in[0] + ... + in[i], accumulated in the input's value type; in-place allowed.
  template <typename InT, typename OutT, typename NumItemsT>
  static cudaError_t InclusiveSum(void* d_temp_storage, size_t& temp_storage_bytes, const InT* d_in, OutT* d_out,
                                  NumItemsT num_items, cudaStream_t = 0) {
    const int64_t n = static_cast<int64_t>(num_items);
    cudaError_t err;
    if (!cudasim_detail::begin_sum(d_temp_storage, temp_storage_bytes, n, n == 0 || (d_in && d_out), &err)) return err;
    InT acc{};
    for (int64_t i = 0; i < n; ++i) {
      acc = i == 0 ? d_in[0] : InT(acc + d_in[i]);
      d_out[i] = static_cast<OutT>(acc);
    }
    return cudaSuccess;
  }
};

struct DeviceReduce {
  // *d_out = sum of in[0, n) (0 when n == 0).
  template <typename InT, typename OutT, typename NumItemsT>
  static cudaError_t Sum(void* d_temp_storage, size_t& temp_storage_bytes, const InT* d_in, OutT* d_out,
                         NumItemsT num_items, cudaStream_t = 0) {
    const int64_t n = static_cast<int64_t>(num_items);
    cudaError_t err;
    if (!cudasim_detail::begin_sum(d_temp_storage, temp_storage_bytes, n, d_out && (n == 0 || d_in), &err)) return err;
    InT acc{};
    for (int64_t i = 0; i < n; ++i) acc = InT(acc + d_in[i]);
    *d_out = static_cast<OutT>(acc);
    return cudaSuccess;
  }
};

}  // namespace cub
