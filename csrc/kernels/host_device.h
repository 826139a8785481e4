// ZF_HOST_DEVICE: marks the per-element bodies that both the CPU build and nvcc compile.
#pragma once

#ifdef __CUDACC__
#define ZF_HOST_DEVICE __host__ __device__
#else
#define ZF_HOST_DEVICE
#endif
