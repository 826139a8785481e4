// Pooling with given switches: read the input at each recorded argmax.
#pragma once

#include "pool2d_window.h"

namespace zfcuda {

// Where switch `k` of output (oh, ow) points in the input plane, for a window type of
// pool2d_window.h (one division by the kernel width, a multiply for compiled-in windows). Returns
// false when `k` is outside the window or points into the padding: such a switch cannot come from
// max_pool2d_switches.
template <typename switch_t, typename index_t, typename Window>
ZF_HOST_DEVICE inline bool switch_target_in(switch_t k, index_t oh, index_t ow, const PlaneSizes<index_t>& s,
                                            const Window& win, index_t& ih, index_t& iw) {
  const int kk = static_cast<int>(k);
  if (kk < 0 || kk >= win.kernel_h() * win.kernel_w()) return false;
  const int kh = kk / win.kernel_w(), kw = kk - kh * win.kernel_w();
  ih = oh * win.stride_h() - win.pad_h() + kh * win.dilation_h();
  iw = ow * win.stride_w() - win.pad_w() + kw * win.dilation_w();
  return ih >= 0 && ih < s.in_h && iw >= 0 && iw < s.in_w;
}

// Output (oh, ow) of one plane: x at the position switch `k` selects. An invalid switch reads
// nothing (returns 0) and sets ok to false, so a bad switch never reads out of bounds.
template <typename scalar_t, typename switch_t, typename index_t, typename Window>
ZF_HOST_DEVICE inline scalar_t gather2d_at(const scalar_t* __restrict__ x, index_t row_stride, index_t col_stride,
                                           const PlaneSizes<index_t>& s, const Window& win, switch_t k, index_t oh,
                                           index_t ow, bool& ok) {
  index_t ih = 0, iw = 0;
  if (!switch_target_in(k, oh, ow, s, win, ih, iw)) {
    ok = false;
    return scalar_t(0);
  }
  return x[ih * row_stride + iw * col_stride];
}

}  // namespace zfcuda
