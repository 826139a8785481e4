// CPU fast paths of unpool2d_switches: whole NCHW planes, or channels_last rows of pixels.
//
// Every input position gets its terms in the order the shared per-element body unpool2d_at adds
// them (ascending (oh, ow)), so results are bitwise equal; the tests run both (see fast_paths.h).
// Each path counts the switches that land, which validates them at no extra cost.
#pragma once

#include <ATen/OpMathType.h>

#include <algorithm>
#include <cstdint>
#include <type_traits>
#include <vector>

#include "../kernels/pool2d_geometry.h"
#include "clones.h"
#include "simd.h"

namespace zfcuda::cpu {

// The pooled outputs along one axis whose windows lie wholly inside the input: [begin, end).
struct InsideRange {
  int64_t begin, end;

  InsideRange(int64_t out, int64_t in, int64_t kernel, int64_t stride, int64_t pad, int64_t dilation) {
    begin = std::min(out, (pad + stride - 1) / stride);  // the first o with o * stride - pad >= 0
    const int64_t last_start = in - 1 - (kernel - 1) * dilation + pad;  // o * stride may not exceed it
    end = last_start < 0 ? begin : std::clamp(last_start / stride + 1, begin, out);
  }
};

// Per switch value k: its window row and column, and its offset from the window's corner in a
// plane, so the plane loop divides nothing; and the windows that lie inside the input.
struct SwitchTable {
  std::vector<int32_t> kh, kw;
  std::vector<int64_t> delta;
  InsideRange rows, cols;

