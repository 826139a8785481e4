// dtype dispatch shared by the CPU and CUDA entry points.
#pragma once

#include <ATen/Dispatch.h>

#include <cstdint>

// Runs the lambda `__VA_ARGS__` with `switch_t` defined as the switch dtype: uint8 or int32. A
// macro rather than a generic lambda because nvcc forbids __device__ lambdas inside generic ones.
#define ZF_DISPATCH_SWITCH(switch_dtype, ...) \
  [&] {                                       \
    if ((switch_dtype) == at::kByte) {        \
      using switch_t = uint8_t;               \
      return __VA_ARGS__();                   \
    }                                         \
    using switch_t = int32_t;                 \
    return __VA_ARGS__();                     \
  }()

#define ZF_DISPATCH_FLOATING(dtype, name, ...) \
  AT_DISPATCH_FLOATING_TYPES_AND2(at::kHalf, at::kBFloat16, dtype, name, __VA_ARGS__)
