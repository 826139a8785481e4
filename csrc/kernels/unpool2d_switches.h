// Unpooling as a gather: every input position sums the outputs whose switch points at it.
#pragma once

#include <ATen/OpMathType.h>

#include "pool2d_window.h"
#include "strip_store.h"

namespace zfcuda {

// Tap index along one axis of the window that puts a window starting `offset` elements before
// the position on it, or -1 when no tap does (the offset falls between dilated taps).
ZF_HOST_DEVICE inline int tap_at(int offset, int dilation) {
  if (dilation == 1) return offset;  // no division in the common case
  return offset % dilation == 0 ? offset / dilation : -1;
}

// The pooled outputs [begin, end) along one axis whose window covers position i: computed once per
// element with two divisions, as ATen's max-pool backward does, instead of two per tap.
template <typename index_t>
ZF_HOST_DEVICE inline void covering_windows(index_t i, int kernel, int stride, int pad, int dilation, index_t pooled,
                                            index_t& begin, index_t& end) {
  const index_t reach = static_cast<index_t>(kernel - 1) * dilation + 1;
  begin = i + pad < reach ? 0 : (i + pad - reach) / stride + 1;
  end = (i + pad) / stride + 1;
  end = end < pooled ? end : pooled;
}

// Input element (ih, iw) of one plane, for any window: the sum of y[oh, ow] over the windows that
// contain (ih, iw) and whose switch selects it. Windows are visited in a fixed order, ascending
// (oh, ow), the order in which ATen accumulates the gradient of max pooling, so the result is
// bitwise reproducible and equal to it; no atomics and no zero-fill pass are needed. `y` and
// `switches` point at the plane's (0, 0) and share the strides (row_stride, col_stride).
template <typename scalar_t, typename switch_t, typename index_t>
ZF_HOST_DEVICE ZF_FORCE_INLINE scalar_t unpool2d_at(const scalar_t* __restrict__ y, const switch_t* __restrict__ switches,
                                           index_t row_stride, index_t col_stride, const PlaneSizes<index_t>& s,
                                           const RuntimeWindow& win, index_t ih, index_t iw) {
  using acc_t = at::opmath_type<scalar_t>;
  index_t oh_begin, oh_end, ow_begin, ow_end;
  covering_windows(ih, win.kh, win.sh, win.ph, win.dh, s.out_h, oh_begin, oh_end);
  covering_windows(iw, win.kw, win.sw, win.pw, win.dw, s.out_w, ow_begin, ow_end);
  acc_t sum = acc_t(0);
  // At most ceil(K / S) windows a side: unrolling these short runtime loops only adds registers.
#pragma unroll 1
  for (index_t oh = oh_begin; oh < oh_end; ++oh) {
    const int kh = tap_at(static_cast<int>(ih + win.ph - oh * win.sh), win.dh);
    if (kh < 0) continue;
#pragma unroll 1
    for (index_t ow = ow_begin; ow < ow_end; ++ow) {
      const int kw = tap_at(static_cast<int>(iw + win.pw - ow * win.sw), win.dw);
      const index_t at = oh * row_stride + ow * col_stride;
      if (kw >= 0 && static_cast<int>(switches[at]) == kh * win.kw + kw) sum += static_cast<acc_t>(y[at]);
    }
  }
  return static_cast<scalar_t>(sum);
}

// Input row ih, columns iw0 .. iw0 + V * S of one plane (iw0 = strip * V * S), for a compiled-in
// window: the GPU's hot path (V = 1 for channels_last). Each of the at most ceil(K / S) pooled
// rows whose windows cover row ih is read once over the columns that reach the strip; every
// (switch, value) pair is routed to the one column its switch names, a compile-time register
// slot, so nothing divides and nothing branches. Terms reach each column in ascending (oh, ow),
// as in unpool2d_at. Column j goes to out[j * out_step]; columns at or past in_w are not written.
// A switch outside its window or into the padding lands nowhere, as in unpool2d_at.
template <int V, typename scalar_t, typename switch_t, typename index_t, int K, int S, int P>
ZF_HOST_DEVICE inline void unpool2d_strip(const scalar_t* __restrict__ y, const switch_t* __restrict__ switches,
                                          index_t row_stride, index_t col_stride, const PlaneSizes<index_t>& s,
                                          FixedWindow<K, S, P>, index_t ih, index_t strip,
                                          scalar_t* __restrict__ out, index_t out_step) {
  using acc_t = at::opmath_type<scalar_t>;
  constexpr int columns = V * S;
  constexpr int rows = (K + S - 1) / S;
  // Pooled columns strip * V + t whose windows [t * S - P, t * S - P + K) meet [0, columns).
  constexpr int t_first = floor_div(P - K + 1 + S - 1, S), t_last = floor_div(columns - 1 + P, S);
  acc_t acc[columns];
#pragma unroll
  for (int j = 0; j < columns; ++j) acc[j] = acc_t(0);
  const index_t oh_last = (ih + P) / S;  // ih + P >= 0: a shift or multiply for constant S
#pragma unroll
  for (int r = 0; r < rows; ++r) {
    const index_t oh = oh_last - (rows - 1) + r;  // ascending
    const int kh = static_cast<int>(ih + P - oh * S);
    const bool row_inside = oh >= 0 && oh < s.out_h && kh < K;
#pragma unroll
    for (int t = t_first; t <= t_last; ++t) {
      const index_t ow = strip * V + t;
      const bool inside = row_inside && ow >= 0 && ow < s.out_w;
      const index_t at = oh * row_stride + ow * col_stride;
      // The tap column of the switch if it lies in row kh of the window; K (lands nowhere) if not.
      const int kw = inside ? static_cast<int>(switches[at]) - kh * K : K;
      const acc_t value = inside ? static_cast<acc_t>(y[at]) : acc_t(0);
#pragma unroll
      for (int c = 0; c < K; ++c) {
        const int j = t * S - P + c;
        if (j >= 0 && j < columns && kw == c) acc[j] += value;
      }
    }
  }
  const index_t remaining = s.in_w - strip * columns;
  const int count = remaining < columns ? static_cast<int>(remaining) : columns;
  scalar_t values[columns];
#pragma unroll
  for (int j = 0; j < columns; ++j) values[j] = static_cast<scalar_t>(acc[j]);
  if (out_step == 1) {
    store_strip<columns>(out, values, count);
  } else {
#pragma unroll
    for (int j = 0; j < columns; ++j) {
      if (j < count) out[j * out_step] = values[j];
    }
  }
}

}  // namespace zfcuda
