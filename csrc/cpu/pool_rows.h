// CPU fast paths for NCHW planes: whole output rows at a time, so the loops over a row are
// branch-free and contiguous (or constant-stride) and the compiler vectorises them. They apply
// the same rules in the same order as the shared per-element bodies (max_update over taps in
// row-major window order; unpool sums in ascending window offset), so results are bitwise equal;
// channels_last tensors and the CUDA kernels use the per-element bodies, and the tests run both.
#pragma once

#include <ATen/OpMathType.h>

#include <algorithm>
#include <limits>
#include <vector>

#include "../kernels/max_pool2d_switches.h"

namespace zfcuda::cpu {

// The ow range [begin, end) whose tap kw lies inside the input row, and the first in-bounds tap
// of each output column (ATen's initial index).
struct ColumnTaps {
  std::vector<int64_t> begin, end;  // per kw
  std::vector<int64_t> first_kw;    // per ow

  explicit ColumnTaps(const Pool2dGeometry& g) : begin(g.kernel_w), end(g.kernel_w), first_kw(g.out_w) {
    for (int64_t kw = 0; kw < g.kernel_w; ++kw) {
      const int64_t shift = kw * g.dilation_w - g.pad_w;  // iw = ow * stride + shift
      int64_t lo = 0;
      while (lo < g.out_w && lo * g.stride_w + shift < 0) ++lo;
      int64_t hi = g.out_w;
      while (hi > lo && (hi - 1) * g.stride_w + shift >= g.in_w) --hi;
      begin[kw] = lo;
      end[kw] = hi;
    }
    for (int64_t ow = 0; ow < g.out_w; ++ow) {
      int64_t kw = 0;
      while (ow * g.stride_w - g.pad_w + kw * g.dilation_w < 0) ++kw;
      first_kw[ow] = kw;
    }
  }
};

// One output row `oh` of one plane: max and switch per column. `best` and `offset` are scratch
// rows of out_w entries; offsets are kept in acc_t so the select stays in one register type.
template <int kStride, typename scalar_t, typename switch_t>
void max_pool2d_row(const scalar_t* plane, int64_t oh, const Pool2dGeometry& g, const ColumnTaps& taps,
                    at::opmath_type<scalar_t>* best, at::opmath_type<scalar_t>* offset, scalar_t* out,
                    switch_t* switches) {
  using acc_t = at::opmath_type<scalar_t>;
  const int64_t stride = kStride > 0 ? kStride : g.stride_w;
  const int64_t h0 = oh * g.stride_h - g.pad_h;
  int64_t kh_begin = 0;
  while (h0 + kh_begin * g.dilation_h < 0) ++kh_begin;
  for (int64_t ow = 0; ow < g.out_w; ++ow) {
    best[ow] = -std::numeric_limits<acc_t>::infinity();
    offset[ow] = static_cast<acc_t>(kh_begin * g.kernel_w + taps.first_kw[ow]);
  }
  for (int64_t kh = kh_begin; kh < g.kernel_h; ++kh) {
    const int64_t ih = h0 + kh * g.dilation_h;
    if (ih >= g.in_h) break;
    for (int64_t kw = 0; kw < g.kernel_w; ++kw) {
      const scalar_t* row = plane + ih * g.in_w;
      const int64_t shift = kw * g.dilation_w - g.pad_w;
      const acc_t k = static_cast<acc_t>(kh * g.kernel_w + kw);
      for (int64_t ow = taps.begin[kw]; ow < taps.end[kw]; ++ow) {
        max_update(static_cast<acc_t>(row[ow * stride + shift]), k, best[ow], offset[ow]);
      }
    }
  }
  for (int64_t ow = 0; ow < g.out_w; ++ow) {
    out[ow] = static_cast<scalar_t>(best[ow]);
    switches[ow] = static_cast<switch_t>(offset[ow]);
  }
}

// Input row `ih` of one plane, unpooled: every window containing the row is visited in ascending
// kh (descending oh) and, within a pooled row, in descending ow (ascending kw), so each input
// position receives its terms in the order unpool2d_at adds them. `acc` is a scratch row of in_w.
template <typename scalar_t, typename switch_t>
void unpool2d_row(const scalar_t* y, const switch_t* switches, int64_t ih, const Pool2dGeometry& g,
                  at::opmath_type<scalar_t>* acc, scalar_t* out) {
  using acc_t = at::opmath_type<scalar_t>;
  std::fill(acc, acc + g.in_w, acc_t(0));
  for (int64_t kh = 0; kh < g.kernel_h; ++kh) {
    const int64_t th = ih + g.pad_h - kh * g.dilation_h;  // = oh * stride_h for a window containing ih
    if (th < 0) break;
    if (th % g.stride_h != 0 || th / g.stride_h >= g.out_h) continue;
    const int64_t oh = th / g.stride_h;
    const scalar_t* y_row = y + oh * g.out_w;
    const switch_t* sw_row = switches + oh * g.out_w;
    for (int64_t ow = g.out_w - 1; ow >= 0; --ow) {
      const int64_t k = static_cast<int64_t>(sw_row[ow]);
      if (k / g.kernel_w != kh) continue;
      const int64_t iw = ow * g.stride_w - g.pad_w + (k % g.kernel_w) * g.dilation_w;
      if (iw < 0 || iw >= g.in_w) continue;  // a switch into the padding selects no input
      acc[iw] += static_cast<acc_t>(y_row[ow]);
    }
  }
  for (int64_t iw = 0; iw < g.in_w; ++iw) out[iw] = static_cast<scalar_t>(acc[iw]);
}

}  // namespace zfcuda::cpu
