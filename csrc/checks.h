// Argument validation shared by the CPU and CUDA entry points. Each failure is a Python
// ValueError or TypeError whose message names the argument and what was expected.
#pragma once

#include <ATen/ATen.h>

#include <string>

#include "kernels/common.h"

namespace zfcuda {

// input must be float16, bfloat16, float32 or float64.
void check_floating(const at::Tensor& t, const char* op, const char* name);
// t must be 3-D (C, H, W) or 4-D (N, C, H, W).
void check_image_rank(const at::Tensor& t, const char* op, const char* name);
void check_same_device(const at::Tensor& a, const char* a_name, const at::Tensor& b, const char* b_name,
                       const char* op);
// An int[2] argument with every entry >= min_value.
void check_pair(at::IntArrayRef v, int64_t min_value, const char* op, const char* name);
// kernel/stride/dilation >= 1, 0 <= padding <= kernel/2; returns the pooled plane size of
// (in_h, in_w) or raises when the kernel does not fit the padded input.
Pool2dGeometry pool_geometry(int64_t in_h, int64_t in_w, at::IntArrayRef kernel_size, at::IntArrayRef stride,
                             at::IntArrayRef padding, at::IntArrayRef dilation, bool ceil_mode, const char* op);
// Pooled length of one dimension, as nn.MaxPool2d computes it.
int64_t pooled_length(int64_t in, int64_t kernel, int64_t stride, int64_t pad, int64_t dilation, bool ceil_mode);
// uint8 when every window offset fits a byte, int32 otherwise.
at::ScalarType switch_dtype(const Pool2dGeometry& g);
// switches must have the dtype switch_dtype(g) gives.
void check_switch_dtype(const at::Tensor& switches, const Pool2dGeometry& g, const char* op);
// Checks `switches` against the pooled tensor `pooled` (same shape, device and the dtype
// switch_dtype(g) gives).
void check_switches(const at::Tensor& switches, const at::Tensor& pooled, const Pool2dGeometry& g, const char* op,
                    const char* pooled_name);
std::string shape_string(at::IntArrayRef sizes);

}  // namespace zfcuda
