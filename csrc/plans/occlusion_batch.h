// The plan of occlusion_batch: argument checks, layout and output allocation, shared by CPU and CUDA.
#pragma once

#include <ATen/ATen.h>

#include "../kernels/layout.h"
#include "../kernels/occlusion_batch.h"

namespace zfcuda {

struct OcclusionPlan {
  at::Tensor image, positions, fill, output;
  OcclusionGeometry geometry;
  Layout4d output_layout;
};

OcclusionPlan plan_occlusion_batch(const at::Tensor& image, const at::Tensor& positions, at::IntArrayRef patch_size,
                                   const at::Tensor& fill);

}  // namespace zfcuda
