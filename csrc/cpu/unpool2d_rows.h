// CPU fast paths of unpool2d_switches: whole NCHW planes, or channels_last pixels.
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

namespace zfcuda::cpu {

// Window row and column of each switch value, so the plane loop divides nothing.
struct SwitchTable {
  std::vector<int32_t> kh, kw;
  explicit SwitchTable(const Pool2dGeometry& g) : kh(g.window_size()), kw(g.window_size()) {
    for (int64_t k = 0; k < g.window_size(); ++k) {
      kh[k] = static_cast<int32_t>(k / g.kernel_w);
      kw[k] = static_cast<int32_t>(k % g.kernel_w);
    }
  }
};

// One plane, unpooled by scattering each pooled value to its switch, into `acc` (in_h * in_w,
// small enough to stay in cache) which is then written out once. Visiting the pooled outputs in
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
  const int64_t window = g.window_size();
  int64_t landed = 0;
  std::fill(acc, acc + g.in_h * g.in_w, acc_t(0));
  for (int64_t oh = 0; oh < g.out_h; ++oh) {
    for (int64_t ow = 0; ow < g.out_w; ++ow) {
      const int64_t k = static_cast<int64_t>(switches[oh * g.out_w + ow]);
      if (k < 0 || k >= window) continue;
      const int64_t ih = oh * g.stride_h - g.pad_h + table.kh[k] * g.dilation_h;
      const int64_t iw = ow * g.stride_w - g.pad_w + table.kw[k] * g.dilation_w;
      if (ih < 0 || ih >= g.in_h || iw < 0 || iw >= g.in_w) continue;
      acc[ih * g.in_w + iw] += static_cast<acc_t>(y[oh * g.out_w + ow]);
      ++landed;
    }
  }
  if constexpr (!std::is_same_v<acc_t, scalar_t>) std::copy(acc, acc + g.in_h * g.in_w, out);
  return landed;
}

// One tap (window offset k) of one pooled pixel: acc[c] += y[c] where the switch is k. The sum is
// computed everywhere and selected, so with -fno-trapping-math the loop vectorises. Returns how
// many switches matched.
template <typename scalar_t, typename switch_t, typename acc_t>
ZF_CPU_CLONES int64_t unpool_tap_span(const scalar_t* __restrict__ y, const switch_t* __restrict__ switches, switch_t k,
                        acc_t* __restrict__ acc, int64_t begin, int64_t end) {
  int64_t landed = 0;
  for (int64_t i = begin; i < end; ++i) {
    const acc_t before = acc[i], after = before + static_cast<acc_t>(y[i]);
    const bool hit = switches[i] == k;
    acc[i] = hit ? after : before;
    landed += hit;
  }
  return landed;
}

// channels_last: input pixel (ih, iw) of one image, all channels together, gathered from the
// windows that contain it in ascending (oh, ow), the order unpool2d_at adds them. `y` and
// `switches` point at pooled pixel (0, 0) of one image; `acc` holds C acc_t. Returns how many
// switches landed here (see unpool2d_plane for why that validates them).
template <typename scalar_t, typename switch_t>
int64_t unpool2d_pixel_cl(const scalar_t* y, const switch_t* switches, int64_t ih, int64_t iw, int64_t C,
                          const Pool2dGeometry& g, at::opmath_type<scalar_t>* acc, scalar_t* out) {
  using acc_t = at::opmath_type<scalar_t>;
  int64_t landed = 0;
  std::fill(acc, acc + C, acc_t(0));
  for (int64_t kh = g.kernel_h - 1; kh >= 0; --kh) {
    const int64_t th = ih + g.pad_h - kh * g.dilation_h;
    if (th < 0 || th % g.stride_h != 0 || th / g.stride_h >= g.out_h) continue;
    const int64_t oh = th / g.stride_h;
    for (int64_t kw = g.kernel_w - 1; kw >= 0; --kw) {
      const int64_t tw = iw + g.pad_w - kw * g.dilation_w;
      if (tw < 0 || tw % g.stride_w != 0 || tw / g.stride_w >= g.out_w) continue;
      const int64_t at = (oh * g.out_w + tw / g.stride_w) * C;
      landed += unpool_tap_span(y + at, switches + at, static_cast<switch_t>(kh * g.kernel_w + kw), acc, 0, C);
    }
  }
  std::copy(acc, acc + C, out);
  return landed;
}

}  // namespace zfcuda::cpu
