// Max pooling that records, for every output, the offset of its argmax inside the window.
#pragma once

#include <ATen/NumericUtils.h>
#include <ATen/OpMathType.h>

#include <cstdint>
#include <limits>
#include <type_traits>

#include "pool2d_geometry.h"
#include "pool2d_window.h"
#include "strip_store.h"

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

// The same for the window-typed bodies below. float32/float64 compare in their own type, so the
// maximum already is the input's value bit for bit.
template <typename scalar_t, typename acc_t, typename index_t, typename Window>
ZF_HOST_DEVICE inline scalar_t pooled_value_at(acc_t best, int offset, const scalar_t* plane, index_t row_stride,
                                               index_t col_stride, index_t h0, index_t w0, const Window& win) {
  if constexpr (std::is_same_v<acc_t, scalar_t>) {
    return best;
  } else {
    if (!at::_isnan(best)) return static_cast<scalar_t>(best);
    const int kh = offset / win.kernel_w(), kw = offset - kh * win.kernel_w();
    return plane[(h0 + kh * win.dilation_h()) * row_stride + (w0 + kw * win.dilation_w()) * col_stride];
  }
}

// Output (oh, ow) of one plane for any window. `plane` points at element (0, 0); `row_stride` /
// `col_stride` are the plane's strides in elements. Writes the maximum to *out and its window
// offset kh*kW+kw to *switch_out. Every window holds at least one input element (pool_geometry
// rejects the others), so the offset starts at the first in-bounds tap, as ATen's index does.
template <typename scalar_t, typename switch_t, typename index_t>
ZF_HOST_DEVICE inline void max_pool2d_at(const scalar_t* __restrict__ plane, index_t row_stride, index_t col_stride,
                                         const PlaneSizes<index_t>& s, const RuntimeWindow& win, index_t oh,
                                         index_t ow, scalar_t* __restrict__ out, switch_t* __restrict__ switch_out) {
  using acc_t = at::opmath_type<scalar_t>;
  const index_t h0 = oh * win.sh - win.ph, w0 = ow * win.sw - win.pw;
  int kh_begin = 0, kw_begin = 0;
  while (h0 + kh_begin * win.dh < 0) ++kh_begin;  // at most pad / dilation steps: no division
  while (w0 + kw_begin * win.dw < 0) ++kw_begin;
  acc_t best = -std::numeric_limits<acc_t>::infinity();
  int best_offset = kh_begin * win.kw + kw_begin;
  for (int kh = kh_begin; kh < win.kh; ++kh) {
    const index_t ih = h0 + kh * win.dh;
    if (ih >= s.in_h) break;
    const scalar_t* row = plane + ih * row_stride;
    for (int kw = kw_begin; kw < win.kw; ++kw) {
      const index_t iw = w0 + kw * win.dw;
      if (iw >= s.in_w) break;
      max_update(static_cast<acc_t>(row[iw * col_stride]), kh * win.kw + kw, best, best_offset);
    }
  }
  *out = pooled_value_at(best, best_offset, plane, row_stride, col_stride, h0, w0, win);
  *switch_out = static_cast<switch_t>(best_offset);
}

// V consecutive outputs (oh, ow0 .. ow0 + V) of one plane for a compiled-in window, the GPU's hot
// path (V = 1 for channels_last, one output per channel). Neighbouring windows share columns, so
// the thread reads (V - 1) * S + K columns of each of the K rows once, every tap unrolled; taps in
// the padding or past the edge read -inf, which never wins, so no tap branches. Each output still
// sees its taps in row-major window order, hence ATen's ties and NaN rule. Output v goes to
// out[v * out_step] (and switch_out likewise); outputs at or past out_w are not written.
template <int V, typename scalar_t, typename switch_t, typename index_t, int K, int S, int P>
ZF_HOST_DEVICE inline void max_pool2d_strip(const scalar_t* __restrict__ plane, index_t row_stride, index_t col_stride,
                                            const PlaneSizes<index_t>& s, FixedWindow<K, S, P> win, index_t oh,
                                            index_t ow0, scalar_t* __restrict__ out,
                                            switch_t* __restrict__ switch_out, index_t out_step) {
  using acc_t = at::opmath_type<scalar_t>;
  constexpr int columns = (V - 1) * S + K;
  const index_t h0 = oh * S - P, w0 = ow0 * S - P;
  const int kh_first = h0 < 0 ? static_cast<int>(-h0) : 0;  // P < K: at most P
  acc_t best[V];
  int offset[V];
#pragma unroll
  for (int v = 0; v < V; ++v) {
    const index_t w = w0 + v * S;
    best[v] = -std::numeric_limits<acc_t>::infinity();
    offset[v] = kh_first * K + (w < 0 ? static_cast<int>(-w) : 0);
  }
#pragma unroll
  for (int kh = 0; kh < K; ++kh) {
    const index_t ih = h0 + kh;
    const bool row_inside = static_cast<uint32_t>(ih) < static_cast<uint32_t>(s.in_h);
    // The row's first strip column, so each tap is a constant offset from it.
    const scalar_t* row = plane + (row_inside ? ih : 0) * row_stride + w0 * col_stride;
#pragma unroll
    for (int j = 0; j < columns; ++j) {
      // One unsigned compare per tap also rejects columns left of the input (w0 + j < 0).
      const bool inside = row_inside && static_cast<uint32_t>(w0 + j) < static_cast<uint32_t>(s.in_w);
      const acc_t value = inside ? static_cast<acc_t>(row[j * col_stride])
                                 : -std::numeric_limits<acc_t>::infinity();
#pragma unroll
      for (int v = 0; v < V; ++v) {
        const int kw = j - v * S;
        if (kw >= 0 && kw < K) max_update(value, kh * K + kw, best[v], offset[v]);
      }
    }
  }
  const index_t remaining = s.out_w - ow0;
  const int count = remaining < V ? static_cast<int>(remaining) : V;
  scalar_t values[V];
  switch_t switches[V];
#pragma unroll
  for (int v = 0; v < V; ++v) {
    values[v] = pooled_value_at(best[v], offset[v], plane, row_stride, col_stride, h0, w0 + v * S, win);
    switches[v] = static_cast<switch_t>(offset[v]);
  }
  if (out_step == 1) {
    store_strip<V>(out, values, count);
    store_strip<V>(switch_out, switches, count);
  } else {
#pragma unroll
    for (int v = 0; v < V; ++v) {
      if (v < count) {
        out[v * out_step] = values[v];
        switch_out[v * out_step] = switches[v];
      }
    }
  }
}

}  // namespace zfcuda