  explicit SwitchTable(const Pool2dGeometry& g)
      : kh(g.window_size()), kw(g.window_size()), delta(g.window_size()),
        rows(g.out_h, g.in_h, g.kernel_h, g.stride_h, g.pad_h, g.dilation_h),
        cols(g.out_w, g.in_w, g.kernel_w, g.stride_w, g.pad_w, g.dilation_w) {
    for (int64_t k = 0; k < g.window_size(); ++k) {
      kh[k] = static_cast<int32_t>(k / g.kernel_w);
      kw[k] = static_cast<int32_t>(k % g.kernel_w);
      delta[k] = kh[k] * g.dilation_h * g.in_w + kw[k] * g.dilation_w;
    }
  }
};

// Pooled outputs [begin, end) of row oh, whose windows lie inside the input: each value is added
// at its window's corner plus delta[k], with no bounds test. Returns how many switches landed: all
// but those outside their window (an unsigned compare also rejects negative ones).
template <typename scalar_t, typename switch_t, typename acc_t>
int64_t scatter_inside(const scalar_t* y, const switch_t* switches, int64_t oh, const Pool2dGeometry& g,
                       const int64_t* delta, acc_t* acc, int64_t begin, int64_t end) {
  const uint64_t window = static_cast<uint64_t>(g.window_size());
  const int64_t stride = g.stride_w;
  acc_t* corner = acc + (oh * g.stride_h - g.pad_h) * g.in_w + begin * stride - g.pad_w;
  int64_t landed = 0;
  for (int64_t ow = begin; ow < end; ++ow, corner += stride) {
    const uint64_t k = static_cast<uint64_t>(static_cast<int64_t>(switches[ow]));
    if (k >= window) continue;
    corner[delta[k]] += static_cast<acc_t>(y[ow]);
    ++landed;
  }
  return landed;
}

// The same for outputs whose windows reach into the padding or past the edge: every target is
// tested, and one outside the input does not land. Returns how many switches landed.
template <typename scalar_t, typename switch_t, typename acc_t>
int64_t scatter_checked(const scalar_t* y, const switch_t* switches, int64_t oh, const Pool2dGeometry& g,
                        const SwitchTable& table, acc_t* acc, int64_t begin, int64_t end) {
  const int64_t window = g.window_size();
  int64_t landed = 0;
  for (int64_t ow = begin; ow < end; ++ow) {
    const int64_t k = static_cast<int64_t>(switches[ow]);
    if (k < 0 || k >= window) continue;
    const int64_t ih = oh * g.stride_h - g.pad_h + table.kh[k] * g.dilation_h;
    const int64_t iw = ow * g.stride_w - g.pad_w + table.kw[k] * g.dilation_w;
    if (ih < 0 || ih >= g.in_h || iw < 0 || iw >= g.in_w) continue;
    acc[ih * g.in_w + iw] += static_cast<acc_t>(y[ow]);
    ++landed;
  }
  return landed;
}

// Pooled row oh of one plane, scattered into `acc` (in_h * in_w), in ascending ow. Returns how many
// switches landed. The bounds-tested ends are skipped when empty: on small planes the calls
// would cost more than the scatter.
template <typename scalar_t, typename switch_t, typename acc_t>
int64_t unpool2d_row(const scalar_t* y, const switch_t* switches, int64_t oh, const Pool2dGeometry& g,
                     const SwitchTable& table, acc_t* acc) {
  if (oh < table.rows.begin || oh >= table.rows.end) return scatter_checked(y, switches, oh, g, table, acc, 0, g.out_w);
  const int64_t begin = table.cols.begin, end = table.cols.end;
  int64_t landed = 0;
  if (begin > 0) landed += scatter_checked(y, switches, oh, g, table, acc, 0, begin);
  landed += scatter_inside(y, switches, oh, g, table.delta.data(), acc, begin, end);
  if (end < g.out_w) landed += scatter_checked(y, switches, oh, g, table, acc, end, g.out_w);
  return landed;
}

// One plane, unpooled by scattering each pooled value to its switch, into `acc` (in_h * in_w, small
// enough to stay in cache) which is then written out once. Visiting the pooled outputs in
// ascending (oh, ow) order gives every input position its terms in the order unpool2d_at adds
// them, so the sums are bitwise equal; the work is per pooled output, not per input. Returns how
// many switches landed: a switch outside its window or pointing into the padding never does, so
// the total equals the number of switches exactly when all are valid.
template <typename scalar_t, typename switch_t>
int64_t unpool2d_plane(const scalar_t* y, const switch_t* switches, const Pool2dGeometry& geometry,
                       const SwitchTable& table, at::opmath_type<scalar_t>* scratch, scalar_t* out) {
  using acc_t = at::opmath_type<scalar_t>;
  const Pool2dGeometry g = geometry;  // a local copy: the compiler need not reload it after each store
  // float32/float64 accumulate in the output plane itself; float16/bfloat16 in float scratch.
  acc_t* acc = nullptr;
  if constexpr (std::is_same_v<acc_t, scalar_t>) {
    acc = out;
  } else {
    acc = scratch;
  }
  int64_t landed = 0;
  std::fill(acc, acc + g.in_h * g.in_w, acc_t(0));
  for (int64_t oh = 0; oh < g.out_h; ++oh) {
    landed += unpool2d_row(y + oh * g.out_w, switches + oh * g.out_w, oh, g, table, acc);
  }
  if constexpr (!std::is_same_v<acc_t, scalar_t>) std::copy(acc, acc + g.in_h * g.in_w, out);
  return landed;
}

// For each input coordinate along one axis, the pooled outputs whose windows cover it and the tap
// of each that reaches it, in ascending output order: the order unpool2d_at adds the terms in.
struct Covers {
  std::vector<int64_t> first;  // coordinate i's entries are [first[i], first[i + 1])
  std::vector<int64_t> output, tap;

