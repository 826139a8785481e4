// CPU fast paths of max_pool2d_switches: whole NCHW output rows, or channels_last pixels.
//
// The loops over a row (or over a pixel's channels) are branch-free and contiguous, so the
// compiler vectorises them. They apply max_update over the taps in row-major window order, as the
// shared per-element body max_pool2d_at does, so results are bitwise equal; the tests run both
// (see fast_paths.h).
#pragma once

#include <ATen/OpMathType.h>

#include <algorithm>
#include <limits>
#include <type_traits>
#include <vector>

#include "../kernels/max_pool2d_switches.h"
#include "clones.h"

namespace zfcuda::cpu {

// The ow range [begin, end) whose tap kw lies inside the input row, and the first in-bounds tap
// of each output column (ATen's initial index).
struct ColumnTaps {
  std::vector<int64_t> begin, end;            // per kw
  std::vector<int64_t> phase, phase_offset;  // per kw: iw = (ow + phase_offset) * stride + phase
  std::vector<int64_t> first_kw;             // per ow

  explicit ColumnTaps(const Pool2dGeometry& g)
      : begin(g.kernel_w), end(g.kernel_w), phase(g.kernel_w), phase_offset(g.kernel_w), first_kw(g.out_w) {
    for (int64_t kw = 0; kw < g.kernel_w; ++kw) {
      const int64_t shift = kw * g.dilation_w - g.pad_w;  // iw = ow * stride + shift
      int64_t lo = 0;
      while (lo < g.out_w && lo * g.stride_w + shift < 0) ++lo;
      int64_t hi = g.out_w;
      while (hi > lo && (hi - 1) * g.stride_w + shift >= g.in_w) --hi;
      begin[kw] = lo;
      end[kw] = hi;
      phase[kw] = ((shift % g.stride_w) + g.stride_w) % g.stride_w;
      phase_offset[kw] = (shift - phase[kw]) / g.stride_w;
    }
    for (int64_t ow = 0; ow < g.out_w; ++ow) {
      int64_t kw = 0;
      while (ow * g.stride_w - g.pad_w + kw * g.dilation_w < 0) ++kw;
      first_kw[ow] = kw;
    }
  }
};

// One tap over a span of output columns. A function of its own so that __restrict__ holds and
// the compiler vectorises the branch-free update.
template <typename acc_t>
ZF_CPU_CLONES void max_update_span(const acc_t* __restrict__ source, acc_t k, acc_t* __restrict__ best,
                     acc_t* __restrict__ offset, int64_t begin, int64_t end) {
  for (int64_t ow = begin; ow < end; ++ow) max_update(source[ow], k, best[ow], offset[ow]);
}

// Scratch rows for max_pool2d_row, one set per thread.
template <typename acc_t>
struct PoolRowScratch {
  std::vector<acc_t> best, offset, phases;
  explicit PoolRowScratch(const Pool2dGeometry& g)
      : best(g.out_w), offset(g.out_w), phases(g.stride_w * ((g.in_w + g.stride_w - 1) / g.stride_w)) {}
};

// One output row `oh` of one plane: max and switch per column. Each input row is first split by
// phase (phases[r][j] = row[j * stride + r]), so every tap reads consecutive elements and the
// branch-free update vectorises for any stride. Offsets are kept in acc_t so the select stays in
// one register type.
template <typename scalar_t, typename switch_t>
void max_pool2d_row(const scalar_t* plane, int64_t oh, const Pool2dGeometry& g, const ColumnTaps& taps,
                    PoolRowScratch<at::opmath_type<scalar_t>>& scratch, scalar_t* out, switch_t* switches) {
  using acc_t = at::opmath_type<scalar_t>;
  acc_t* best = scratch.best.data();
  acc_t* offset = scratch.offset.data();
  acc_t* phases = scratch.phases.data();
  const int64_t stride = g.stride_w, phase_len = (g.in_w + stride - 1) / stride;
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
    const scalar_t* row = plane + ih * g.in_w;
    for (int64_t r = 0; r < stride; ++r) {
      acc_t* phase = phases + r * phase_len;
      for (int64_t j = 0; j * stride + r < g.in_w; ++j) phase[j] = static_cast<acc_t>(row[j * stride + r]);
    }
    for (int64_t kw = 0; kw < g.kernel_w; ++kw) {
      const acc_t* source = phases + taps.phase[kw] * phase_len + taps.phase_offset[kw];
      const acc_t k = static_cast<acc_t>(kh * g.kernel_w + kw);
      max_update_span(source, k, best, offset, taps.begin[kw], taps.end[kw]);
    }
  }
  for (int64_t ow = 0; ow < g.out_w; ++ow) {
    out[ow] = pooled_value(best[ow], static_cast<int64_t>(offset[ow]), plane, g.in_w, int64_t{1}, oh, ow, g);
    switches[ow] = static_cast<switch_t>(offset[ow]);
  }
}

// channels_last: one output pixel at a time with all channels together, so each tap is a
// contiguous run of C elements and the update vectorises over channels. `image` points at pixel
// (0, 0) of one image; `scratch` holds 3 * C acc_t.
template <typename scalar_t, typename switch_t>
void max_pool2d_pixel_cl(const scalar_t* image, int64_t oh, int64_t ow, int64_t C, const Pool2dGeometry& g,
                         at::opmath_type<scalar_t>* scratch, scalar_t* out, switch_t* switches) {
  using acc_t = at::opmath_type<scalar_t>;
  acc_t *best = scratch, *offset = scratch + C, *converted = scratch + 2 * C;
  const int64_t h0 = oh * g.stride_h - g.pad_h, w0 = ow * g.stride_w - g.pad_w;
  int64_t kh_begin = 0, kw_begin = 0;
  while (h0 + kh_begin * g.dilation_h < 0) ++kh_begin;
  while (w0 + kw_begin * g.dilation_w < 0) ++kw_begin;
  std::fill(best, best + C, -std::numeric_limits<acc_t>::infinity());
  std::fill(offset, offset + C, static_cast<acc_t>(kh_begin * g.kernel_w + kw_begin));
  for (int64_t kh = kh_begin; kh < g.kernel_h; ++kh) {
    const int64_t ih = h0 + kh * g.dilation_h;
    if (ih >= g.in_h) break;
    for (int64_t kw = kw_begin; kw < g.kernel_w; ++kw) {
      const int64_t iw = w0 + kw * g.dilation_w;
      if (iw >= g.in_w) break;
      const scalar_t* pixel = image + (ih * g.in_w + iw) * C;
      const acc_t* source = nullptr;
      if constexpr (std::is_same_v<acc_t, scalar_t>) {
        source = pixel;
      } else {
        std::copy(pixel, pixel + C, converted);
        source = converted;
      }
      max_update_span(source, static_cast<acc_t>(kh * g.kernel_w + kw), best, offset, 0, C);
    }
  }
  for (int64_t c = 0; c < C; ++c) {
    out[c] = pooled_value(best[c], static_cast<int64_t>(offset[c]), image + c, g.in_w * C, C, oh, ow, g);
    switches[c] = static_cast<switch_t>(offset[c]);
  }
}

}  // namespace zfcuda::cpu
