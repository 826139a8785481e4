// CPU fast paths of max_pool2d_switches: NCHW planes a band of output rows at a time, or
// channels_last pixels.
//
// Both apply max_update over every tap in row-major window order, as the shared per-element body
// max_pool2d_at does, so results are bitwise equal; the tests run both (see fast_paths.h). A tap
// in the padding reads -inf, which never wins (the comparison is strict), and the offset starts at
// the window's first tap inside the input, as ATen's index does; so every window can run every
// tap, with no bounds test. The running maxima and offsets of a block of outputs stay in vector
// registers over all the taps (max_over_taps).
#pragma once

#include <ATen/OpMathType.h>

#include <algorithm>
#include <cstdint>
#include <limits>
#include <type_traits>
#include <vector>

#include "../kernels/max_pool2d_switches.h"
#include "clones.h"
#include "simd.h"

namespace zfcuda::cpu {

// Outputs [begin, begin + count) of a block, each the max over taps t = 0 .. taps - 1 of
// values[t][i] (values[t] points at the tap's source for output 0), with the offset of the winner
// starting at first_offset[i]. kBlock vectors go together, so that the dependent compare and
// selects of one tap overlap those of the others.
template <int kBlock, typename acc_t>
ZF_VEC_INLINE void max_over_taps_block(const acc_t* const* values, int64_t taps, const acc_t* first_offset,
                                       int64_t begin, acc_t* best, acc_t* offset) {
  constexpr int lanes = VecOf<acc_t>::lanes;
  Vec<acc_t> b[kBlock], o[kBlock];
  for (int v = 0; v < kBlock; ++v) {
    broadcast(b[v], -std::numeric_limits<acc_t>::infinity());
    load_vec(o[v], first_offset + begin + v * lanes);
  }
  Vec<acc_t> k, value;
  broadcast(k, acc_t(0));
  for (int64_t t = 0; t < taps; ++t, k += acc_t(1)) {  // the offset of tap t, exact below 2^24
    prefetch_ahead(values[t] + begin, kBlock * sizeof(Vec<acc_t>));
    for (int v = 0; v < kBlock; ++v) {
      load_vec(value, values[t] + begin + v * lanes);
      const auto take = (value > b[v]) | (value != value);  // max_update: larger, or NaN
      b[v] = take ? value : b[v];
      o[v] = take ? k : o[v];
    }
  }
  for (int v = 0; v < kBlock; ++v) {
    store_vec(best + begin + v * lanes, b[v]);
    store_vec(offset + begin + v * lanes, o[v]);
  }
}

// Outputs [0, count) as above (whole vectors, then the rest one by one), the offsets through
// `offset` (count acc_t) to `switches`.
template <typename acc_t, typename switch_t>
ZF_CPU_CLONES void max_over_taps(const acc_t* const* values, int64_t taps, const acc_t* first_offset, int64_t count,
                                 acc_t* best, acc_t* offset, switch_t* switches) {
  constexpr int lanes = VecOf<acc_t>::lanes, block = 4;
  int64_t i = 0;
  for (; i + block * lanes <= count; i += block * lanes) {
    max_over_taps_block<block>(values, taps, first_offset, i, best, offset);
  }
  for (; i + lanes <= count; i += lanes) max_over_taps_block<1>(values, taps, first_offset, i, best, offset);
  for (; i < count; ++i) {
    best[i] = -std::numeric_limits<acc_t>::infinity();
    offset[i] = first_offset[i];
    for (int64_t t = 0; t < taps; ++t) max_update(values[t][i], static_cast<acc_t>(t), best[i], offset[i]);
  }
  for (i = 0; i < count; ++i) switches[i] = static_cast<switch_t>(offset[i]);
}

// The first tap along one axis that lies inside the input, for output o.
inline int64_t first_tap_inside(int64_t o, int64_t stride, int64_t pad, int64_t dilation) {
  int64_t t = 0;
  while (o * stride - pad + t * dilation < 0) ++t;  // at most pad / dilation steps
  return t;
}

// The NCHW plane split by phase: phase (rh, rw) holds the padded input's elements
// (i * stride_h + rh, j * stride_w + rw), -inf in the padding and past the edge, with rows of `row`
// columns. Tap (kh, kw) of output (oh, ow) is then element (oh + qh, ow + qw) of phase
// (kh * dilation_h % stride_h, kw * dilation_w % stride_w), qh = kh * dilation_h / stride_h (qw
// likewise): with the outputs on the same grid of `row` columns, every tap over a band of output
// rows is one contiguous run (the grid's row - out_w extra columns are computed and dropped). A
// band of output rows goes together, so that small planes give long runs and large ones stay in
// cache.
struct PhaseGrid {
  int64_t row, band_rows, phase_rows, phase_size;
  std::vector<int64_t> tap_at;         // per tap: its source's offset from the band's buffer
  std::vector<int64_t> col_begin, col_end;  // per column phase: its columns inside the input
  std::vector<bool> row_phase_used, col_phase_used;

