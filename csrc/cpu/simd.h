// Vec<T>: 32 bytes of T lanes as a GCC/Clang vector type, for the loops that keep a block of
// running results in registers across taps (the compiler's loop vectoriser keeps them in memory
// between taps, and does not vectorise a block of scalars). In a ZF_CPU_CLONES function it is one
// AVX2 register; in the baseline clone, two SSE registers.
#pragma once

#include <cstdint>
#include <cstring>

// Code on Vec must be inlined into the ZF_CPU_CLONES function that runs it: a function of its own
// is compiled for the baseline target, its vectors split into SSE halves before any inlining. So
// it is marked ZF_VEC_INLINE, and passes vectors by reference (by value, the baseline target would
// pass them in memory, and GCC warns that this differs from AVX).
#define ZF_VEC_INLINE __attribute__((always_inline)) inline

namespace zfcuda::cpu {

template <typename T>
struct VecOf {
  static constexpr int lanes = 32 / static_cast<int>(sizeof(T));
  typedef T type __attribute__((vector_size(32)));
};

template <typename T>
using Vec = typename VecOf<T>::type;

// Unaligned loads and stores: memcpy of a fixed size compiles to one vector move.
template <typename T>
ZF_VEC_INLINE void load_vec(Vec<T>& v, const T* p) {
  std::memcpy(&v, p, sizeof(v));
}

template <typename T>
ZF_VEC_INLINE void store_vec(T* p, const Vec<T>& v) {
  std::memcpy(p, &v, sizeof(v));
}

// Asks for the cache lines `kPrefetchAhead` bytes past [p, p + bytes): the loops that walk several
// streams at once (one per tap or term) do not get them from the hardware prefetcher in time (2 KB
// ahead took a channels_last 3x3/2 pool of 64x256x26x26 from 7.1 to 5.3 ms on one Zen 4 core).
inline constexpr int64_t kPrefetchAhead = 2048;

ZF_VEC_INLINE void prefetch_ahead(const void* p, int64_t bytes) {
  for (int64_t b = 0; b < bytes; b += 64) __builtin_prefetch(static_cast<const char*>(p) + kPrefetchAhead + b);
}

template <typename T>
ZF_VEC_INLINE void broadcast(Vec<T>& v, T value) {
  Vec<T> lanes{};
  for (int i = 0; i < VecOf<T>::lanes; ++i) lanes[i] = value;  // compiles to one broadcast
  v = lanes;
}

}  // namespace zfcuda::cpu
