// Unpooling as a gather: every input position sums the outputs whose switch points at it.
#pragma once

#include <ATen/OpMathType.h>

#include "pool2d_geometry.h"

namespace zfcuda {

// Input element (ih, iw) of one plane: the sum of y[oh, ow] over the windows that contain
// (ih, iw) and whose switch selects it. Windows are visited in a fixed order, ascending (oh, ow)
// (descending (kh, kw)), the order in which ATen accumulates the gradient of max pooling, so the
// result is bitwise reproducible and equal to it; no atomics and no zero-fill pass are needed.
// `y` and `switches` point at the plane's (0, 0) and share the strides (row_stride, col_stride).
template <typename scalar_t, typename switch_t>
ZF_HOST_DEVICE inline scalar_t unpool2d_at(const scalar_t* y, const switch_t* switches, int64_t row_stride,
                                           int64_t col_stride, int64_t ih, int64_t iw, const Pool2dGeometry& g) {
  using acc_t = at::opmath_type<scalar_t>;
  acc_t sum = acc_t(0);
  for (int64_t kh = g.kernel_h - 1; kh >= 0; --kh) {
    const int64_t th = ih + g.pad_h - kh * g.dilation_h;  // = oh * stride_h for a window containing ih
    if (th < 0 || th % g.stride_h != 0 || th / g.stride_h >= g.out_h) continue;
    const int64_t oh = th / g.stride_h;
    for (int64_t kw = g.kernel_w - 1; kw >= 0; --kw) {
      const int64_t tw = iw + g.pad_w - kw * g.dilation_w;
      if (tw < 0 || tw % g.stride_w != 0 || tw / g.stride_w >= g.out_w) continue;
      const int64_t at = oh * row_stride + (tw / g.stride_w) * col_stride;
      if (static_cast<int64_t>(switches[at]) == kh * g.kernel_w + kw) sum += static_cast<acc_t>(y[at]);
    }
  }
  return static_cast<scalar_t>(sum);
}

}  // namespace zfcuda
