// The geometry of a 2-D pooling (Pool2dGeometry) and where a switch points (switch_target).
#pragma once

#include <cstdint>

#include "host_device.h"

namespace zfcuda {

// Geometry of one 2-D pooling window layout over one (H, W) plane.
struct Pool2dGeometry {
  int64_t in_h, in_w;    // pooled input plane
  int64_t out_h, out_w;  // pooled output plane
  int64_t kernel_h, kernel_w;
  int64_t stride_h, stride_w;
  int64_t pad_h, pad_w;
  int64_t dilation_h, dilation_w;

  ZF_HOST_DEVICE int64_t window_size() const { return kernel_h * kernel_w; }
};

// Where switch `k` of output (oh, ow) points in the input plane. Returns false when `k` is outside
// the window or points into the padding: such a switch cannot come from max_pool2d_switches.
template <typename switch_t>
ZF_HOST_DEVICE inline bool switch_target(switch_t k, int64_t oh, int64_t ow, const Pool2dGeometry& g,
                                         int64_t& ih, int64_t& iw) {
  const int64_t kk = static_cast<int64_t>(k);
  if (kk < 0 || kk >= g.window_size()) return false;
  ih = oh * g.stride_h - g.pad_h + (kk / g.kernel_w) * g.dilation_h;
  iw = ow * g.stride_w - g.pad_w + (kk % g.kernel_w) * g.dilation_w;
  return ih >= 0 && ih < g.in_h && iw >= 0 && iw < g.in_w;
}

}  // namespace zfcuda
