// Max pooling that records, for every output, the offset of its argmax inside the window.
#pragma once

#include <ATen/NumericUtils.h>
#include <ATen/OpMathType.h>

#include <limits>

#include "pool2d_geometry.h"

namespace zfcuda {

// ATen's max rule, shared by every loop: a strictly larger value wins, so the first maximum in
// row-major window order is kept on ties, and NaN always wins (the last NaN, as in ATen).
// Branch-free: the comparison is data-dependent, and a mispredicted branch per tap costs more
// than the select (on the GPU both compile to predicated instructions).
template <typename acc_t, typename offset_t>
ZF_HOST_DEVICE inline void max_update(acc_t value, offset_t offset, acc_t& best, offset_t& best_offset) {
  const bool take = (value > best) | at::_isnan(value);
  best = take ? value : best;
  best_offset = take ? offset : best_offset;
}

// The pooled value for the maximum `best` found at window offset `offset` of output (oh, ow). A NaN
// is read back from the input rather than converted from acc_t, which would drop a float16 NaN's
// payload (F.max_pool2d returns the input's NaN bit for bit).
template <typename scalar_t, typename acc_t, typename offset_t>
ZF_HOST_DEVICE inline scalar_t pooled_value(acc_t best, offset_t offset, const scalar_t* plane, int64_t row_stride,
                                            int64_t col_stride, int64_t oh, int64_t ow, const Pool2dGeometry& g) {
  if (!at::_isnan(best)) return static_cast<scalar_t>(best);
  int64_t ih = 0, iw = 0;
  switch_target(static_cast<int64_t>(offset), oh, ow, g, ih, iw);  // a NaN was read there, so it is in bounds
  return plane[ih * row_stride + iw * col_stride];
}

// Output (oh, ow) of one plane. `plane` points at element (0, 0); `row_stride` / `col_stride` are
// the plane's strides in elements. Writes the maximum to *out and its window offset kh*kW+kw to
// *switch_out. Every window holds at least one input element (pool_geometry rejects the others),
// so the offset starts at the first in-bounds tap, as ATen's index does.
template <typename scalar_t, typename switch_t>
ZF_HOST_DEVICE inline void max_pool2d_at(const scalar_t* plane, int64_t row_stride, int64_t col_stride,
                                         int64_t oh, int64_t ow, const Pool2dGeometry& g,
                                         scalar_t* out, switch_t* switch_out) {
  using acc_t = at::opmath_type<scalar_t>;
  const int64_t h0 = oh * g.stride_h - g.pad_h;
  const int64_t w0 = ow * g.stride_w - g.pad_w;
  int64_t kh_begin = 0, kw_begin = 0;
  while (h0 + kh_begin * g.dilation_h < 0) ++kh_begin;
  while (w0 + kw_begin * g.dilation_w < 0) ++kw_begin;

  acc_t best = -std::numeric_limits<acc_t>::infinity();
  switch_t best_offset = static_cast<switch_t>(kh_begin * g.kernel_w + kw_begin);
  for (int64_t kh = kh_begin; kh < g.kernel_h; ++kh) {
    const int64_t ih = h0 + kh * g.dilation_h;
    if (ih >= g.in_h) break;
    const scalar_t* row = plane + ih * row_stride;
    for (int64_t kw = kw_begin; kw < g.kernel_w; ++kw) {
      const int64_t iw = w0 + kw * g.dilation_w;
      if (iw >= g.in_w) break;
      max_update(static_cast<acc_t>(row[iw * col_stride]), static_cast<switch_t>(kh * g.kernel_w + kw),
                 best, best_offset);
    }
  }
  *out = pooled_value(best, best_offset, plane, row_stride, col_stride, oh, ow, g);
  *switch_out = best_offset;
}

}  // namespace zfcuda
