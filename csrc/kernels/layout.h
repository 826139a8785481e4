// Addressing of 4-D tensors stored NCHW-contiguous or channels_last (NHWC) contiguous.
#pragma once

#include <cstdint>

#include "host_device.h"

namespace zfcuda {

struct Layout4d {
  int64_t n, c, h, w;
  bool channels_last;

  ZF_HOST_DEVICE int64_t numel() const { return n * c * h * w; }
  // Offset of element (ni, ci, 0, 0): the base of one (H, W) plane.
  ZF_HOST_DEVICE int64_t plane_offset(int64_t ni, int64_t ci) const {
    return channels_last ? ni * h * w * c + ci : (ni * c + ci) * h * w;
  }
  ZF_HOST_DEVICE int64_t row_stride() const { return channels_last ? w * c : w; }
  ZF_HOST_DEVICE int64_t col_stride() const { return channels_last ? c : 1; }

  // Inverse of the memory order: linear offset -> (n, c, h, w).
  // index_t is int32 when the tensor allows it: 32-bit division is several times cheaper on GPUs.
  template <typename index_t>
  ZF_HOST_DEVICE void decode(index_t i, index_t& ni, index_t& ci, index_t& hi, index_t& wi) const {
    const auto C = static_cast<index_t>(c), H = static_cast<index_t>(h), W = static_cast<index_t>(w);
    if (channels_last) {
      ci = i % C; i /= C;
      wi = i % W; i /= W;
      hi = i % H; ni = i / H;
    } else {
      wi = i % W; i /= W;
      hi = i % H; i /= H;
      ci = i % C; ni = i / C;
    }
  }
};

}  // namespace zfcuda