  Covers(int64_t in, int64_t out, int64_t kernel, int64_t stride, int64_t pad, int64_t dilation) {
    for (int64_t i = 0; i < in; ++i) {
      first.push_back(static_cast<int64_t>(output.size()));
      for (int64_t t = kernel - 1; t >= 0; --t) {  // descending tap: ascending output
        const int64_t start = i + pad - t * dilation;
        if (start < 0 || start % stride != 0 || start / stride >= out) continue;
        output.push_back(start / stride);
        tap.push_back(t);
      }
    }
    first.push_back(static_cast<int64_t>(output.size()));
  }
};

// The terms one input pixel gathers: for each window that contains it, in ascending (oh, ow), the
// pooled pixel's offset (times C) in y, its offset in the widened switches of the input row's
// windows (see unpool2d_row_cl), and the window offset that selects the input pixel.
struct PixelTerms {
  std::vector<int64_t> at, wide_at, k;
  int64_t count = 0, most_rows = 0;

  PixelTerms(const Covers& rows, const Covers& cols) {
    int64_t most_cols = 0;
    for (size_t i = 0; i + 1 < rows.first.size(); ++i) most_rows = std::max(most_rows, rows.first[i + 1] - rows.first[i]);
    for (size_t i = 0; i + 1 < cols.first.size(); ++i) most_cols = std::max(most_cols, cols.first[i + 1] - cols.first[i]);
    at.resize(most_rows * most_cols);
    wide_at.resize(most_rows * most_cols);
    k.resize(most_rows * most_cols);
  }

  void gather(int64_t ih, int64_t iw, int64_t C, const Pool2dGeometry& g, const Covers& rows, const Covers& cols) {
    count = 0;
    for (int64_t r = rows.first[ih]; r < rows.first[ih + 1]; ++r) {
      for (int64_t c = cols.first[iw]; c < cols.first[iw + 1]; ++c) {
        at[count] = (rows.output[r] * g.out_w + cols.output[c]) * C;
        wide_at[count] = ((r - rows.first[ih]) * g.out_w + cols.output[c]) * C;
        k[count++] = rows.tap[r] * g.kernel_w + cols.tap[c];
      }
    }
  }
};

// Channels [c, c + kBlock vectors) of one input pixel: the sum of y over the terms whose switch
// (widened to int_t, acc_t's width, in `wide`) selects it, kept in registers over the terms, to
// `out`. Adds -1 to `hits` per switch that matched. The sum is computed everywhere and selected,
// so nothing branches.
template <int kBlock, typename acc_t, typename int_t>
ZF_VEC_INLINE void gather_block(const acc_t* y, const int_t* wide, const PixelTerms& terms, int64_t c, acc_t* out,
                                Vec<int_t>& hits) {
  constexpr int lanes = VecOf<acc_t>::lanes;
  Vec<acc_t> sum[kBlock], value;
  for (int v = 0; v < kBlock; ++v) broadcast(sum[v], acc_t(0));
  Vec<int_t> k, s;
  for (int64_t t = 0; t < terms.count; ++t) {
    broadcast(k, static_cast<int_t>(terms.k[t]));
    prefetch_ahead(y + terms.at[t] + c, kBlock * sizeof(Vec<acc_t>));
    for (int v = 0; v < kBlock; ++v) {
      load_vec(s, wide + terms.wide_at[t] + c + v * lanes);
      load_vec(value, y + terms.at[t] + c + v * lanes);
      const Vec<int_t> hit = s == k;
      sum[v] = hit ? sum[v] + value : sum[v];
      hits += hit;
    }
  }
  for (int v = 0; v < kBlock; ++v) store_vec(out + c + v * lanes, sum[v]);
}

// One input pixel, all C channels, from `terms` (see gather_block; the last channels one by one).
// Returns how many switches landed on it.
template <typename acc_t, typename int_t>
ZF_VEC_INLINE int64_t gather_pixel(const acc_t* y, const int_t* wide, const PixelTerms& terms, int64_t C, acc_t* out) {
  constexpr int lanes = VecOf<acc_t>::lanes, block = 2;
  Vec<int_t> hits;
  broadcast(hits, int_t(0));
  int64_t c = 0, landed = 0;
  for (; c + block * lanes <= C; c += block * lanes) gather_block<block>(y, wide, terms, c, out, hits);
  for (; c + lanes <= C; c += lanes) gather_block<1>(y, wide, terms, c, out, hits);
  for (int i = 0; i < lanes; ++i) landed -= hits[i];
  for (; c < C; ++c) {
    acc_t sum = 0;
    for (int64_t t = 0; t < terms.count; ++t) {
      const bool hit = wide[terms.wide_at[t] + c] == terms.k[t];
      sum = hit ? sum + y[terms.at[t] + c] : sum;
      landed += hit;
    }
    out[c] = sum;
  }
  return landed;
}

// One tap (window offset k) of one pooled pixel: acc[c] += y[c] where the switch is k. The sum is
// computed everywhere and selected, so with -fno-trapping-math the loop vectorises. Returns how
// many switches matched.
template <typename scalar_t, typename switch_t, typename acc_t>
inline int64_t unpool_tap_span(const scalar_t* __restrict__ y, const switch_t* __restrict__ switches, switch_t k,
                               acc_t* __restrict__ acc, int64_t count) {
  int64_t landed = 0;
  for (int64_t i = 0; i < count; ++i) {
    const acc_t before = acc[i], after = before + static_cast<acc_t>(y[i]);
    const bool hit = switches[i] == k;
    acc[i] = hit ? after : before;
    landed += hit;
  }
  return landed;
}

// Scratch of one thread for unpool2d_row_cl: C acc_t, and the switches of the windows over one input
// row widened to acc_t's width (float32/float64 only).
template <typename acc_t>
struct UnpoolRowScratch {
  using int_t = std::conditional_t<sizeof(acc_t) == 8, int64_t, int32_t>;  // a compare mask of acc_t's width
  std::vector<acc_t> acc;
  std::vector<int_t> wide;

