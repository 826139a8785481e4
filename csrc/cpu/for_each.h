// The CPU launcher shared by every op: visits each element of a 4-D output in memory order.
#pragma once

#include <ATen/Parallel.h>

#include <algorithm>

#include "../kernels/layout.h"

namespace zfcuda::cpu {

// Calls fn(n, c, h, w, offset) for every element of `out`, in parallel over rows of memory.
// The innermost loop runs over the contiguous dimension (W for NCHW, C for NHWC) with no
// division, so simple per-element bodies vectorise.
template <typename F>
void for_each_element(const Layout4d& out, const F& fn) {
  if (out.numel() == 0) return;
  const int64_t inner = out.channels_last ? out.c : out.w;
  const int64_t rows = out.numel() / inner;
  const int64_t grain = std::max<int64_t>(1, at::internal::GRAIN_SIZE / inner);
  at::parallel_for(0, rows, grain, [&](int64_t begin, int64_t end) {
    for (int64_t row = begin; row < end; ++row) {
      const int64_t base = row * inner;
      if (out.channels_last) {
        const int64_t wi = row % out.w, hi = (row / out.w) % out.h, ni = row / (out.w * out.h);
        for (int64_t ci = 0; ci < inner; ++ci) fn(ni, ci, hi, wi, base + ci);
      } else {
        const int64_t hi = row % out.h, ci = (row / out.h) % out.c, ni = row / (out.h * out.c);
        for (int64_t wi = 0; wi < inner; ++wi) fn(ni, ci, hi, wi, base + wi);
      }
    }
  });
}

}  // namespace zfcuda::cpu
