// dtype dispatch shared by the CPU and CUDA entry points.
#pragma once

#include <ATen/Dispatch.h>

#include <cstdint>

// Runs the generic lambda `fn(switch_t{})` for the switch dtype: uint8 or int32.
#define ZF_DISPATCH_SWITCH(switch_dtype, fn) \
  ((switch_dtype) == at::kByte ? (fn)(uint8_t{}) : (fn)(int32_t{}))

#define ZF_DISPATCH_FLOATING(dtype, name, ...) \
  AT_DISPATCH_FLOATING_TYPES_AND2(at::kHalf, at::kBFloat16, dtype, name, __VA_ARGS__)
