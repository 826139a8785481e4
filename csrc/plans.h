// Validation, layout and output allocation for each op: everything before and after the loop,
// shared by the CPU and CUDA entry points so the two devices agree on every argument rule.
#pragma once

#include <ATen/ATen.h>

#include <tuple>

#include "kernels/layout.h"
#include "kernels/occlusion_batch.h"
#include "kernels/patched_crops.h"

namespace zfcuda {

// One pooled-plane op: `source` is read, `output` (and for max pooling `switches`) written.
// Both are 4-D and contiguous in one memory format; `batched` is false when the caller passed
// 3-D tensors, which are returned without the added batch dimension.
struct Pool2dPlan {
  at::Tensor source, switches, output;
  Layout4d source_layout, output_layout;
  Pool2dGeometry geometry;
  bool batched;

  at::Tensor unbatch(const at::Tensor& t) const { return batched ? t : t.squeeze(0); }
};

Pool2dPlan plan_max_pool2d(const at::Tensor& input, at::IntArrayRef kernel_size, at::IntArrayRef stride,
                           at::IntArrayRef padding, at::IntArrayRef dilation, bool ceil_mode);
// source = y (the pooled tensor), output = the unpooled tensor of spatial size input_size.
Pool2dPlan plan_unpool2d(const at::Tensor& y, const at::Tensor& switches, at::IntArrayRef input_size,
                         at::IntArrayRef kernel_size, at::IntArrayRef stride, at::IntArrayRef padding,
                         at::IntArrayRef dilation);
// source = input, output shaped like switches.
Pool2dPlan plan_gather2d(const at::Tensor& input, const at::Tensor& switches, at::IntArrayRef kernel_size,
                         at::IntArrayRef stride, at::IntArrayRef padding, at::IntArrayRef dilation);
// Raised after a kernel has found switches that no max pooling with this geometry can produce.
[[noreturn]] void fail_invalid_switches(const char* op, const Pool2dGeometry& g);

struct OcclusionPlan {
  at::Tensor image, positions, fill, output;
  OcclusionGeometry geometry;
  Layout4d output_layout;
};

OcclusionPlan plan_occlusion_batch(const at::Tensor& image, const at::Tensor& positions, at::IntArrayRef patch_size,
                                   const at::Tensor& fill);

struct PatchedCropPlan {
  at::Tensor base, patches, patch_origins, crop_origins, output;
  PatchedCropGeometry geometry;
  Layout4d output_layout;
};

PatchedCropPlan plan_patched_crops(const at::Tensor& base, const at::Tensor& patches, const at::Tensor& patch_origins,
                                   const at::Tensor& crop_origins, at::IntArrayRef crop_size);

}  // namespace zfcuda
