// Splitting a flat 32-bit work index into (slice, h, w, c) with invariant dividers, no 64-bit math.
//
// Launches are cut into chunks of whole (n, c) planes (or, channels_last, whole images) whose every
// offset fits int32 (for_each_plane_chunk), so the GPU never divides 64-bit numbers. `Divider` is
// ATen's IntDivider<unsigned> on the GPU (a multiply-high and a shift) and PlainDivider on the CPU,
// which give the same quotients.
#pragma once

#include <c10/util/Exception.h>

#include <algorithm>
#include <atomic>
#include <cstdint>
#include <limits>

#include "host_device.h"

namespace zfcuda {

struct QuotientRemainder {
  uint32_t div, mod;
};

// The CPU's divider with the interface of at::cuda::detail::IntDivider<unsigned int>.
struct PlainDivider {
  uint32_t divisor;
  PlainDivider() = default;
  explicit PlainDivider(uint32_t d) : divisor(d) {}
  QuotientRemainder divmod(uint32_t n) const { return {n / divisor, n % divisor}; }
};

// Element i of a 4-D tensor seen as `slices` of (H, W) planes, NCHW (slice = n * C + c) or
// channels_last (slice = n, c innermost). W may count strips of columns rather than columns.
template <bool ChannelsLast, typename Divider>
struct IndexDecoder {
  Divider w, h, c;  // c is unused for NCHW

  IndexDecoder() = default;
  IndexDecoder(int64_t height, int64_t width, int64_t channels)
      : w(static_cast<uint32_t>(std::max<int64_t>(width, 1))),
        h(static_cast<uint32_t>(std::max<int64_t>(height, 1))),
        c(static_cast<uint32_t>(std::max<int64_t>(channels, 1))) {}

  ZF_HOST_DEVICE void operator()(int32_t i, int32_t& slice, int32_t& hi, int32_t& wi, int32_t& ci) const {
    uint32_t rest = static_cast<uint32_t>(i);
    if constexpr (ChannelsLast) {
      const auto by_c = c.divmod(rest);
      ci = static_cast<int32_t>(by_c.mod);
      rest = by_c.div;
    } else {
      ci = 0;
    }
    const auto by_w = w.divmod(rest);
    const auto by_h = h.divmod(by_w.div);
    wi = static_cast<int32_t>(by_w.mod);
    hi = static_cast<int32_t>(by_h.mod);
    slice = static_cast<int32_t>(by_h.div);
  }
};

// The most elements (and work indices) one launch chunk may hold: below 2^31 with a margin for the
// strips that step past a plane's end. Tests lower it (zfcuda._C._set_max_chunk_elements).
constexpr int64_t kMaxChunkElements = std::numeric_limits<int32_t>::max() - (int64_t{1} << 26);
inline std::atomic<int64_t> max_chunk_elements{kMaxChunkElements};

// Calls fn(first, count) over consecutive ranges of `slices` such that count * per_slice (every
// element offset and work index inside the range) stays below max_chunk_elements.
template <typename F>
void for_each_slice_chunk(int64_t slices, int64_t per_slice, const char* op, F&& fn) {
  per_slice = std::max<int64_t>(per_slice, 1);
  TORCH_CHECK_VALUE(per_slice <= kMaxChunkElements, op, ": one plane (or channels_last image) of ", per_slice,
                    " elements is too large; at most ", kMaxChunkElements, " are supported");
  const int64_t chunk = std::max<int64_t>(1, max_chunk_elements.load(std::memory_order_relaxed) / per_slice);
  for (int64_t first = 0; first < slices; first += chunk) fn(first, std::min(chunk, slices - first));
}

}  // namespace zfcuda