  explicit PhaseGrid(const Pool2dGeometry& g)
      : tap_at(g.window_size()), col_begin(g.stride_w), col_end(g.stride_w), row_phase_used(g.stride_h),
        col_phase_used(g.stride_w) {
    const int64_t reach_h = (g.kernel_h - 1) * g.dilation_h / g.stride_h;
    row = g.out_w + (g.kernel_w - 1) * g.dilation_w / g.stride_w;
    band_rows = std::clamp<int64_t>(kBandOutputs / row, 1, g.out_h);
    phase_rows = band_rows + reach_h;
    phase_size = phase_rows * row;
    for (int64_t kh = 0; kh < g.kernel_h; ++kh) {
      for (int64_t kw = 0; kw < g.kernel_w; ++kw) {
        const int64_t a = kh * g.dilation_h, b = kw * g.dilation_w;
        const int64_t phase = (a % g.stride_h) * g.stride_w + b % g.stride_w;
        tap_at[kh * g.kernel_w + kw] = phase * phase_size + a / g.stride_h * row + b / g.stride_w;
        row_phase_used[a % g.stride_h] = true;
        col_phase_used[b % g.stride_w] = true;
      }
    }
    for (int64_t rw = 0; rw < g.stride_w; ++rw) {  // j with 0 <= j * stride_w + rw - pad_w < in_w
      col_begin[rw] = std::min(row, (std::max<int64_t>(0, g.pad_w - rw) + g.stride_w - 1) / g.stride_w);
      col_end[rw] = std::clamp((g.in_w + g.pad_w - rw + g.stride_w - 1) / g.stride_w, col_begin[rw], row);
    }
  }

