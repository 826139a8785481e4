// ZF_HOST_DEVICE: marks the per-element bodies that both the CPU build and nvcc compile.
// ZF_FORCE_INLINE: bodies whose arguments must stay in registers (an outlined call would put the
// structs it takes by reference in local memory).
#pragma once

#ifdef __CUDACC__
#define ZF_HOST_DEVICE __host__ __device__
#define ZF_FORCE_INLINE __forceinline__
#else
#define ZF_HOST_DEVICE
#define ZF_FORCE_INLINE inline
#endif
