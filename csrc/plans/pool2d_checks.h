// Pooling argument checks: pooling arguments -> Pool2dGeometry, and the rules switches must follow.
// Failures raise a ValueError or TypeError, as in checks.h.
#pragma once

#include <ATen/ATen.h>

#include "../kernels/pool2d_geometry.h"

namespace zfcuda {

// kernel/stride/dilation >= 1, 0 <= padding <= kernel/2; returns the pooled plane size of
// (in_h, in_w) or raises when the kernel does not fit the padded input.
Pool2dGeometry pool_geometry(int64_t in_h, int64_t in_w, at::IntArrayRef kernel_size, at::IntArrayRef stride,
                             at::IntArrayRef padding, at::IntArrayRef dilation, bool ceil_mode, const char* op);
// Pooled length of one dimension, as nn.MaxPool2d computes it.
int64_t pooled_length(int64_t in, int64_t kernel, int64_t stride, int64_t pad, int64_t dilation, bool ceil_mode);
// Geometry for pooled plane (out_h, out_w) of an input plane (in_h, in_w): the pooled size must be
// what nn.MaxPool2d gives with ceil_mode False or True, since the switch ops do not take ceil_mode.
Pool2dGeometry matching_geometry(int64_t in_h, int64_t in_w, int64_t out_h, int64_t out_w,
                                 at::IntArrayRef kernel_size, at::IntArrayRef stride, at::IntArrayRef padding,
                                 at::IntArrayRef dilation, const char* op, const char* input_name,
                                 const char* pooled_name);
// uint8 when every window offset fits a byte, int32 otherwise.
at::ScalarType switch_dtype(const Pool2dGeometry& g);
// switches must have the dtype switch_dtype(g) gives.
void check_switch_dtype(const at::Tensor& switches, const Pool2dGeometry& g, const char* op);
// Checks `switches` against the pooled tensor `pooled` (same shape, device and the dtype
// switch_dtype(g) gives).
void check_switches(const at::Tensor& switches, const at::Tensor& pooled, const Pool2dGeometry& g, const char* op,
                    const char* pooled_name);
// Raised after a kernel has found switches that no max pooling with this geometry can produce.
[[noreturn]] void fail_invalid_switches(const char* op, const Pool2dGeometry& g);

}  // namespace zfcuda