  // Band outputs per band: a few thousand, so that a band's buffers stay in the L2 cache.
  static constexpr int64_t kBandOutputs = 4096;
};

// Columns [begin, end) of one phase row: dst[j] = row[j * stride + first]. A compile-time stride
// (1 or 2, every common pool) lets the compiler vectorise the strided read.
template <int kStride, typename scalar_t, typename acc_t>
void read_columns(const scalar_t* __restrict__ row, int64_t stride, int64_t first, acc_t* __restrict__ dst,
                  int64_t begin, int64_t end) {
  const int64_t s = kStride > 0 ? kStride : stride;
  for (int64_t j = begin; j < end; ++j) dst[j] = static_cast<acc_t>(row[j * s + first]);
}

// Phase rows of the band starting at output row oh0 (see PhaseGrid), from one NCHW plane: the
// columns inside the input; those outside hold -inf from the start (PoolPlaneScratch).
template <typename scalar_t, typename acc_t>
void split_band(const scalar_t* plane, int64_t oh0, const Pool2dGeometry& g, const PhaseGrid& grid, acc_t* phases) {
  for (int64_t rh = 0; rh < g.stride_h; ++rh) {
    if (!grid.row_phase_used[rh]) continue;
    for (int64_t i = 0; i < grid.phase_rows; ++i) {
      const int64_t ih = (oh0 + i) * g.stride_h + rh - g.pad_h;
      const bool inside = ih >= 0 && ih < g.in_h;
      for (int64_t rw = 0; rw < g.stride_w; ++rw) {
        if (!grid.col_phase_used[rw]) continue;
        acc_t* dst = phases + (rh * g.stride_w + rw) * grid.phase_size + i * grid.row;
        const int64_t begin = grid.col_begin[rw], end = grid.col_end[rw], first = rw - g.pad_w;
        if (!inside) {
          std::fill(dst + begin, dst + end, -std::numeric_limits<acc_t>::infinity());
        } else if (g.stride_w == 1) {
          read_columns<1>(plane + ih * g.in_w, 1, first, dst, begin, end);
        } else if (g.stride_w == 2) {
          read_columns<2>(plane + ih * g.in_w, 2, first, dst, begin, end);
        } else {
          read_columns<0>(plane + ih * g.in_w, g.stride_w, first, dst, begin, end);
        }
      }
    }
  }
}

// Scratch of one thread for max_pool2d_plane: the phases of a band (see PhaseGrid), each tap's
// source in them, and per output of the plane (on the grid) the first offset; a band's maxima,
// offsets and switches.
template <typename acc_t, typename switch_t>
struct PoolPlaneScratch {
  std::vector<acc_t> phases, first_offset, best, offset;
  std::vector<switch_t> switches;
  std::vector<const acc_t*> values;

  PoolPlaneScratch(const Pool2dGeometry& g, const PhaseGrid& grid)
      : phases(g.stride_h * g.stride_w * grid.phase_size, -std::numeric_limits<acc_t>::infinity()),
        first_offset(g.out_h * grid.row), best(grid.band_rows * grid.row), offset(grid.band_rows * grid.row),
        switches(grid.band_rows * grid.row), values(g.window_size()) {
    for (int64_t k = 0; k < g.window_size(); ++k) values[k] = phases.data() + grid.tap_at[k];
    for (int64_t oh = 0; oh < g.out_h; ++oh) {
      const int64_t first_kh = first_tap_inside(oh, g.stride_h, g.pad_h, g.dilation_h);
      for (int64_t ow = 0; ow < grid.row; ++ow) {  // the grid's extra columns: any offset
        const int64_t first_kw = first_tap_inside(std::min(ow, g.out_w - 1), g.stride_w, g.pad_w, g.dilation_w);
        first_offset[oh * grid.row + ow] = static_cast<acc_t>(first_kh * g.kernel_w + first_kw);
      }
    }
  }
};

// One NCHW plane, a band of output rows at a time (see PhaseGrid): max and switch per output.
template <typename scalar_t, typename switch_t>
void max_pool2d_plane(const scalar_t* plane, const Pool2dGeometry& g, const PhaseGrid& grid,
                      PoolPlaneScratch<at::opmath_type<scalar_t>, switch_t>& scratch, scalar_t* out, switch_t* switches) {
  using acc_t = at::opmath_type<scalar_t>;
  for (int64_t oh0 = 0; oh0 < g.out_h; oh0 += grid.band_rows) {
    const int64_t rows = std::min(grid.band_rows, g.out_h - oh0);
    split_band(plane, oh0, g, grid, scratch.phases.data());
    max_over_taps(scratch.values.data(), g.window_size(), scratch.first_offset.data() + oh0 * grid.row,
                  (rows - 1) * grid.row + g.out_w, scratch.best.data(), scratch.offset.data(), scratch.switches.data());
    for (int64_t r = 0; r < rows; ++r) {
      const int64_t oh = oh0 + r;
      const acc_t* best = scratch.best.data() + r * grid.row;
      const switch_t* offset = scratch.switches.data() + r * grid.row;
      for (int64_t ow = 0; ow < g.out_w; ++ow) {
        if constexpr (std::is_same_v<acc_t, scalar_t>) {
          out[oh * g.out_w + ow] = best[ow];  // compared in its own type: the input's bits
        } else {
          out[oh * g.out_w + ow] =
              pooled_value(best[ow], static_cast<int64_t>(offset[ow]), plane, g.in_w, int64_t{1}, oh, ow, g);
        }
      }
      std::copy(offset, offset + g.out_w, switches + oh * g.out_w);
    }
  }
}

// Scratch of one thread for max_pool2d_pixel_cl: C values of -inf (the taps outside the input);
// per tap, C converted values, and C maxima (float16/bfloat16 only); C first offsets and offsets.
template <typename acc_t>
struct PoolPixelScratch {
  std::vector<acc_t> padding, converted, best, first_offset, offset;
  std::vector<const acc_t*> values;

