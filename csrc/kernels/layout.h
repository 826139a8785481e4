// Addressing of 4-D tensors stored NCHW-contiguous or channels_last (NHWC) contiguous.
#pragma once

#include "common.h"

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
  template <typename index_t>
  ZF_HOST_DEVICE void decode(index_t i, index_t& ni, index_t& ci, index_t& hi, index_t& wi) const {
    if (channels_last) {
      ci = i % c; i /= c;
      wi = i % w; i /= w;
      hi = i % h; ni = i / h;
    } else {
      wi = i % w; i /= w;
      hi = i % h; i /= h;
      ci = i % c; ni = i / c;
    }
  }
};

}  // namespace zfcuda
