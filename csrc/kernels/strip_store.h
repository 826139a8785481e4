// Stores of a thread's run of consecutive outputs: 16-byte (or 8-, 4-byte) vector stores on the GPU
// when the run is whole and aligned, element by element otherwise (and always on the CPU).
#pragma once

#include <cstdint>

#include "host_device.h"

namespace zfcuda {

// Writes values[0 .. count) to dst[0 .. count); count <= V.
template <int V, typename T>
ZF_HOST_DEVICE inline void store_strip(T* __restrict__ dst, const T (&values)[V], int count) {
#ifdef __CUDA_ARCH__
  // Whole runs that are aligned go out as 16-, 8- or 4-byte words assembled in registers.
  constexpr int bytes = V * static_cast<int>(sizeof(T));
  constexpr int word = bytes % 16 == 0 ? 16 : bytes % 8 == 0 ? 8 : bytes % 4 == 0 ? 4 : 0;
  if constexpr (word != 0) {
    if (count == V && reinterpret_cast<uintptr_t>(dst) % word == 0) {
      uint32_t words[bytes / 4];
      memcpy(words, values, bytes);
#pragma unroll
      for (int i = 0; i < bytes / word; ++i) {
        if constexpr (word == 16) {
          reinterpret_cast<uint4*>(dst)[i] = make_uint4(words[4 * i], words[4 * i + 1], words[4 * i + 2], words[4 * i + 3]);
        } else if constexpr (word == 8) {
          reinterpret_cast<uint2*>(dst)[i] = make_uint2(words[2 * i], words[2 * i + 1]);
        } else {
          reinterpret_cast<uint32_t*>(dst)[i] = words[i];
        }
      }
      return;
    }
  }
#endif
#pragma unroll
  for (int v = 0; v < V; ++v) {
    if (v < count) dst[v] = values[v];
  }
}

}  // namespace zfcuda