  PoolPixelScratch(const Pool2dGeometry& g, int64_t C, bool convert)
      : padding(C, -std::numeric_limits<acc_t>::infinity()), converted(convert ? g.window_size() * C : 0),
        best(convert ? C : 0), first_offset(C), offset(C), values(g.window_size()) {}
};

// channels_last: output pixel (oh, ow) of one image, all channels together: each tap is a
// contiguous run of C values, so the channels are the vector lanes. `image` points at pixel (0, 0)
// of one image.
template <typename scalar_t, typename switch_t>
void max_pool2d_pixel_cl(const scalar_t* image, int64_t oh, int64_t ow, int64_t C, const Pool2dGeometry& g,
                         PoolPixelScratch<at::opmath_type<scalar_t>>& scratch, scalar_t* out, switch_t* switches) {
  using acc_t = at::opmath_type<scalar_t>;
  const int64_t h0 = oh * g.stride_h - g.pad_h, w0 = ow * g.stride_w - g.pad_w;
  const int64_t kh_begin = first_tap_inside(oh, g.stride_h, g.pad_h, g.dilation_h);
  const int64_t kw_begin = first_tap_inside(ow, g.stride_w, g.pad_w, g.dilation_w);
  const acc_t first = static_cast<acc_t>(kh_begin * g.kernel_w + kw_begin);
  std::fill(scratch.first_offset.begin(), scratch.first_offset.end(), first);
  for (int64_t kh = 0; kh < g.kernel_h; ++kh) {
    const int64_t ih = h0 + kh * g.dilation_h;
    for (int64_t kw = 0; kw < g.kernel_w; ++kw) {
      const int64_t iw = w0 + kw * g.dilation_w, k = kh * g.kernel_w + kw;
      if (ih < 0 || ih >= g.in_h || iw < 0 || iw >= g.in_w) {
        scratch.values[k] = scratch.padding.data();
        continue;
      }
      const scalar_t* pixel = image + (ih * g.in_w + iw) * C;
      if constexpr (std::is_same_v<acc_t, scalar_t>) {
        scratch.values[k] = pixel;
      } else {
        acc_t* converted = scratch.converted.data() + k * C;
        std::copy(pixel, pixel + C, converted);
        scratch.values[k] = converted;
      }
    }
  }
  if constexpr (std::is_same_v<acc_t, scalar_t>) {  // compared in its own type: the maxima are the input's bits
    max_over_taps(scratch.values.data(), g.window_size(), scratch.first_offset.data(), C, out, scratch.offset.data(),
                  switches);
  } else {
    max_over_taps(scratch.values.data(), g.window_size(), scratch.first_offset.data(), C, scratch.best.data(),
                  scratch.offset.data(), switches);
    for (int64_t c = 0; c < C; ++c) {
      out[c] = pooled_value(scratch.best[c], static_cast<int64_t>(switches[c]), image + c, g.in_w * C, C, oh, ow, g);
    }
  }
}

}  // namespace zfcuda::cpu
