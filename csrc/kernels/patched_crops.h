// One element of a patched crop: a window of a stored activation map, with an updated patch
// pasted over it and a pad value outside the map (the incremental occlusion engine's input).
#pragma once

#include <cstdint>

#include "host_device.h"

namespace zfcuda {

struct PatchedCropGeometry {
  int64_t channels, height, width;     // the stored map (C, H, W)
  int64_t patch_h, patch_w;            // each position's updated patch (B, C, patch_h, patch_w)
  int64_t base_strides[3];             // (C, H, W) strides of the stored map
  int64_t patch_strides[4];            // (B, C, h, w) strides of the patches
};

// Element (b, c, y, x) of crop b: map position (crop_top + y, crop_left + x) of channel c, taken
// from patch b where the patch covers it, else from the stored map, else (outside the map) `pad`.
// `patch_origins` and `crop_origins` hold B rows (top, left) in map coordinates, int64, contiguous.
template <typename scalar_t>
ZF_HOST_DEVICE inline scalar_t patched_crop_at(const scalar_t* base, const scalar_t* patches, const int64_t* patch_origins,
                                               const int64_t* crop_origins, scalar_t pad, int64_t b, int64_t c, int64_t y,
                                               int64_t x, const PatchedCropGeometry& g) {
  const int64_t my = crop_origins[2 * b] + y, mx = crop_origins[2 * b + 1] + x;
  const int64_t py = my - patch_origins[2 * b], px = mx - patch_origins[2 * b + 1];
  if (py >= 0 && py < g.patch_h && px >= 0 && px < g.patch_w) {
    return patches[b * g.patch_strides[0] + c * g.patch_strides[1] + py * g.patch_strides[2] + px * g.patch_strides[3]];
  }
  if (my >= 0 && my < g.height && mx >= 0 && mx < g.width) {
    return base[c * g.base_strides[0] + my * g.base_strides[1] + mx * g.base_strides[2]];
  }
  return pad;
}

}  // namespace zfcuda
