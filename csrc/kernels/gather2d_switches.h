// Pooling with given switches: read the input at each recorded argmax.
#pragma once

#include "pool2d_geometry.h"

namespace zfcuda {

// Output (oh, ow) of one plane: x at the position switch `k` selects. An invalid switch reads
// nothing (returns 0) and sets ok to false, so a bad switch never reads out of bounds.
template <typename scalar_t, typename switch_t>
ZF_HOST_DEVICE inline scalar_t gather2d_at(const scalar_t* x, int64_t row_stride, int64_t col_stride, switch_t k,
                                           int64_t oh, int64_t ow, const Pool2dGeometry& g, bool& ok) {
  int64_t ih = 0, iw = 0;
  if (!switch_target(k, oh, ow, g, ih, iw)) {
    ok = false;
    return scalar_t(0);
  }
  return x[ih * row_stride + iw * col_stride];
}

}  // namespace zfcuda
