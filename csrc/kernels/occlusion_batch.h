// One element of an occlusion batch: the image, or the fill where the occluder covers it.
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

// Element (b, c, h, w) of the batch; `positions` holds B rows (top, left), int64, contiguous.
// Patches may lie partly outside the image: only the covered pixels change.
template <typename scalar_t>
ZF_HOST_DEVICE inline scalar_t occlusion_at(const scalar_t* image, const scalar_t* fill, const int64_t* positions,
                                            int64_t b, int64_t c, int64_t h, int64_t w,
                                            const OcclusionGeometry& g) {
  const int64_t top = positions[2 * b], left = positions[2 * b + 1];
  // top <= h < top + patch, written so that no huge position or patch size can overflow.
  const bool covered = top <= h && top > h - g.patch_h && left <= w && left > w - g.patch_w;
  return covered ? fill[c * g.fill_strides[0] + h * g.fill_strides[1] + w * g.fill_strides[2]]
                 : image[c * g.image_strides[0] + h * g.image_strides[1] + w * g.image_strides[2]];
}

}  // namespace zfcuda
