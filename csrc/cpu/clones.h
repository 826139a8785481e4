// ZF_CPU_CLONES: compile a vectorised inner loop twice, for AVX2 and for the x86-64 baseline
// (SSE2); the loader picks one for the running CPU (GCC function multiversioning).
#pragma once

#if defined(__x86_64__) && defined(__GNUC__) && !defined(__clang__)
#define ZF_CPU_CLONES __attribute__((target_clones("avx2", "default")))
#else
#define ZF_CPU_CLONES
#endif
