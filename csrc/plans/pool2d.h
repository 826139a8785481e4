// The plans of the pooled-plane ops (max_pool2d_switches, unpool2d_switches, gather2d_switches).
//
// A plan is an op's validation, layout and output allocation: everything before and after the
// loop, shared by the CPU and CUDA entry points so the two devices agree on every argument rule.
#pragma once

#include <ATen/ATen.h>

#include "../kernels/layout.h"
#include "../kernels/pool2d_geometry.h"
#include "pool2d_checks.h"  // fail_invalid_switches, raised by the entry points after their loop

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

}  // namespace zfcuda
