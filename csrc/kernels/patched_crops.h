// Patched crops: windows of a stored activation map, with an updated patch pasted over each and
// a pad value outside the map (the incremental occlusion engine's input).
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

// The same with the crop size, in 32 bits inside one patch and one map (the plan checks they fit);
// the batch stride stays 64-bit, since the patches of a launch chunk may span more.
struct PatchedCropStrides {
  int32_t height, width, crop_w, patch_h, patch_w;
  int32_t base_strides[3];
  int64_t patch_strides[1];
  int32_t patch_inner_strides[3];  // (C, h, w)

  static PatchedCropStrides of(const PatchedCropGeometry& g, int64_t crop_w) {
    PatchedCropStrides s{static_cast<int32_t>(g.height), static_cast<int32_t>(g.width), static_cast<int32_t>(crop_w),
                         static_cast<int32_t>(g.patch_h), static_cast<int32_t>(g.patch_w), {}, {g.patch_strides[0]}, {}};
    for (int d = 0; d < 3; ++d) {
      s.base_strides[d] = static_cast<int32_t>(g.base_strides[d]);
      s.patch_inner_strides[d] = static_cast<int32_t>(g.patch_strides[d + 1]);
    }
    return s;
  }
};

// Elements x0 .. x0 + V of row y, channel c, of one crop: map position (crop_top + y, crop_left + x),
// taken from the crop's patch where the patch covers it, else from the stored map, else (outside the
// map) `pad`. `patch` points at this crop's patch; `patch_origin` / `crop_origin` at its (top, left)
// in map coordinates. Elements at or past the crop width are left unset.
template <int V, typename scalar_t>
ZF_HOST_DEVICE inline void patched_crop_strip(const scalar_t* __restrict__ base, const scalar_t* __restrict__ patch,
                                              const int64_t* patch_origin, const int64_t* crop_origin, scalar_t pad,
                                              int32_t c, int32_t y, int32_t x0, const PatchedCropStrides& g,
                                              scalar_t (&values)[V]) {
  const int64_t my = crop_origin[0] + y, py = my - patch_origin[0];
  const int64_t mx0 = crop_origin[1] + x0, px0 = mx0 - patch_origin[1];
  const bool patch_row = py >= 0 && py < g.patch_h, map_row = my >= 0 && my < g.height;
  // Row pointers only where the row exists, so no out-of-range pointer is ever formed.
  const scalar_t* patch_row_ptr = patch + c * g.patch_inner_strides[0] +
                                  (patch_row ? static_cast<int32_t>(py) : 0) * g.patch_inner_strides[1];
  const scalar_t* base_row_ptr = base + c * g.base_strides[0] + (map_row ? static_cast<int32_t>(my) : 0) * g.base_strides[1];
#pragma unroll
  for (int j = 0; j < V; ++j) {
    if (x0 + j >= g.crop_w) continue;
    const int64_t px = px0 + j, mx = mx0 + j;
    if (patch_row && px >= 0 && px < g.patch_w) {
      values[j] = patch_row_ptr[static_cast<int32_t>(px) * g.patch_inner_strides[2]];
    } else if (map_row && mx >= 0 && mx < g.width) {
      values[j] = base_row_ptr[static_cast<int32_t>(mx) * g.base_strides[2]];
    } else {
      values[j] = pad;
    }
  }
}

}  // namespace zfcuda
