// Generic argument checks used by every op's validation. Each failure is a Python ValueError or
// TypeError whose message names the argument and what was expected.
#pragma once

#include <ATen/ATen.h>

#include <string>

namespace zfcuda {

// input must be float16, bfloat16, float32 or float64.
void check_floating(const at::Tensor& t, const char* op, const char* name);
// t must be 3-D (C, H, W) or 4-D (N, C, H, W).
void check_image_rank(const at::Tensor& t, const char* op, const char* name);
void check_same_device(const at::Tensor& a, const char* a_name, const at::Tensor& b, const char* b_name,
                       const char* op);
// An int[2] argument with every entry >= min_value.
void check_pair(at::IntArrayRef v, int64_t min_value, const char* op, const char* name);
std::string shape_string(at::IntArrayRef sizes);

}  // namespace zfcuda
