// The CUDA launcher shared by every op: one thread per output element, grid-stride.
#pragma once

#include <ATen/cuda/CUDAContext.h>
#include <c10/cuda/CUDAException.h>

#include <algorithm>
#include <limits>

#include "../kernels/layout.h"

namespace zfcuda::cuda {

template <typename index_t, typename F>
__global__ void for_each_element_kernel(Layout4d out, index_t numel, F fn) {
  const index_t step = static_cast<index_t>(blockDim.x) * gridDim.x;
  for (index_t i = static_cast<index_t>(blockIdx.x) * blockDim.x + threadIdx.x; i < numel; i += step) {
    index_t n, c, h, w;
    out.decode(i, n, c, h, w);
    fn(static_cast<int64_t>(n), static_cast<int64_t>(c), static_cast<int64_t>(h), static_cast<int64_t>(w),
       static_cast<int64_t>(i));
  }
}

// Launches fn(n, c, h, w, offset) for every element of `out` on the current stream. 32-bit index
// arithmetic when it fits, since 64-bit division is several times slower on the GPU.
template <typename F>
void for_each_element(const Layout4d& out, const F& fn) {
  const int64_t numel = out.numel();
  if (numel == 0) return;
  constexpr int threads = 256;
  const int64_t max_blocks = static_cast<int64_t>(at::cuda::getCurrentDeviceProperties()->multiProcessorCount) * 32;
  const int blocks = static_cast<int>(std::min<int64_t>((numel + threads - 1) / threads, max_blocks));
  auto stream = at::cuda::getCurrentCUDAStream();
  // The grid-stride loop may step past numel by up to one grid before it stops: keep that in range.
  if (numel + static_cast<int64_t>(blocks) * threads <= std::numeric_limits<int32_t>::max()) {
    for_each_element_kernel<int32_t><<<blocks, threads, 0, stream>>>(out, static_cast<int32_t>(numel), fn);
  } else {
    for_each_element_kernel<int64_t><<<blocks, threads, 0, stream>>>(out, numel, fn);
  }
  C10_CUDA_KERNEL_LAUNCH_CHECK();
}

}  // namespace zfcuda::cuda
