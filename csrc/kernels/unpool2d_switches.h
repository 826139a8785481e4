// Unpooling as a gather: every input position sums the outputs whose switch points at it.
#pragma once

#include <ATen/OpMathType.h>

#include "common.h"

namespace zfcuda {

// Input element (ih, iw) of one plane: the sum of y[oh, ow] over the windows that contain
// (ih, iw) and whose switch selects it. Windows are visited in a fixed order (kh, kw ascending),
// so the result is bitwise reproducible; no atomics and no zero-fill pass are needed.
// `y` and `switches` point at the plane's (0, 0) and share the strides (row_stride, col_stride).
template <typename scalar_t, typename switch_t>
ZF_HOST_DEVICE inline scalar_t unpool2d_at(const scalar_t* y, const switch_t* switches, int64_t row_stride,
                                           int64_t col_stride, int64_t ih, int64_t iw, const Pool2dGeometry& g) {
  using acc_t = at::opmath_type<scalar_t>;
  acc_t sum = acc_t(0);
  for (int64_t kh = 0; kh < g.kernel_h; ++kh) {
    const int64_t th = ih + g.pad_h - kh * g.dilation_h;  // = oh * stride_h for a window containing ih
    if (th < 0) break;
    if (th % g.stride_h != 0) continue;
    const int64_t oh = th / g.stride_h;
    if (oh >= g.out_h) continue;
    for (int64_t kw = 0; kw < g.kernel_w; ++kw) {
      const int64_t tw = iw + g.pad_w - kw * g.dilation_w;
      if (tw < 0) break;
      if (tw % g.stride_w != 0) continue;
      const int64_t ow = tw / g.stride_w;
      if (ow >= g.out_w) continue;
      const int64_t at = oh * row_stride + ow * col_stride;
      if (static_cast<int64_t>(switches[at]) == kh * g.kernel_w + kw) sum += static_cast<acc_t>(y[at]);
    }
  }
  return static_cast<scalar_t>(sum);
}

}  // namespace zfcuda
