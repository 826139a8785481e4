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
  constexpr int chunk = (V * sizeof(T)) % 16 == 0 ? 16 / sizeof(T)
                        : (V * sizeof(T)) % 8 == 0 ? 8 / sizeof(T)
                        : (V * sizeof(T)) % 4 == 0 ? 4 / sizeof(T)
                                                    : 0;
  if constexpr (chunk > 1) {
    constexpr int bytes = chunk * sizeof(T);
    struct alignas(bytes) Pack {
      T v[chunk];
    };
    if (count == V && reinterpret_cast<uintptr_t>(dst) % bytes == 0) {
#pragma unroll
      for (int c = 0; c < V / chunk; ++c) {
        Pack pack;
#pragma unroll
        for (int i = 0; i < chunk; ++i) pack.v[i] = values[c * chunk + i];
        reinterpret_cast<Pack*>(dst)[c] = pack;
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
