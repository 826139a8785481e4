// The occlusion batch: the image, or the fill where the occluder covers it.
#pragma once

#include <cstdint>

#include "host_device.h"

namespace zfcuda {

struct OcclusionGeometry {
  int64_t channels, height, width;
  int64_t patch_h, patch_w;
  int64_t image_strides[3];  // (C, H, W) strides of the image, in elements
  int64_t fill_strides[3];   // (C, H, W) strides of the fill broadcast to the image (0 where broadcast)
};

// The same in 32 bits for the GPU's strips (the plan checks that the image's offsets fit).
struct OcclusionStrides {
  int32_t height, width;
  int64_t patch_h, patch_w;  // compared with int64 positions, which may lie far outside the image
  int32_t image_strides[3], fill_strides[3];

  static OcclusionStrides of(const OcclusionGeometry& g) {
    OcclusionStrides s{static_cast<int32_t>(g.height), static_cast<int32_t>(g.width), g.patch_h, g.patch_w, {}, {}};
    for (int d = 0; d < 3; ++d) {
      s.image_strides[d] = static_cast<int32_t>(g.image_strides[d]);
      s.fill_strides[d] = static_cast<int32_t>(g.fill_strides[d]);
    }
    return s;
  }
};

// Pixels w0 .. w0 + V of row h, channel c, for an occluder with top-left corner (top, left); pixels
// at or past the width are left unset. Patches may lie partly outside the image: only the covered
// pixels change. `top <= h < top + patch` is written so that no position or patch size overflows.
template <int V, typename scalar_t>
ZF_HOST_DEVICE inline void occlusion_strip(const scalar_t* __restrict__ image, const scalar_t* __restrict__ fill,
                                           int64_t top, int64_t left, int32_t c, int32_t h, int32_t w0,
                                           const OcclusionStrides& g, scalar_t (&values)[V]) {
  const bool covered_row = top <= h && top > h - g.patch_h;
  const scalar_t* image_row = image + c * g.image_strides[0] + h * g.image_strides[1];
  const scalar_t* fill_row = fill + c * g.fill_strides[0] + h * g.fill_strides[1];
#pragma unroll
  for (int j = 0; j < V; ++j) {
    const int32_t w = w0 + j;
    if (w >= g.width) continue;
    const bool covered = covered_row && left <= w && left > w - g.patch_w;
    values[j] = covered ? fill_row[w * g.fill_strides[2]] : image_row[w * g.image_strides[2]];
  }
}

}  // namespace zfcuda