  UnpoolRowScratch(const Pool2dGeometry& g, int64_t C, const PixelTerms& terms, bool widen)
      : acc(C), wide(widen ? terms.most_rows * g.out_w * C : 0) {}
};

// channels_last: input row ih of one image, every pixel with all channels together, each gathered
// from the windows that contain it in ascending (oh, ow), the order unpool2d_at adds them: in
// registers (gather_pixel) against switches widened once per row, or for float16/bfloat16 tap by
// tap in scratch.acc. `y` and `switches` point at pooled pixel (0, 0) of one image, `out` at the
// row. Returns how many switches landed here (see unpool2d_plane for why that validates them).
template <typename scalar_t, typename switch_t, typename acc_t>
ZF_CPU_CLONES int64_t unpool2d_row_cl(const scalar_t* y, const switch_t* switches, int64_t ih, int64_t C,
                                      const Pool2dGeometry& g, const Covers& rows, const Covers& cols,
                                      PixelTerms& terms, UnpoolRowScratch<acc_t>& scratch, scalar_t* out) {
  const int64_t pooled_row = g.out_w * C;
  if constexpr (std::is_same_v<acc_t, scalar_t>) {
    for (int64_t r = rows.first[ih]; r < rows.first[ih + 1]; ++r) {
      const switch_t* from = switches + rows.output[r] * pooled_row;
      auto* to = scratch.wide.data() + (r - rows.first[ih]) * pooled_row;
      for (int64_t i = 0; i < pooled_row; ++i) to[i] = from[i];
    }
  }
  int64_t landed = 0;
  for (int64_t iw = 0; iw < g.in_w; ++iw) {
    terms.gather(ih, iw, C, g, rows, cols);
    if constexpr (std::is_same_v<acc_t, scalar_t>) {
      landed += gather_pixel(y, scratch.wide.data(), terms, C, out + iw * C);
    } else {
      acc_t* acc = scratch.acc.data();
      std::fill(acc, acc + C, acc_t(0));
      for (int64_t t = 0; t < terms.count; ++t) {
        landed += unpool_tap_span(y + terms.at[t], switches + terms.at[t], static_cast<switch_t>(terms.k[t]), acc, C);
      }
      std::copy(acc, acc + C, out + iw * C);
    }
  }
  return landed;
}

}  // namespace zfcuda::cpu
