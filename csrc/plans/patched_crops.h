// The plan of patched_crops: argument checks, layout and output allocation, shared by CPU and CUDA.
#pragma once

#include <ATen/ATen.h>

#include "../kernels/layout.h"
#include "../kernels/patched_crops.h"

namespace zfcuda {

struct PatchedCropPlan {
  at::Tensor base, patches, patch_origins, crop_origins, output;
  PatchedCropGeometry geometry;
  Layout4d output_layout;
};

PatchedCropPlan plan_patched_crops(const at::Tensor& base, const at::Tensor& patches, const at::Tensor& patch_origins,
                                   const at::Tensor& crop_origins, at::IntArrayRef crop_size);

}  // namespace zfcuda
